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
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from arena_tui.safe import inert_text
from core import __version__
from core.bots import BotFailure, check_bot
from core.config import ConfigError, TournamentConfig, load_config
from core.orchestrator import RunControl, RunError, run_tournament
from core.store import Store, StoreError

DEFAULT_DB = "arena.db"


class ArenaError(click.ClickException):
    """A problem the user can fix: printed as one line, exit code 2."""

    exit_code = 2

    def show(self, file=None) -> None:  # noqa: ANN001 - click's signature
        click.echo(f"arena-tui: {self.message}", err=True)


def sample_config_path() -> Path:
    """The bundled sample tournament's config."""
    from sample_data import SAMPLE_CONFIG

    return SAMPLE_CONFIG


def read_config(path: str | None, **overrides: object) -> TournamentConfig:
    """Load CONFIG (or the bundled sample), apply CLI overrides, turn problems into ArenaError."""
    try:
        config = load_config(path or sample_config_path())
    except ConfigError as exc:
        raise ArenaError(str(exc)) from None
    changes = {k: v for k, v in overrides.items() if v is not None}
    return config.with_overrides(**changes) if changes else config


def open_store(path: str | Path, *, create: bool = True) -> Store:
    """Open the store for writing, turning problems into ArenaError."""
    try:
        return Store.open(path, create=create)
    except StoreError as exc:
        raise ArenaError(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    if retry_incomplete and not resume:
        raise ArenaError("--retry-incomplete only makes sense with --resume")
    from arena_tui.headless import HeadlessReporter, print_summary

    console = Console(highlight=False, stderr=False)
    store = open_store(db)
    try:
        existing = store.tournament(cfg.name)
        if existing is not None and not resume:
            raise ArenaError(
                f"tournament {cfg.name!r} is already in {db}; use --resume to continue it, "
                "--name to run it again under another name, or another --db"
            )
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
    table = Table(title=f"Bots of {cfg.name}", title_justify="left")
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


if __name__ == "__main__":  # pragma: no cover
    main()
