"""`arena-tui season`: group tournaments into a season and look at it across its rounds.

`season add` appends rounds, `season list` lists seasons, `season show` prints the
season's tables (or JSON), `season view` opens the season screen with its charts.
Thin shells over `core.season.summary`; every name is shown through `inert_text`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click
from rich.console import Console

from arena_tui.cli.common import DB_OPTION, ArenaError, existing_store, make_progress
from arena_tui.common.safe import inert

if TYPE_CHECKING:
    from core.season.summary import SeasonSummary


@click.group()
def season() -> None:
    """Seasons: tournaments grouped as rounds (practice and official), each team's
    progression with intervals, ratings, successes by reason, agreement and diversity
    per round (docs/seasons.md)."""


@season.command("add")
@DB_OPTION
@click.argument("name")
@click.argument("tournaments", nargs=-1, required=True)
def add(db: str, name: str, tournaments: tuple[str, ...]) -> None:
    """Append TOURNAMENTS (names, in the order played) as the next rounds of season NAME
    (created if new). A round's kind is its tournament's (practice or official)."""
    from core.store import StoreError
    from core.tournament.config import NAME_MAX, name_problem

    problem = name_problem(name, NAME_MAX)
    if problem:
        raise ArenaError(f"season name {problem}")
    with existing_store(db) as store:
        by_name = {t.name: t for t in store.tournaments()}
        missing = [t for t in tournaments if t not in by_name]
        if missing:
            raise ArenaError(f"no tournament {missing[0]!r} in {db} (tournaments: {', '.join(by_name) or 'none'})")
        try:
            row = store.add_season_rounds(name, [by_name[t].id for t in tournaments])
        except StoreError as exc:
            raise ArenaError(str(exc)) from None
    click.echo(inert(f"season {name!r}: {row.rounds} rounds ({', '.join(tournaments)} added)"))


@season.command("list")
@DB_OPTION
def list_seasons(db: str) -> None:
    """The seasons in the store with their rounds."""
    with existing_store(db) as store:
        seasons = store.seasons()
        if not seasons:
            click.echo("no season yet (arena-tui season add NAME TOURNAMENT...)")
            return
        for s in seasons:
            rounds = store.season_rounds(s.id)
            click.echo(inert(f"{s.name}: " + ", ".join(f"{r.position}. {r.tournament} ({r.kind})" for r in rounds)))


def _load(db: str, name: str, resamples: int, seed: int, console: Console) -> SeasonSummary:
    from core.season.summary import SeasonError, build_season

    with existing_store(db) as store, make_progress(console, "season: {task.fields[step]}") as progress:
        task = progress.add_task("season", total=None, step="")
        try:
            return build_season(store, name, n_boot=resamples, seed=seed,
                                progress=lambda done, total, step: progress.update(
                                    task, completed=done, total=total, step=inert(step)))
        except SeasonError as exc:
            raise ArenaError(str(exc)) from None


RESAMPLES_OPTION = click.option("--resamples", default=1000, show_default=True, type=click.IntRange(100, 100_000),
                                help="Bootstrap resamples for the intervals.")
SEED_OPTION = click.option("--seed", default=0, show_default=True, type=int, help="Bootstrap seed.")


@season.command("show")
@DB_OPTION
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (stable keys).")
@RESAMPLES_OPTION
@SEED_OPTION
def show(db: str, name: str, as_json: bool, resamples: int, seed: int) -> None:
    """Print season NAME: each team's score per round with intervals, Bradley-Terry
    ratings over the season, attack successes by reason per round (Fig. 4), agreement
    per round (Table 1), diversity within and between attackers, defenders and rounds
    (Table 2), response times and the bots that changed between rounds."""
    summary = _load(db, name, resamples, seed, Console(highlight=False, stderr=True))
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2))
        return
    print_season(Console(highlight=False), summary)


@season.command("view")
@DB_OPTION
@click.argument("name")
@RESAMPLES_OPTION
def view(db: str, name: str, resamples: int) -> None:
    """Open season NAME in the terminal UI: standings per round, charts of the
    progression, successes by reason, pairwise agreement and response times."""
    from arena_tui.season.app import make_season_app

    with existing_store(db) as store:  # refuse an unknown season before the screen opens
        from core.season.summary import SeasonError, season_rounds

        try:
            season_rounds(store, name)
        except SeasonError as exc:
            raise ArenaError(str(exc)) from None
    make_season_app(db, name, n_boot=resamples).run()


# --- rendering ------------------------------------------------------------------------------


def print_season(console: Console, summary: SeasonSummary) -> None:
    """Every table of the season (`arena_tui.common.tables.season_renderables`)."""
    from arena_tui.common.tables import season_renderables

    for renderable in season_renderables(summary):
        console.print(renderable)
