"""The `arena-tui` command line: one click group, its commands listed here explicitly.

Every command is a thin shell over `core`: parse options, open the store through
`core.store.Store`, call the engine, print the result. Anything a user can get wrong is
reported as one line on stderr with exit code 2, never a traceback (`common.ArenaError`).
Each module holds one group of commands; `common` holds what they share.

A command's module is imported only when that command runs (or its own --help is asked
for): `arena-tui evaluate` does not load the TUI, the bot clients or the scoring code.
`arena-tui --help` lists every command from `COMMANDS` below, whose summaries are the
first sentence of each command's help (tests/cli/test_cli_lazy.py keeps them equal).
"""

from __future__ import annotations

import click

from arena_tui.cli.common import ArenaGroup
from core import __version__

# name -> (module, attribute, summary: the first sentence of the command's help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": ("arena_tui.cli.running", "run",
            "Run a tournament headless into the store."),
    "watch": ("arena_tui.cli.running", "watch",
              "Watch a tournament live: the grid filling in, conversations streaming, bot health."),
    "bots": ("arena_tui.cli.running", "bots",
             "Inspect the bots of a tournament config."),
    "evaluate": ("arena_tui.cli.evaluation", "evaluate",
                 "Run the static stage (bandit) on new conversations and build the review queue."),
    "judge": ("arena_tui.cli.evaluation", "judge",
              "Run the configured judges over the review queue."),
    "annotate": ("arena_tui.cli.labelling", "annotate",
                 "Label the review queue of STORE in a keyboard-first terminal UI."),
    "queue": ("arena_tui.cli.labelling", "queue",
              "List the conversations assigned to an annotator (to do first), with matchup and findings."),
    "label": ("arena_tui.cli.labelling", "label",
              "Label one conversation (scriptable; the TUI does the same)."),
    "agreement": ("arena_tui.cli.evaluation", "agreement",
                  "Inter-annotator agreement: Fleiss' κ, Krippendorff's α, percent agreement, pairwise Cohen's κ, "
                  "each annotator against the majority, with 95 % bootstrap intervals over items."),
    "pack": ("arena_tui.cli.labelling", "pack",
             "Annotation packs: label on a machine with no network, merge the labels back."),
    "labels": ("arena_tui.cli.labelling", "labels",
               "Label events as JSONL: export them, import them (idempotent)."),
    "utility": ("arena_tui.cli.scoring", "utility",
                "Measure the defenders' utility on the config's [utility] sets."),
    "leaderboard": ("arena_tui.cli.scoring", "leaderboard",
                    "Rank attackers and defenders with 95 % intervals (formulas: docs/scoring.md)."),
    "season": ("arena_tui.cli.season", "season",
               "Seasons: tournaments grouped as rounds (practice and official), each team's progression with "
               "intervals, ratings, successes by reason, agreement and diversity per round (docs/seasons.md)."),
    "export": ("arena_tui.cli.data", "export_command",
               "Write conversations as fine-tuning data (the defender is the assistant), or preference pairs, "
               "with a dataset card (README.md) beside them."),
    "safe-reply": ("arena_tui.cli.data", "safe_reply_command",
                   "Record a safe reply an annotator wrote in place of a defender reply: the chosen side of the "
                   "preference pair built at that turn (`arena-tui export --format preference`)."),
    "import": ("arena_tui.cli.data", "import_command",
               "Load conversations from a JSONL FILE (chat or native format) as a new tournament."),
    "feedback": ("arena_tui.cli.data", "feedback_command",
                 "Write one team's conversations, verdicts, findings and standings (and the human labels where the "
                 "tournament shares them) as JSONL plus a markdown summary; with --season, its progression over "
                 "the season too."),
    "report": ("arena_tui.cli.data", "report_command",
               "Dataset report: counts and attack successes by reason, agreement, semantic diversity, analyzer audit."),
}


@click.group(cls=ArenaGroup, lazy_commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="arena-tui")
def main() -> None:
    """Adversarial Arena: attacker-vs-defender chatbot tournaments.

    Run a tournament, watch it live, evaluate the conversations, annotate them, rank the
    teams and export fine-tuning data. With no CONFIG, commands use the bundled sample
    tournament; with no --db, the store is ./arena.db.
    """
