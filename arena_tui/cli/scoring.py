"""`arena-tui leaderboard` and `arena-tui utility`: the scores, as tables or JSON.

Thin shells over `core.scoring.leaderboard.compute_leaderboard` and
`core.scoring.utility_run.run_config_utility`; every name from a config or the store is shown
through `inert_text`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from arena_tui.cli.common import (
    DB_OPTION,
    ArenaError,
    existing_store,
    open_store,
    read_config,
    select_tournaments,
)
from arena_tui.common.safe import inert, inert_text
from arena_tui.common.tables import compact_table, ratings_renderables
from core.tournament.config import KINDS

if TYPE_CHECKING:  # numpy and the engine load only when a command runs
    from core.scoring.leaderboard import Leaderboard, MatchupCell
    from core.scoring.ratings import Ratings
    from core.scoring.techniques import TechniqueCell
    from core.store import TokenUsage


@click.command()
@DB_OPTION
@click.option("--tournament", "-t", "tournaments", multiple=True,
              help="A tournament to rank (repeatable; default: every tournament in the store).")
@click.option("--kind", type=click.Choice(KINDS), help="Only tournaments of this kind.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (stable keys).")
@click.option("--resamples", default=1000, show_default=True, type=click.IntRange(100, 100_000),
              help="Bootstrap resamples for the intervals.")
@click.option("--seed", default=0, show_default=True, type=int, help="Bootstrap seed (same seed, same intervals).")
@click.option("--no-grid", is_flag=True, help="Leave out the attacker × defender ASR grid.")
@click.option("--no-ratings", is_flag=True, help="Leave out the Bradley-Terry ratings.")
def leaderboard(db: str, tournaments: tuple[str, ...], kind: str | None, as_json: bool, resamples: int, seed: int,
                no_grid: bool, no_ratings: bool) -> None:
    """Rank attackers and defenders with 95 % intervals (formulas: docs/scoring.md).

    ASR/DSR are over complete conversations; incomplete ones are counted, never scored.
    While conversations are undecided they count as not (yet) attack successes, each
    rate comes with the range it can still reach, and the ranking is marked
    provisional. Across several tournaments every (attacker, defender, tournament) is a
    matchup of its own.

    Beside the official scores: Bradley-Terry ratings of both sides on one Elo scale
    with every complete conversation a game (an undecided one a defence until it is
    decided; a team pooled over the tournaments), with bootstrap intervals and the
    probability that one team beats another.
    """
    from core.scoring.leaderboard import compute_leaderboard
    from core.scoring.ratings import compute_ratings

    with existing_store(db) as store:
        chosen = select_tournaments(store, tournaments, kind)
        ids = [t.id for t in chosen]
        board = compute_leaderboard(store, ids, n_boot=resamples, seed=seed)
        ratings = None if no_ratings else compute_ratings(store, ids, n_boot=resamples, seed=seed)
        usage = store.token_usage(ids)
    if as_json:
        data = board.to_dict()
        if ratings is not None:
            data["ratings"] = ratings.to_dict()
        # What each bot's replies cost, as the bots reported it (LLM usage; zeros otherwise).
        data["tokens"] = [token_record(u) for u in usage]
        click.echo(json.dumps(data, indent=2))
        return
    console = Console(highlight=False)
    print_leaderboard(console, board, grid=not no_grid)
    if ratings is not None:
        print_ratings(console, ratings, board)


def print_ratings(console: Console, ratings: Ratings, board: Leaderboard | None = None) -> None:
    """The Bradley-Terry ratings of both sides (with each team's official rank when a
    leaderboard is given) and P(attacker beats defender)."""
    for renderable in ratings_renderables(ratings, board):
        console.print(renderable)


# --- rendering ------------------------------------------------------------------------------


def token_record(usage: TokenUsage) -> dict[str, object]:
    """One bot's token usage in one tournament, as `leaderboard --json` gives it."""
    return {"tournament": usage.tournament, "bot": usage.bot, "side": usage.side, "replies": usage.replies,
            "replies_with_usage": usage.replies_with_usage, "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens, "tokens": usage.tokens, "truncated": usage.truncated}


def _value(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _with_interval(value: float | None, interval: tuple[float, float] | None) -> str:
    if value is None:
        return "-"
    if interval is None:
        return f"{value:.1f}"
    return f"{value:.1f}\n[{interval[0]:.1f}, {interval[1]:.1f}]"


def _range(bounds: tuple[float, float] | None) -> str:
    return "-" if bounds is None else f"{bounds[0]:.1f}–{bounds[1]:.1f}"


def _conversations(complete: int, incomplete: int, undecided: int) -> str:
    return f"{complete} {incomplete}✗ {undecided}?"


def _utility(utility: float | None, u: float | None, u_base: float | None) -> str:
    if utility is None:
        return "-"
    return f"{utility:.1f}" if u is None or u_base is None else f"{utility:.1f}\n{u:.1f} / {u_base:.1f}"


def _overlap_note(names: Sequence[str], rank_of: dict[str, int | None]) -> str:
    """The ranks of the teams whose intervals overlap (names are in the same table)."""
    return ",".join(str(rank_of.get(n)) for n in names) if names else "-"


_table = compact_table  # the tables of this module and `season` share one layout


def print_leaderboard(console: Console, board: Leaderboard, *, grid: bool = True) -> None:
    """Attackers, defenders and (optionally) the ASR grid of each tournament, with notes."""
    level = f"{board.level * 100:.0f} %"
    console.print(inert_text(f"Leaderboard of {', '.join(board.tournaments)}: {len(board.matchups)} matchups; "
                             f"[{level} intervals] from {board.n_boot} bootstrap resamples (seed {board.seed}); "
                             "m. = scored matchups; conv. = complete conversations (✗ incomplete, ? undecided); "
                             "overlaps = ranks of the teams whose score intervals overlap"))
    provisional = board.provisional
    if provisional:
        console.print(provisional_note(board), style="bold yellow")
    marker = " (provisional)" if provisional else ""

    rank_of = {a.name: a.rank for a in board.attackers}
    rows = [
        ["-" if a.rank is None else str(a.rank), inert_text(a.name), _with_interval(a.score, a.interval),
         _with_interval(a.asr, a.asr_interval), *([_range(a.asr_range)] if provisional else []),
         _value(a.diversity), str(a.matchups), _conversations(a.complete, a.incomplete, a.undecided),
         _overlap_note(a.overlaps_with, rank_of)]
        for a in board.attackers
    ]
    console.print(_table(f"\nAttackers{marker}: score = mean over matchups of ASR × diversity / 100", [
        ("#", "right"), ("attacker", "left"), ("score", "right"), ("ASR %", "right"),
        *([("ASR range", "right")] if provisional else []), ("div.", "right"), ("m.", "right"), ("conv.", "right"),
        ("overlaps", "left")], rows))

    rank_of = {d.name: d.rank for d in board.defenders}
    rows = [
        ["-" if d.rank is None else str(d.rank), inert_text(d.name), _with_interval(d.score, d.interval),
         _with_interval(d.dsr, d.dsr_interval), *([_range(d.dsr_range)] if provisional else []),
         _utility(d.utility, d.u, d.u_base), str(d.matchups), _conversations(d.complete, d.incomplete, d.undecided),
         _overlap_note(d.overlaps_with, rank_of)]
        for d in board.defenders
    ]
    console.print(_table(f"Defenders{marker}: score = mean DSR × (U / 100)^4", [
        ("#", "right"), ("defender", "left"), ("score", "right"), ("DSR %", "right"),
        *([("DSR range", "right")] if provisional else []), ("U\nu / u_base", "right"), ("m.", "right"),
        ("conv.", "right"), ("overlaps", "left")], rows))

    if grid:
        for tournament in board.tournaments:
            cells = [m for m in board.matchups if m.tournament == tournament]
            if cells:
                console.print(_grid(tournament, cells))
        if board.techniques:
            console.print(_technique_grid(board.techniques))
    _print_notes(console, board)


def _grid(tournament: str, cells: Sequence[MatchupCell]) -> Table:
    attackers = list(dict.fromkeys(m.attacker for m in cells))
    defenders = list(dict.fromkeys(m.defender for m in cells))
    by_pair = {(m.attacker, m.defender): m for m in cells}
    table = Table(title=inert_text(f"{tournament}: ASR % (successes/complete) undecided among them? incomplete✗"),
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("attacker \\ defender")
    for name in defenders:
        table.add_column(inert_text(name), justify="right")
    for attacker in attackers:
        row: list[Text | str] = [inert_text(attacker)]
        for defender in defenders:
            m = by_pair.get((attacker, defender))
            if m is None:
                row.append("")
                continue
            text = "-" if m.asr is None else f"{m.asr:.0f} ({m.successes}/{m.complete})"
            if m.undecided:
                text += f" {m.undecided}?"
            if m.incomplete:
                text += f" {m.incomplete}✗"
            row.append(text)
        table.add_row(*row)
    return table


def _technique_grid(cells: Sequence[TechniqueCell]) -> Table:
    """Attack success by the technique replies named × defender (core.scoring.techniques):
    ASR % per defender, and over all defenders with its interval and n."""
    defenders = sorted({c.defender for c in cells if c.defender is not None})
    rows: dict[str, dict[str | None, TechniqueCell]] = {}
    for cell in cells:
        rows.setdefault(cell.label, {})[cell.defender] = cell
    table = Table(title="ASR % by technique: over all defenders [95 % interval], n; per defender",
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    # Labels wrap at their spaces ("direct +" / "homoglyphs") and the rates are short, so
    # the grid fits 80 columns with five defenders: long names give way first.
    table.add_column("technique", min_width=min(max(map(len, rows), default=9), 12))
    table.add_column("ASR %", justify="right", no_wrap=True)
    table.add_column("n", justify="right", no_wrap=True)
    for name in defenders:
        table.add_column(inert_text(name), justify="right", no_wrap=True, overflow="ellipsis", max_width=7)
    for label, by_defender in rows.items():
        every = by_defender.get(None)
        overall = "-" if every is None or every.asr is None else (
            f"{every.asr:.0f} [{every.asr_interval.lo:.0f}–{every.asr_interval.hi:.0f}]")
        per = ["" if (c := by_defender.get(d)) is None else "-" if c.asr is None else f"{c.asr:.0f}" for d in defenders]
        table.add_row(inert_text(label), overall, "0" if every is None else str(every.conversations), *per)
    return table


def provisional_note(board: Leaderboard) -> str:
    """Why the ranking is provisional, in one paragraph (empty when it is final)."""
    if not board.provisional:
        return ""
    complete = sum(m.complete for m in board.matchups)
    reasons = []
    if board.undecided:
        reasons.append(f"{board.undecided} of {complete} complete conversations are undecided (awaiting labels, "
                       "ties, not evaluated). Until decided they count as not attack successes: ASR is the share "
                       "confirmed so far (before any human label, the static stage's rate) and DSR its complement; "
                       "'range' is where each rate ends if every undecided one is a defence .. an attack. Decide "
                       "them with arena-tui evaluate, annotate or label")
    if board.unfinished:
        reasons.append(f"{board.unfinished} conversations are still pending or running")
    return "PROVISIONAL ranking: " + "; ".join(reasons) + "."


def _print_notes(console: Console, board: Leaderboard) -> None:
    if board.decided_verdicts:
        # Routing: say how much of the ranking rests on a judge rather than on people.
        console.print(f"{board.judge_verdicts} of {board.decided_verdicts} verdicts came from judges"
                      + (" (routing: only labels whose measured precision clears the configured bar; "
                         "arena-tui agreement shows it)" if board.judge_verdicts else "") + ".")
    incomplete = sum(m.incomplete for m in board.matchups)
    if incomplete:
        console.print(f"{incomplete} incomplete conversations (a bot failed) are left out of every rate "
                      "(✗ in the grid).")
    missing = [d for d in board.defenders if d.utility_missing]
    if missing:
        console.print(inert_text(
            f"No utility measured for {', '.join(d.name for d in missing)}: no defender score "
            "(run arena-tui utility CONFIG with the tournament's config)."), style="yellow")
    console.print("Teams whose score intervals overlap (\"overlaps\") are not separated at this confidence "
                  "level.")


# --- utility --------------------------------------------------------------------------------


def _explain_zero_sets(console: Console, run, sets) -> None:  # noqa: ANN001
    """Say why a code set scores 0 for a bot when no reply defined the function its tests
    call: one line per set, bots grouped by how many items that hit."""
    by_set: dict[str, dict[int, list[str]]] = {}
    examples: dict[str, list[str]] = {}
    for bot in (run.base, *run.defenders):
        for set_name, item_ids in bot.undefined.items():
            if bot.per_set.get(set_name) == 0:
                by_set.setdefault(set_name, {}).setdefault(len(item_ids), []).append(bot.name)
                entry_points = {item.id: item.entry_point for item in sets[set_name]}
                examples.setdefault(set_name, [entry_points[i] for i in item_ids[:3]] + ["..."] * (len(item_ids) > 3))
    for set_name, groups in by_set.items():
        counts = ", ".join(f"{n} ({', '.join(bots)})" for n, bots in sorted(groups.items(), reverse=True))
        console.print(inert_text(
            f"{set_name} scores 0: no reply defined the function the tests call ({', '.join(examples[set_name])}) "
            f"at top level, so no test ran, in {counts} of {len(sets[set_name])} items."), style="yellow")


@click.command()
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.option("--db", default="arena.db", show_default=True, type=click.Path(dir_okay=False),
              help="Arena store (SQLite) to write the results into.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar; print only the results.")
def utility(config: str | None, db: str, quiet: bool) -> None:
    """Measure the defenders' utility on the config's [utility] sets.

    Starts the base model and every defender of CONFIG (default: the bundled sample),
    asks each utility item, scores the answers (code sets in the sandbox), stores one
    result per item under the config's name and prints u, u_base and U per defender.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from core.scoring.utility_run import UtilityRunError, load_config_sets, run_config_utility

    cfg = read_config(config, starts_bots=True)
    try:
        sets = load_config_sets(cfg)  # refuse bad sets before any bot starts
    except UtilityRunError as exc:
        raise ArenaError(str(exc)) from None
    console = Console(highlight=False)
    with open_store(db) as store, Progress(
        TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True, disable=quiet,
    ) as progress:
        tasks: dict[str, object] = {}

        def advance(bot: str, done: int, total: int, _item: object) -> None:
            if bot not in tasks:
                tasks[bot] = progress.add_task(inert(f"utility: {bot}"), total=total)
            progress.update(tasks[bot], completed=done, total=total)

        try:
            run = asyncio.run(run_config_utility(cfg, store, progress=advance))
        except UtilityRunError as exc:
            raise ArenaError(str(exc)) from None
    set_names = list(run.base.per_set)
    rows: list[list[str | Text]] = []
    for bot in (run.base, *run.defenders):
        if bot.failed is not None:
            rows.append([inert_text(bot.name), *([""] * len(set_names)), "-", "", "", "failed"])
            continue
        rows.append([
            inert_text(bot.name), *(_value(bot.per_set.get(s)) for s in set_names), _value(bot.u),
            str(bot.refused), str(bot.errors),
            "(base)" if bot.U is None else _value(bot.U),
        ])
    table = _table(f"Utility of {inert_text(run.config).plain} ({run.base.items} items): u per set and overall "
                   "(0-100), items with a refusal, bot errors, U = min(u, u_base) / u_base × 100",
                   [("bot", "left"), *((name.replace("_", "_\n"), "right") for name in set_names), ("u", "right"),
                    ("refused", "right"), ("errors", "right"), ("U", "right")], rows)
    console.print(table)
    console.print(inert_text(f"u_base = {_value(run.base.u)}; results stored in {db} under {run.config!r}."))
    _explain_zero_sets(console, run, sets)
    failed = [bot.name for bot in run.defenders if bot.failed is not None]
    for bot in run.defenders:
        if bot.failed is not None:
            console.print(inert_text(f"{bot.name} could not be run: {bot.failed}", style="red", max_line=300))
    if failed:
        click.echo(f"{len(failed)} of {len(run.defenders)} defenders could not be run", err=True)
        raise SystemExit(1)
