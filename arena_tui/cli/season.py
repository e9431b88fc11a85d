"""`arena-tui season`: group tournaments into a season and look at it across its rounds.

`season add` appends rounds, `season list` lists seasons, `season show` prints the
season's tables (or JSON), `season view` opens the season screen with its charts.
Thin shells over `core.season.summary`; every name is shown through `inert_text`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.text import Text

from arena_tui.cli.common import DB_OPTION, ArenaError, existing_store, make_progress
from arena_tui.common.safe import inert, inert_text

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
                                progress=lambda step: progress.update(task, step=inert(step)))
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


def _cell(value: float | None, interval: Sequence[float] | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if interval is None else f"{value:.1f}\n[{interval[0]:.1f}, {interval[1]:.1f}]"


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"


def print_season(console: Console, summary: SeasonSummary) -> None:
    """Every table of the season, in the order `season show` prints them."""
    from arena_tui.cli.scoring import _table, print_ratings

    rounds = summary.rounds
    console.print(inert_text(f"Season {summary.name}: " + ", ".join(f"{r.position}. {r.tournament} ({r.kind})"
                                                                   for r in rounds)))
    if summary.provisional:
        console.print("PROVISIONAL: some rounds have undecided or unfinished conversations (counted as not attack "
                      "successes until decided; docs/scoring.md#provisional-standings).", style="bold yellow")
    heads = [(f"{r.position}. {inert(r.tournament)}\n{r.kind}", "right") for r in rounds]
    for side, teams, what in (("attacker", summary.attackers, "score (ASR × diversity)"),
                              ("defender", summary.defenders, "score (DSR × (U/100)^4), or DSR % without utility")):
        rows = []
        for t in teams:
            cells = []
            for r in t.rounds:
                if r is None:
                    cells.append("")
                elif r.score is not None:
                    cells.append(_cell(r.score, r.interval))
                else:
                    cells.append(_cell(r.rate, r.rate_interval) + (" DSR" if side == "defender" else ""))
            trend = t.trend()
            rows.append([inert_text(t.name), *cells, "-" if trend is None else f"{trend:+.1f}"])
        console.print(_table(f"\n{side.capitalize()}s per round: {what}, 95 % interval", [
            (side, "left"), *heads, ("trend", "right")], rows))
    if summary.changes:
        for c in summary.changes:
            console.print(inert_text(f"changed in round {c.position} ({c.tournament}): {c.side} {c.bot}: "
                                     f"{c.before} -> {c.after}", max_line=200))
    if summary.ratings is not None:
        console.print(Text("\nBradley-Terry ratings over the season", style="bold"))
        print_ratings(console, summary.ratings)
    if summary.official_ratings is not None:
        console.print(Text("\nBradley-Terry ratings over the official rounds", style="bold"))
        print_ratings(console, summary.official_ratings)
    report = summary.report
    console.print(_table("\nAttack successes by reason per round (Fig. 4)", [
        ("round", "left"), ("kind", "left"), ("complete", "right"), ("vulnerable\ncode", "right"),
        ("malicious\nassistance", "right"), ("defended", "right"), ("undecided", "right"), ("incomplete", "right")],
        [[inert_text(c.tournament), c.kind, str(c.complete), str(c.vulnerable_code), str(c.malicious_assistance),
          str(c.defended), str(c.undecided), str(c.incomplete)] for c in report.counts]))
    console.print(_table("Agreement per round (Table 1; 95 % bootstrap intervals)", [
        ("round", "left"), ("items", "right"), ("Fleiss' κ", "right"), ("Krippendorff's α", "right")],
        [[inert_text(a.tournament), str(a.items), _estimate(a.fleiss_kappa), _estimate(a.krippendorff_alpha)]
         for a in report.agreement]))
    console.print(_table(f"Diversity (Table 2; mean {inert(report.embedding)})", [
        ("level", "left"), ("groups", "right"), ("texts", "right"), ("within", "right"), ("between", "right")],
        [["round" if d.level == "tournament" else d.level, str(d.groups), str(d.texts), _num(d.within),
          _num(d.between)] for d in report.diversity]))
    if summary.pairwise is not None:
        names = [str(a) for a in summary.pairwise.annotators]
        rows = [[inert_text(names[i]), *("-" if e is None else _num(e.value, 2) for e in row)]
                for i, row in enumerate(summary.pairwise.kappa)]
        console.print(_table("Pairwise Cohen's κ over the season", [("annotator", "left"),
                                                                    *((inert(n), "right") for n in names)], rows))
    if summary.latency:
        console.print(_table("Response times per round (seconds)", [
            ("round", "right"), ("side", "left"), ("bot", "left"), ("turns", "right"), ("mean", "right"),
            ("median", "right"), ("p95", "right")],
            [[str(s.position), s.side, inert_text(s.bot), str(s.turns), _num(s.mean), _num(s.median), _num(s.p95)]
             for s in summary.latency]))


def _estimate(e: object) -> str:
    value, low, high = e.value, e.low, e.high  # type: ignore[attr-defined]
    if value != value:
        return "-"
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"
