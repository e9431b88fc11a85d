"""The `arena-tui` command line: one click group, its commands wired here explicitly.

Every command is a thin shell over `core`: parse options, open the store through
`core.store.Store`, call the engine, print the result. Anything a user can get wrong is
reported as one line on stderr with exit code 2, never a traceback (`common.ArenaError`).
Each module holds one group of commands; `common` holds what they share.
"""

from __future__ import annotations

import click

from arena_tui.cli import data, evaluation, labelling, running, scoring, season
from arena_tui.cli.common import ArenaGroup
from core import __version__


@click.group(cls=ArenaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="arena-tui")
def main() -> None:
    """Adversarial Arena: attacker-vs-defender chatbot tournaments.

    Run a tournament, watch it live, evaluate the conversations, annotate them, rank the
    teams and export fine-tuning data. With no CONFIG, commands use the bundled sample
    tournament; with no --db, the store is ./arena.db.
    """


for command in (
    running.run, running.watch, running.bots,
    evaluation.evaluate, evaluation.judge, labelling.annotate, labelling.queue, labelling.label, evaluation.agreement,
    labelling.pack, labelling.labels,
    scoring.utility, scoring.leaderboard, season.season,
    data.export_command, data.safe_reply_command, data.import_command, data.feedback_command, data.report_command,
):
    main.add_command(command)
