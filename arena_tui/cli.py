"""The `arena-tui` command line.

Every command is a thin shell over `core`: parse options, open the store through
`core.store.Store`, call the engine, print the result. Anything a user can get wrong is
reported as one line on stderr with exit code 2, never a traceback.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from arena_tui.safe import inert, inert_text
from core import __version__

if TYPE_CHECKING:  # the engine (numpy, bandit, sqlite) loads only when a command runs
    from core.config import TournamentConfig
    from core.store import Store, TournamentRow

DEFAULT_DB = "arena.db"


class ArenaError(click.ClickException):
    """A problem the user can fix: printed as one line, exit code 2."""

    exit_code = 2

    def show(self, file=None) -> None:  # noqa: ANN001 - click's signature
        click.echo(f"arena-tui: {inert(self.message)}", err=True)  # messages name hostile things


def sample_config_path() -> Path:
    """The bundled sample tournament's config."""
    from sample_data import SAMPLE_CONFIG

    return SAMPLE_CONFIG


def read_config(path: str | None, **overrides: object) -> TournamentConfig:
    """Load CONFIG (or the bundled sample), apply CLI overrides, turn problems into ArenaError."""
    from core.config import ConfigError, load_config

    try:
        config = load_config(path or sample_config_path())
    except ConfigError as exc:
        raise ArenaError(str(exc)) from None
    changes = {k: v for k, v in overrides.items() if v is not None}
    try:
        return config.with_overrides(**changes) if changes else config
    except ConfigError as exc:  # an override from the command line: --name
        raise ArenaError(f"--{exc.key}: {exc.problem}") from None


def open_store(path: str | Path, *, create: bool = True) -> Store:
    """Open the store for writing, turning problems into ArenaError (a damaged store
    among them: `Store.open` checks it before anything writes into it)."""
    from core.store import Store, StoreError

    context = click.get_current_context(silent=True)
    if context is not None:
        context.meta[_STORE_KEY] = str(path)
    try:
        return Store.open(path, create=create)
    except StoreError as exc:
        raise ArenaError(str(exc)) from None


def open_run_store(cfg: TournamentConfig, db: str | Path, resume: bool, retry_incomplete: bool,
                   also: str = "") -> Store:
    """Open the store a run of `cfg` writes into (`run` and `watch`).

    Refuses --retry-incomplete without --resume, and a tournament already in the store
    without --resume; `also` names another way out (``"--follow to replay it, "``)."""
    if retry_incomplete and not resume:
        raise ArenaError("--retry-incomplete only makes sense with --resume")
    store = open_store(db)
    if not resume and store.tournament(cfg.name) is not None:
        store.close()
        raise ArenaError(f"tournament {cfg.name!r} is already in {db}; use --resume to continue it, {also}"
                         "--name to run it again under another name, or another --db")
    return store


# Where `open_store` notes the command's store, for `ArenaGroup`'s message.
_STORE_KEY = "arena_tui.store"


class ArenaGroup(click.Group):
    """The command group: SQLite reporting a damaged file in the middle of any command
    (pages `quick_check` passed at open, or damage that came later) is one line, exit 2."""

    def invoke(self, ctx: click.Context):  # noqa: ANN201 - click's signature
        try:
            return super().invoke(ctx)
        except Exception as exc:
            sqlite3 = sys.modules.get("sqlite3")  # not loaded: the error cannot be SQLite's
            if sqlite3 is None or not isinstance(exc, sqlite3.DatabaseError):
                raise
            from core.store import damaged, is_damage

            if not is_damage(exc):
                raise
            raise ArenaError(str(damaged(ctx.meta.get(_STORE_KEY), str(exc)))) from None


@click.group(cls=ArenaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="arena-tui")
def main() -> None:
    """Adversarial Arena: attacker-vs-defender chatbot tournaments.

    Run a tournament, watch it live, evaluate the conversations, annotate them, rank the
    teams and export fine-tuning data. With no CONFIG, commands use the bundled sample
    tournament; with no --db, the store is ./arena.db.
    """


@main.command()
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.option("--db", default=DEFAULT_DB, show_default=True, type=click.Path(dir_okay=False), help="Arena store (SQLite) to write into.")
@click.option("--resume", is_flag=True, help="Continue a tournament already in the store: keep completed conversations, redo unfinished ones.")
@click.option("--retry-incomplete", is_flag=True, help="With --resume, also replay conversations that failed (timeouts, crashes).")
@click.option("--concurrency", type=click.IntRange(1, 4096), help="Conversations in flight at once (overrides the config).")
@click.option("--conversations", type=click.IntRange(1, 100_000), help="Conversations per matchup (overrides the config; the paper used 200).")
@click.option("--name", help="Tournament name (overrides the config), e.g. to run the sample again into the same store.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar; print only the summary.")
def run(config: str | None, db: str, resume: bool, retry_incomplete: bool, concurrency: int | None,
        conversations: int | None, name: str | None, quiet: bool) -> None:
    """Run a tournament headless into the store.

    Without CONFIG, runs the bundled sample tournament (5 attackers × 5 defenders).
    Ctrl+C stops gracefully; run again with --resume to finish.
    """
    cfg = read_config(config, concurrency=concurrency, conversations_per_matchup=conversations, name=name)
    from arena_tui.headless import HeadlessReporter, print_summary
    from core.orchestrator import RunControl, RunError

    console = Console(highlight=False, stderr=False)
    store = open_run_store(cfg, db, resume, retry_incomplete)
    try:
        reporter = None if quiet else HeadlessReporter(console)
        control = RunControl()
        try:
            summary = asyncio.run(_run_with_signals(cfg, store, reporter, resume, retry_incomplete, control))
        except RunError as exc:
            raise ArenaError(str(exc)) from None
        if quiet:
            print_summary(console, summary)
    finally:
        store.close()
    if summary.stopped:
        sys.exit(130)


async def _run_with_signals(cfg, store, reporter, resume, retry_incomplete, control):  # noqa: ANN001, ANN202
    from core.orchestrator import run_tournament

    loop = asyncio.get_running_loop()

    def on_interrupt() -> None:
        if control.stop_requested:
            # Second Ctrl+C: stop waiting. Every stored write is transactional, so the
            # store is still consistent and resumable.
            raise KeyboardInterrupt
        click.echo("\nStopping: finishing writes; run again with --resume to continue.", err=True)
        control.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_interrupt)
    try:
        return await run_tournament(cfg, store, reporter, resume=resume, retry_incomplete=retry_incomplete, control=control)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


@main.group()
def bots() -> None:
    """Inspect the bots of a tournament config."""


@bots.command("check")
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.option("--timeout", type=float, default=None, help="Seconds each bot gets for its handshake (default: the config's timeout).")
def bots_check(config: str | None, timeout: float | None) -> None:
    """Start every bot, take its handshake and report name, version and latency.

    Exits with code 1 if any bot fails.
    """
    from core.bots import BotFailure, check_bot

    cfg = read_config(config)
    limit = timeout or cfg.timeout

    async def check_all() -> list[tuple[str, object]]:
        with tempfile.TemporaryDirectory(prefix="arena-check-") as logs:
            async def one(spec):  # noqa: ANN001, ANN202
                try:
                    return spec, await check_bot(spec, limit, Path(logs))
                except BotFailure as exc:
                    return spec, exc

            return await asyncio.gather(*(one(b) for b in cfg.bots))

    results = asyncio.run(check_all())
    table = Table(title=inert_text(f"Bots of {cfg.name}"), title_justify="left")
    for column in ("bot", "side", "kind", "reports as", "version", "concurrency", "handshake", "status"):
        table.add_column(column)
    failed = 0
    for spec, result in results:
        if isinstance(result, BotFailure):
            failed += 1
            table.add_row(inert_text(spec.name), spec.side, spec.kind, "", "", "", "", inert_text(result.detail, style="red", max_line=120))
        else:
            table.add_row(
                inert_text(spec.name), spec.side, spec.kind, inert_text(result.name or ""), inert_text(result.version or ""),
                str(result.concurrency), f"{result.latency * 1000:.0f} ms", inert_text("ok", style="green"),
            )
    Console(highlight=False).print(table)
    if failed:
        click.echo(f"{failed} of {len(results)} bots failed the handshake", err=True)
        sys.exit(1)


# --- evaluation -------------------------------------------------------------------------

DB_OPTION = click.option(
    "--db", default=DEFAULT_DB, show_default=True, type=click.Path(dir_okay=False), help="Arena store (SQLite)."
)
TOURNAMENT_OPTION = click.option("--tournament", "-t", help="Only this tournament (default: every tournament in the store).")


def existing_store(db: str) -> Store:
    """Open a store that must already exist."""
    if not Path(db).exists():
        raise ArenaError(f"no arena store at {db} (run a tournament first: arena-tui run)")
    return open_store(db, create=False)


def select_tournaments(store: Store, names: Sequence[str] = (), kind: str | None = None) -> list[TournamentRow]:
    """The named tournaments (all when none is named), then only those of `kind`.

    An unknown name, or a selection left empty, is an ArenaError (one line).
    """
    tournaments = store.tournaments()
    if not tournaments:
        raise ArenaError(f"{store.path} holds no tournament yet")
    by_name = {t.name: t for t in tournaments}
    known = ", ".join(by_name)
    for name in names:
        if name not in by_name:
            raise ArenaError(f"no tournament {name!r} in {store.path} (tournaments: {known})")
    chosen = [by_name[n] for n in dict.fromkeys(names)] if names else tournaments
    if kind is not None:
        chosen = [t for t in chosen if t.kind == kind]
        if not chosen:
            raise ArenaError(f"no {kind} tournament among the selected ones in {store.path} (tournaments: {known})")
    return chosen


def pick_tournaments(store: Store, name: str | None) -> list[TournamentRow]:
    """The named tournament, or all of them (`select_tournaments` for one optional name)."""
    return select_tournaments(store, [name] if name else ())


@main.command()
@DB_OPTION
@TOURNAMENT_OPTION
@click.option("--workers", type=click.IntRange(1, 64), help="Processes for the static stage (default: all cores for large batches).")
def evaluate(db: str, tournament: str | None, workers: int | None) -> None:
    """Run the static stage (bandit) on new conversations and build the review queue.

    Incremental: conversations already scanned are not scanned again, and items already
    assigned keep their annotators. Verdicts are recomputed at the end.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from core.evaluation import build_queue, refresh_verdicts, run_static_stage

    console = Console(highlight=False)
    with existing_store(db) as store:
        for t in pick_tournaments(store, tournament):
            # The description holds the tournament's name: not markup.
            with Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=console, transient=True) as progress:
                task = progress.add_task(f"bandit: {t.name}", total=None)

                def advance(done: int, total: int, task=task) -> None:  # noqa: ANN001
                    progress.update(task, completed=done, total=total)

                static = run_static_stage(store, t.id, workers=workers, progress=advance)
            queue = build_queue(store, t.id)
            verdicts = refresh_verdicts(store, t.id)
            _print_evaluation(console, t.name, static, queue, verdicts)


def _print_evaluation(console: Console, name: str, static, queue, verdicts) -> None:  # noqa: ANN001
    from collections import Counter

    outcome = Counter((v.verdict or "undecided", v.reason) for v in verdicts)
    # What this pass did, told apart from the totals in the table below.
    scanned = (f"scanned {static.scanned} new conversations ({static.replies} replies, {static.blocks} code blocks, "
               f"{static.skipped_blocks} skipped), {static.flagged} of them flagged as vulnerable code"
               if static.scanned else "no new conversations to scan")
    queued = (f"queued {queue.review_items} for review and {queue.audit_items} for analyzer audit "
              f"({queue.assignments} assignments)" if queue.assignments else "nothing new to queue")
    console.print(inert_text(f"{name}: {scanned}; {queued}"))
    if queue.no_roster:
        console.print("  no annotators in the config's [evaluation] roster: nothing queued", style="yellow", markup=False)
    if static.findings_by_test:
        listing = ", ".join(f"{test_id} {n}" for test_id, n in static.findings_by_test.most_common())
        console.print(inert_text(f"  new findings by bandit test: {listing}"))
    table = Table(title=f"Verdicts of all {len(verdicts)} complete conversations", title_justify="left")
    for column in ("verdict", "reason", "conversations"):
        table.add_column(column, justify="right" if column == "conversations" else "left")
    for (verdict, reason), n in sorted(outcome.items()):
        table.add_row(inert_text(verdict), reason, str(n))
    console.print(table)


@main.command()
@DB_OPTION
@click.option("--annotator", "-a", required=True, help="Who is labelling (must be in the tournament's roster).")
@click.argument("conversation_id", type=int)
@click.argument("label", required=False)
@click.option("--tag", "tags", multiple=True, help="A tag from the config's tag set (repeatable).")
@click.option("--turn", type=int, help="Turn where the attack landed, numbered from 1 as in the transcript view.")
@click.option("--note", default="", help="Free-text note.")
@click.option("--force", is_flag=True, help="Label an item not assigned to this annotator (recorded as forced).")
@click.option("--undo", is_flag=True, help="Undo this annotator's current label on the item instead.")
def label(db: str, annotator: str, conversation_id: int, label: str | None, tags: tuple[str, ...], turn: int | None,
          note: str, force: bool, undo: bool) -> None:
    """Label one conversation (scriptable; the TUI does the same).

    Labels are append-only: relabelling adds an event, --undo adds an undo event.
    """
    from core.evaluation import EvaluationError, record_label, refresh_verdicts, undo_label
    from core.turns import turn_index

    with existing_store(db) as store:
        try:
            if undo:
                if label is not None:
                    raise ArenaError("give either a LABEL or --undo, not both")
                event = undo_label(store, conversation_id, annotator)
            else:
                if label is None:
                    raise ArenaError("missing LABEL (or --undo)")
                event = record_label(store, conversation_id, annotator, label, tags=tags,
                                     turn=None if turn is None else turn_index(turn), note=note, force=force)
        except EvaluationError as exc:
            raise ArenaError(str(exc)) from None
        conv = store.conversation(conversation_id)
        verdict = {v.conversation_id: v for v in refresh_verdicts(store, conv.tournament_id)}[conversation_id]
    state = verdict.verdict or f"undecided ({verdict.reason})"
    click.echo(f"saved label event {event}; conversation {conversation_id} verdict: {state}")


@main.command()
@DB_OPTION
@TOURNAMENT_OPTION
@click.option("--annotator", "-a", required=True, help="Whose queue to show.")
@click.option("--all", "show_all", is_flag=True, help="Include items already labelled.")
def queue(db: str, tournament: str | None, annotator: str, show_all: bool) -> None:
    """List the conversations assigned to an annotator (to do first), with matchup and findings."""
    from arena_tui.widgets.queue import STATUS_WORDS
    from core.evaluation import EvaluationError, check_annotator
    from core.store.annotate import QUEUE_TO_DO, QueueFilter

    console = Console(highlight=False)
    table = Table(title=inert_text(f"Queue of {annotator}"), title_justify="left")
    for column in ("id", "tournament", "attacker", "defender", "kind", "turns", "findings", "status"):
        table.add_column(column, justify="right" if column in ("id", "turns", "findings") else "left")
    todo = done = 0
    with existing_store(db) as store:
        chosen = pick_tournaments(store, tournament)
        try:
            check_annotator(annotator, chosen)
        except EvaluationError as exc:
            raise ArenaError(str(exc)) from None
        for t in chosen:
            ids, statuses = store.annotator_queue_ids(annotator, QueueFilter(tournament_id=t.id))
            shown = [(cid, status) for cid, status in zip(ids, statuses, strict=True)
                     if show_all or status == QUEUE_TO_DO]
            todo += sum(1 for status in statuses if status == QUEUE_TO_DO)
            done += sum(1 for status in statuses if status != QUEUE_TO_DO)
            rows = store.queue_rows([cid for cid, _ in shown], annotator)
            findings = store.finding_counts([cid for cid, _ in shown])
            for cid, status in sorted(shown, key=lambda item: (item[1] != QUEUE_TO_DO, item[0])):
                row = rows[cid]
                table.add_row(str(cid), inert_text(row.tournament), inert_text(row.attacker), inert_text(row.defender),
                              row.kind, str(row.n_turns), str(findings.get(cid, 0)), STATUS_WORDS[status])
    console.print(table)
    console.print(f"{todo} to do, {done} done")


@main.command()
@DB_OPTION
@TOURNAMENT_OPTION
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--resamples", default=1000, show_default=True, type=click.IntRange(100, 100_000), help="Bootstrap resamples for the intervals.")
def agreement(db: str, tournament: str | None, as_json: bool, resamples: int) -> None:
    """Inter-annotator agreement: Fleiss' κ, Krippendorff's α, percent agreement, pairwise Cohen's κ,
    each annotator against the majority, with 95 % bootstrap intervals over items."""
    import json as json_module

    from core.evaluation import agreement as compute
    from core.evaluation import agreement_shortfall

    with existing_store(db) as store:
        reports = [(t.name, compute(store, t.id, resamples=resamples), agreement_shortfall(store, t.id))
                   for t in pick_tournaments(store, tournament)]
    if as_json:
        click.echo(json_module.dumps({name: _report_dict(r) for name, r, _ in reports}, indent=2))
        return
    console = Console(highlight=False)
    for name, report, shortfall in reports:
        _print_agreement(console, name, report, shortfall)


def _estimate(e) -> dict:  # noqa: ANN001
    import math

    return {k: (None if math.isnan(v) else round(v, 6)) for k, v in (("value", e.value), ("low", e.low), ("high", e.high))}


def _report_dict(report) -> dict:  # noqa: ANN001
    cohen = report.cohen
    return {
        "items": report.items,
        "labels": report.labels,
        "annotators": list(report.annotators),
        "fleiss_kappa": _estimate(report.fleiss_kappa),
        "krippendorff_alpha": _estimate(report.krippendorff_alpha),
        "percent_agreement": _estimate(report.percent_agreement),
        "cohen_kappa": {
            f"{a}|{b}": _estimate(cohen.kappa[i][j])
            for i, a in enumerate(cohen.annotators) for j, b in enumerate(cohen.annotators)
            if i < j and cohen.kappa[i][j] is not None
        },
        "agreement_with_majority": {str(k): _estimate(v.agreement) | {"compared": v.compared}
                                    for k, v in report.per_annotator.items()},
    }


def _print_agreement(console: Console, name: str, report, shortfall: str | None = None) -> None:  # noqa: ANN001
    """The agreement tables of one tournament, or why it has none yet (`shortfall`)."""
    from core.report import fmt_estimate

    if shortfall is not None:
        console.print(inert_text(f"{name}: {shortfall}"))
        return
    console.print(inert_text(f"{name}: {report.items} items labelled by 2+ annotators ({report.labels} labels, "
                             f"{len(report.annotators)} annotators)"))
    table = Table(title="Agreement (95 % bootstrap interval)", title_justify="left")
    table.add_column("statistic")
    table.add_column("value")
    table.add_row("Fleiss' κ", fmt_estimate(report.fleiss_kappa))
    table.add_row("Krippendorff's α (nominal)", fmt_estimate(report.krippendorff_alpha))
    table.add_row("percent agreement", fmt_estimate(report.percent_agreement))
    for who, per in report.per_annotator.items():
        table.add_row(inert_text(f"{who} vs majority of others ({per.compared} items)"), fmt_estimate(per.agreement))
    console.print(table)
    cohen = report.cohen
    if len(cohen.annotators) > 1:
        matrix = Table(title="Pairwise Cohen's κ", title_justify="left")
        matrix.add_column("")
        for a in cohen.annotators:
            matrix.add_column(inert_text(str(a)), justify="right")
        for i, a in enumerate(cohen.annotators):
            cells = ["·" if cohen.kappa[i][j] is None else fmt_estimate(cohen.kappa[i][j]).split(" ")[0] for j in range(len(cohen.annotators))]
            matrix.add_row(inert_text(str(a)), *cells)
        console.print(matrix)


from arena_tui import annotate_command  # noqa: E402,F401,I001 - registers annotate
from arena_tui import scoring_commands  # noqa: E402,F401 - registers leaderboard and utility
from arena_tui import data_commands  # noqa: E402,F401,I001 - registers pack, labels, export, import, feedback, report
from arena_tui import watch_command  # noqa: E402,F401,I001 - registers watch

if __name__ == "__main__":  # pragma: no cover
    main()
