"""Compact tables shared by the command line and the season screen: the leaderboard's
layout (numbers never cut, names give way), the Bradley-Terry ratings and the season's
tables. Every name goes in as `Text` (`inert_text`): a string cell is parsed as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from arena_tui.common.safe import inert, inert_text

if TYPE_CHECKING:
    from core.scoring.leaderboard import Leaderboard
    from core.scoring.ratings import Ratings
    from core.season.summary import SeasonSummary

# Columns that give way when the terminal is narrow (names and the overlap note wrap);
# every number keeps its full width.
_SHRINKABLE = frozenset({"attacker", "defender", "bot", "overlaps", "round", "team"})
# Narrowest a shrinkable column gets: most team names fit on one line.
_NAME_MIN_WIDTH = 14


def compact_table(title: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[str | Text]]) -> Table:
    """A compact table whose numeric columns are never cut."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for index, (column, justify) in enumerate(columns):
        if column in _SHRINKABLE:
            longest = max((len(str(row[index])) for row in rows), default=0)
            table.add_column(column, justify=justify, overflow="fold",
                             min_width=min(max(longest, len(column)), _NAME_MIN_WIDTH))
            continue
        widest = max((len(line) for row in rows for line in str(row[index]).splitlines()), default=0)
        header = max((len(line) for line in column.splitlines()), default=0)
        table.add_column(column, justify=justify, no_wrap=True, min_width=max(widest, header))
    for row in rows:
        table.add_row(*row)
    return table



def ratings_renderables(ratings: Ratings, board: Leaderboard | None = None) -> list[RenderableType]:
    """The Bradley-Terry ratings of both sides (with each team's official rank when a
    leaderboard is given), then P(attacker beats defender) and a note on reading them."""
    if not ratings.games:
        return [Text("No complete conversation yet: no Bradley-Terry ratings.", style="yellow")]
    out: list[RenderableType] = []
    if ratings.provisional:
        out.append(Text(f"PROVISIONAL ratings: {ratings.undecided} of {ratings.games} games are undecided and count "
                        "as defences until decided.", style="bold yellow"))
    official: dict[tuple[str, str], int | None] = {}
    if board is not None:
        official = {("attacker", a.name): a.rank for a in board.attackers}
        official |= {("defender", d.name): d.rank for d in board.defenders}
    level = f"{ratings.level * 100:.0f} %"
    for title, rows in (("Attackers", ratings.attackers), ("Defenders", ratings.defenders)):
        table_rows = [[str(r.rank), inert_text(r.name), f"{r.rating:.0f}", f"[{r.interval.lo:.0f}, {r.interval.hi:.0f}]",
                       f"{r.wins}/{r.games}", *([str(official.get((r.side, r.name)) or "-")] if official else [])]
                      for r in rows]
        out.append(compact_table(
            f"{title}: Bradley-Terry rating (Elo scale, {level} interval; not the official ranking)",
            [("#", "right"), (rows[0].side if rows else "team", "left"), ("rating", "right"), ("interval", "right"),
             ("won/games", "right"), *([("official #", "right")] if official else [])], table_rows))
    table = Table(title=f"P(attacker beats defender) under the model, from {ratings.games} complete conversations",
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("attacker \\ defender")
    for d in ratings.defenders:
        table.add_column(inert_text(d.name), justify="right")
    for a in ratings.attackers:
        table.add_row(inert_text(a.name), *(f"{ratings.p_beats(a, d):.2f}" for d in ratings.defenders))
    out.append(table)
    out.append(Text("Ratings pool a team's complete conversations over the tournaments; two teams of one side: "
                    "P(i beats k) = 1 / (1 + 10^((k - i) / 400)) (docs/scoring.md#bradley-terry-ratings)."))
    return out


def _cell(value: float | None, interval: Sequence[float] | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if interval is None else f"{value:.1f}\n[{interval[0]:.1f}, {interval[1]:.1f}]"


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"


def _estimate(e: object) -> str:
    value, low, high = e.value, e.low, e.high  # type: ignore[attr-defined]
    if value != value:
        return "-"
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"


def standings_renderables(summary: SeasonSummary) -> list[RenderableType]:
    """The season's rounds, then each side's score per round with intervals and its
    trend, then the bots that changed between rounds."""
    rounds = summary.rounds
    out: list[RenderableType] = [inert_text(f"Season {summary.name}: " + ", ".join(
        f"{r.position}. {r.tournament} ({r.kind})" for r in rounds))]
    if summary.provisional:
        out.append(Text("PROVISIONAL: some rounds have undecided or unfinished conversations (counted as not attack "
                        "successes until decided; docs/scoring.md#provisional-standings).", style="bold yellow"))
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
        out.append(compact_table(f"\n{side.capitalize()}s per round: {what}, 95 % interval",
                                 [(side, "left"), *heads, ("trend", "right")], rows))
    for c in summary.changes:
        out.append(inert_text(f"changed in round {c.position} ({c.tournament}): {c.side} {c.bot}: "
                              f"{c.before} -> {c.after}", max_line=300))
    return out


def counts_table(summary: SeasonSummary) -> Table:
    """Attack successes by reason per round (Fig. 4) and the other outcomes."""
    return compact_table("Attack successes by reason per round (Fig. 4)", [
        ("round", "left"), ("complete", "right"), ("vulnerable\ncode", "right"), ("malicious\nassistance", "right"),
        ("defended", "right"), ("undecided", "right"), ("incomplete", "right")],
        [[inert_text(f"{c.tournament} ({c.kind})"), str(c.complete), str(c.vulnerable_code),
          str(c.malicious_assistance), str(c.defended), str(c.undecided), str(c.incomplete)]
         for c in summary.report.counts])


def agreement_renderables(summary: SeasonSummary) -> list[RenderableType]:
    """Agreement per round (Table 1), the pairwise κ as numbers, diversity (Table 2)."""
    report = summary.report
    out: list[RenderableType] = [compact_table("Agreement per round (Table 1; 95 % bootstrap intervals)", [
        ("round", "left"), ("items", "right"), ("Fleiss' κ", "right"), ("Krippendorff's α", "right")],
        [[inert_text(a.tournament), str(a.items), _estimate(a.fleiss_kappa), _estimate(a.krippendorff_alpha)]
         for a in report.agreement])]
    if summary.pairwise is not None:
        names = [str(a) for a in summary.pairwise.annotators]
        rows = [[inert_text(names[i]), *("-" if e is None else _num(e.value, 2) for e in row)]
                for i, row in enumerate(summary.pairwise.kappa)]
        out.append(compact_table("Pairwise Cohen's κ over the season", [
            ("annotator", "left"), *((inert(n), "right") for n in names)], rows))
    out.append(compact_table(f"Diversity (Table 2; mean {inert(report.embedding)})", [
        ("level", "left"), ("groups", "right"), ("texts", "right"), ("within", "right"), ("between", "right")],
        [["round" if d.level == "tournament" else d.level, str(d.groups), str(d.texts), _num(d.within),
          _num(d.between)] for d in report.diversity]))
    return out


def latency_table(summary: SeasonSummary) -> Table:
    """Each bot's response times per round."""
    return compact_table("Response times per round (seconds)", [
        ("round", "right"), ("side", "left"), ("bot", "left"), ("turns", "right"), ("mean", "right"),
        ("median", "right"), ("p95", "right")],
        [[str(s.position), s.side, inert_text(s.bot), str(s.turns), _num(s.mean), _num(s.median), _num(s.p95)]
         for s in summary.latency])


def season_renderables(summary: SeasonSummary) -> list[RenderableType]:
    """Every table of the season, in the order `season show` prints them."""
    out = standings_renderables(summary)
    if summary.ratings is not None:
        out.append(Text("\nBradley-Terry ratings over the season", style="bold"))
        out += ratings_renderables(summary.ratings)
    if summary.official_ratings is not None:
        out.append(Text("\nBradley-Terry ratings over the official rounds", style="bold"))
        out += ratings_renderables(summary.official_ratings)
    out += [Text(""), counts_table(summary), *agreement_renderables(summary)]
    return out + ([latency_table(summary)] if summary.latency else [])
