"""What every command shares: the one-line error, opening the config and the store,
the common options, tournament selection, console and progress display."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from arena_tui.common.safe import inert

if TYPE_CHECKING:  # the engine (numpy, bandit, sqlite) loads only when a command runs
    from core.store import Store, TournamentRow
    from core.tournament.config import TournamentConfig

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


def read_config(path: str | None, *, starts_bots: bool = False, **overrides: object) -> TournamentConfig:
    """Load CONFIG (or the bundled sample), apply CLI overrides, turn problems into ArenaError.

    `starts_bots`: the command will start the config's bots, so check their isolation
    first (`check_isolation`)."""
    from core.tournament.config import ConfigError, load_config

    try:
        config = load_config(path or sample_config_path())
    except ConfigError as exc:
        raise ArenaError(str(exc)) from None
    changes = {k: v for k, v in overrides.items() if v is not None}
    try:
        config = config.with_overrides(**changes) if changes else config
    except ConfigError as exc:  # an override from the command line: --name
        raise ArenaError(f"--{exc.key}: {exc.problem}") from None
    if starts_bots:
        check_isolation(config)
    return config


def check_isolation(config: TournamentConfig) -> None:
    """Before any team bot starts: refuse (ArenaError) when a bot's isolation is
    "required" and the sandbox cannot run here; when it is "auto", say once on stderr
    which protections are missing (docs/config.md#isolation)."""
    from core.tournament import isolation

    bots = [b for b in (*config.bots, config.utility.base) if b is not None and b.kind != "http"]
    modes = {b.isolation for b in bots}
    try:
        for mode in ("required", "auto"):
            if mode in modes:
                message = isolation.check(mode)
                if message:
                    click.echo(f"arena-tui: warning: {message}", err=True)
                    break
    except isolation.IsolationError as exc:
        raise ArenaError(f"{config.source or config.name}: {exc}") from None


def open_store(path: str | Path, *, create: bool = True) -> Store:
    """Open the store for writing, turning problems into ArenaError (a damaged store
    among them: `Store.open` checks it before anything writes into it). A store of an
    older schema is upgraded in place, and stderr says so once."""
    from core.store import SCHEMA_VERSION, Store, StoreError

    context = click.get_current_context(silent=True)
    if context is not None:
        context.meta[_STORE_KEY] = str(path)
    try:
        store = Store.open(path, create=create)
    except StoreError as exc:
        raise ArenaError(str(exc)) from None
    if store.upgraded_from is not None:
        click.echo(inert(f"arena-tui: upgraded {path} from store schema {store.upgraded_from} to {SCHEMA_VERSION}"
                         " (older arena-tui releases can no longer open it)"), err=True)
    return store


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
    (pages `quick_check` passed at open, or damage that came later) is one line, exit 2.

    `lazy_commands` maps a command's name to (module, attribute, summary): the module is
    imported when the command is looked up to run (or for its own help), and the group's
    help lists the command with its summary without importing anything."""

    def __init__(self, *args: Any, lazy_commands: Mapping[str, tuple[str, str, str]] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            module, attribute, _ = self.lazy_commands[cmd_name]
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's listing, with a command not imported yet shown by its summary (click
        shortens it as it shortens the command's own help)."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            if command is None:
                command = click.Command(name, help=self.lazy_commands[name][2])
            if not command.hidden:
                rows.append((name, command))
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            with formatter.section("Commands"):
                formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in rows])

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


def make_console() -> Console:
    return Console(highlight=False)


def make_progress(console: Console, description: str):  # noqa: ANN202
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    # markup=False: the description may hold names (hostile text). Off the terminal (a
    # pipe, a log file) there is no progress display at all.
    return Progress(TextColumn(description, markup=False), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True, disable=not console.is_terminal)
