"""Running tournaments: `run`, `watch` (and the factory of the watch app the tests
reuse), `bots check`."""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import click
from rich import box
from rich.console import Console
from rich.table import Table

from arena_tui.cli.common import (
    DEFAULT_DB,
    ArenaError,
    open_run_store,
    read_config,
)
from arena_tui.common.safe import inert_text

# The pace of `arena-tui watch` on the bundled sample (seconds before each turn, see
# `RunControl.pace`): the demo's conversations unfold over a few seconds each. `run` and a
# watched CONFIG go at full speed unless told otherwise.
SAMPLE_PACE_S = 0.2


@click.command()
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
    cfg = read_config(config, starts_bots=True, concurrency=concurrency, conversations_per_matchup=conversations, name=name)
    from arena_tui.cli.headless import HeadlessReporter, print_summary
    from core.tournament.orchestrator import RunControl, RunError

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
    from core.tournament.orchestrator import run_tournament

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


@click.group()
def bots() -> None:
    """Inspect the bots of a tournament config."""


@bots.command("check")
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.option("--timeout", type=float, default=None, help="Seconds each bot gets for its handshake (default: the config's timeout).")
def bots_check(config: str | None, timeout: float | None) -> None:
    """Start every bot, take its handshake and report name, version and latency.

    The bots of CONFIG (default: the bundled sample tournament). Exits with code 1 if
    any bot fails.
    """
    from core.tournament.bots import BotFailure, check_bot

    cfg = read_config(config, starts_bots=True)
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
    # "reports as" only when some bot's hello names it otherwise than the config does.
    renamed = any(not isinstance(r, BotFailure) and (r.name or spec.name) != spec.name for spec, r in results)
    table = Table(title=inert_text(f"Bots of {cfg.name}"), title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False, collapse_padding=True)
    longest = max((len(spec.name) for spec, _ in results), default=3)
    # Fits 80 columns with names of up to 18 characters (longer ones fold); "hello": how
    # long the handshake took.
    table.add_column("bot", overflow="fold", min_width=min(longest, 18))
    columns = ("side", "kind", *(["reports as"] if renamed else []), "version", "conc.", "hello", "isolation",
               "status")
    for column in columns:
        table.add_column(column, no_wrap=column in ("side", "kind", "conc.", "hello", "status"))
    failures = []
    for spec, result in results:
        if isinstance(result, BotFailure):
            failures.append((spec.name, result.detail))
            table.add_row(inert_text(spec.name), spec.side, spec.kind, *[""] * (len(columns) - 3),
                          inert_text("failed", style="red"))
        else:
            table.add_row(
                inert_text(spec.name), spec.side, spec.kind, *([inert_text(result.name or "")] if renamed else []),
                inert_text(result.version or ""), str(result.concurrency), f"{result.latency * 1000:.0f} ms",
                result.isolation or "-", inert_text("ok", style="green"),
            )
    console = Console(highlight=False)
    console.print(table)
    # Why a bot failed, whole, under the table (a column of it was unreadable at 80 columns).
    for name, detail in failures:
        console.print(inert_text(f"{name}: ", style="bold") + inert_text(detail, style="red", max_line=300))
    failed = len(failures)
    if failed:
        click.echo(f"{failed} of {len(results)} bots failed the handshake", err=True)
        sys.exit(1)


def make_watch_app(config: str | None = None, db: str | Path = DEFAULT_DB, *, follow: bool = False,
                   tournament: str | None = None, resume: bool = False, retry_incomplete: bool = False,
                   overrides: dict[str, object] | None = None, pace: float | None = None,
                   clock: Callable[[], float] = time.time):  # noqa: ANN201 - keeps Textual out of CLI start-up
    """The watch app; used by the command and by the tests.

    `follow`: follow the store at `db` read-only (it may not exist yet). Otherwise run
    CONFIG (or the bundled sample) into `db` in this process, at `pace` (None: the demo
    pace `SAMPLE_PACE_S` for the bundled sample, full speed for a CONFIG). Raises
    `ArenaError` for anything the user can fix, before any UI starts.
    """
    from arena_tui.watch.app import WatchApp
    from arena_tui.watch.screen import InProcessRun
    from core.store import Store, StoreError

    if follow:
        if config is not None:
            raise ArenaError("--follow watches a store another process writes; give no CONFIG")
        if resume or retry_incomplete:
            raise ArenaError("--resume only applies when the tournament runs here")
        path = Path(db)
        if path.is_dir():
            raise ArenaError(f"{db} is a directory, not an arena store")
        if path.exists():
            try:
                with Store.open_readonly(path) as store:
                    if tournament is not None and store.tournament(tournament) is None:
                        known = ", ".join(t.name for t in store.tournaments()) or "none yet"
                        raise ArenaError(f"no tournament {tournament!r} in {db} (tournaments: {known})")
            except StoreError as exc:
                raise ArenaError(str(exc)) from None
        return WatchApp(path, tournament, None, clock)
    if tournament is not None:
        raise ArenaError("--tournament picks what to follow; to run a tournament under a name, use --name")
    cfg = read_config(config, starts_bots=True, **(overrides or {}))
    store = open_run_store(cfg, db, resume, retry_incomplete, also="--follow to replay it, ")
    if pace is None:
        pace = SAMPLE_PACE_S if config is None else 0.0
    return WatchApp(Path(db), cfg.name, InProcessRun(cfg, store, resume, retry_incomplete, pace), clock)


@click.command()
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.option("--db", default=None, type=click.Path(dir_okay=False),
              help=f"Arena store (SQLite). Alone (no CONFIG): the store to follow. [default: {DEFAULT_DB}]")
@click.option("--follow/--run", "follow", default=None,
              help="Follow a store another process writes (read-only), or run the tournament here. "
                   "Default: run when CONFIG is given or no --db, follow when only --db is given.")
@click.option("--tournament", "-t", help="With --follow: the tournament to watch in a store holding several (default: the newest).")
@click.option("--resume", is_flag=True, help="Running here: continue a tournament already in the store.")
@click.option("--retry-incomplete", is_flag=True, help="With --resume, also replay conversations that failed.")
@click.option("--concurrency", type=click.IntRange(1, 4096), help="Running here: conversations in flight at once (overrides the config).")
@click.option("--conversations", type=click.IntRange(1, 100_000), help="Running here: conversations per matchup (overrides the config).")
@click.option("--name", help="Running here: tournament name (overrides the config).")
@click.option("--pace", type=click.FloatRange(0, 60), default=None,
              help=f"Running here: seconds each conversation waits before each turn (0.5x-1.5x), so the run unfolds "
                   f"at a speed you can follow; 0 for full speed. Default: {SAMPLE_PACE_S:g} for the bundled sample, 0 for a CONFIG.")
def watch(config: str | None, db: str | None, follow: bool | None, tournament: str | None, resume: bool,
          retry_incomplete: bool, concurrency: int | None, conversations: int | None, name: str | None,
          pace: float | None) -> None:
    """Watch a tournament live: the grid filling in, conversations streaming, bot health.

    \b
    arena-tui watch                  run the bundled sample here, into ./arena.db, and watch it
    arena-tui watch CONFIG           run CONFIG here and watch it
    arena-tui watch --db arena.db    follow a run that `arena-tui run` writes elsewhere
                                     (or replay a finished one); never writes to the store

    Keys: space pause/resume, s stop (resumable), r resume after a stop, enter on a grid
    cell lists its conversations, enter on a conversation pins it, f follow newest/pin,
    g/c/x/l/h go to the grid/conversations/transcript/standings/bot health, z zoom,
    ? every key, q quit (a run here is stopped gracefully first).
    """
    if follow is None:
        follow = config is None and db is not None
    overrides = {"concurrency": concurrency, "conversations_per_matchup": conversations, "name": name}
    if follow and (any(v is not None for v in overrides.values()) or pace is not None):
        raise ArenaError("--concurrency, --conversations, --name and --pace apply when the tournament runs here, not with --follow")
    app = make_watch_app(config, db or DEFAULT_DB, follow=follow, tournament=tournament, resume=resume,
                         retry_incomplete=retry_incomplete, overrides=overrides, pace=pace)
    try:
        app.run()
    finally:
        if app.run_spec is not None:
            app.run_spec.store.close()
