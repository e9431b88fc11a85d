"""`arena-tui watch`: a tournament live, run in this process or followed in another's store."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import click

from arena_tui.cli import DEFAULT_DB, ArenaError, main, open_run_store, read_config


def make_watch_app(config: str | None = None, db: str | Path = DEFAULT_DB, *, follow: bool = False,
                   tournament: str | None = None, resume: bool = False, retry_incomplete: bool = False,
                   overrides: dict[str, object] | None = None,
                   clock: Callable[[], float] = time.time):  # noqa: ANN201 - keeps Textual out of CLI start-up
    """The watch app; used by the command and by the tests.

    `follow`: follow the store at `db` read-only (it may not exist yet). Otherwise run
    CONFIG (or the bundled sample) into `db` in this process. Raises `ArenaError` for
    anything the user can fix, before any UI starts.
    """
    from arena_tui.screens.watch import InProcessRun
    from arena_tui.watch_app import WatchApp
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
    cfg = read_config(config, **(overrides or {}))
    store = open_run_store(cfg, db, resume, retry_incomplete, also="--follow to replay it, ")
    return WatchApp(Path(db), cfg.name, InProcessRun(cfg, store, resume, retry_incomplete), clock)


@main.command()
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
def watch(config: str | None, db: str | None, follow: bool | None, tournament: str | None, resume: bool,
          retry_incomplete: bool, concurrency: int | None, conversations: int | None, name: str | None) -> None:
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
    if follow and any(v is not None for v in overrides.values()):
        raise ArenaError("--concurrency, --conversations and --name apply when the tournament runs here, not with --follow")
    app = make_watch_app(config, db or DEFAULT_DB, follow=follow, tournament=tournament, resume=resume,
                         retry_incomplete=retry_incomplete, overrides=overrides)
    try:
        app.run()
    finally:
        if app.run_spec is not None:
            app.run_spec.store.close()
