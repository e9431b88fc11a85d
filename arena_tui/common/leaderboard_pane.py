"""The live leaderboard: attackers and defenders ranked from the stored verdicts.

Self-contained, so the watch screen can reuse it: give it a store path and tournament
ids. It keeps one `LeaderboardCache`, so a recompute after a few new labels reuses the
BLEU work of every matchup whose successful attacks did not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from arena_tui.common.live_pane import LivePane
from arena_tui.common.safe import inert_text
from core.scoring.leaderboard import Leaderboard, LeaderboardCache, compute_leaderboard
from core.scoring.ratings import compute_ratings
from core.store import Store

# Bootstrap resamples for the live score intervals: the pane shows ranks and scores; the
# `leaderboard` command gives the full-precision intervals.
LIVE_N_BOOT = 200


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _range(bounds: tuple[float, float] | None) -> str:
    return "–" if bounds is None else f"{bounds[0]:.0f}–{bounds[1]:.0f}"


def provisional_line(board: Leaderboard) -> Text:
    """One line saying why the standings are provisional (empty when they are final)."""
    if not board.provisional:
        return Text("")
    complete = sum(m.complete for m in board.matchups)
    parts = []
    if board.undecided:
        parts.append(f"{board.undecided} of {complete} undecided, counted as not attack")
    if board.unfinished:
        parts.append(f"{board.unfinished} to play")
    return Text("PROVISIONAL · " + "; ".join(parts), style="bold yellow")


# Narrowest a team name gets before a column of numbers is left out: enough to tell teams apart.
NAME_MIN_WIDTH = 8
# The columns: rank, name, official score, rate, its range while provisional, and the
# Bradley-Terry rating (Elo scale), with how each is justified.
JUSTIFY = ("right", "left", "right", "right", "right", "right")
RANGE, RATING, SCORE = 4, 5, 2
# Left out in this order when the pane is too narrow: the range, the rating, the score.
DROP_ORDER = (RANGE, RATING, SCORE)


@dataclass(frozen=True)
class Standings:
    """The pane's content, laid out for the width it gets (a Rich renderable): a
    provisional notice, then attackers and defenders as compact tables whose numbers keep
    their width while names give way; where a name would get fewer than `NAME_MIN_WIDTH`
    cells, the range, rating and score columns are left out, in that order."""

    notice: Text
    # Per side: (side, rate header, rows of cells: rank, name, score, rate, range, rating).
    sides: tuple[tuple[str, str, tuple[tuple[str | Text, ...], ...]], ...]
    show_range: bool = False

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """The notice and one table per side, with the columns that fit `options.max_width`."""
        if self.notice.plain:
            yield self.notice
        cells = [row for _, _, rows in self.sides for row in rows]
        headers = [(len("#"),), tuple(len(side) for side, _, _ in self.sides), (len("score"),),
                   tuple(len(rate) for _, rate, _ in self.sides), (len("range"),), (len("BT"),)]
        widths = [max([*headers[i], *(Text(row[i]).cell_len if isinstance(row[i], str) else row[i].cell_len
                                      for row in cells)]) for i in range(len(JUSTIFY))]
        shown = [i for i in range(len(JUSTIFY)) if i != RANGE or self.show_range]
        for drop in DROP_ORDER:
            needed = sum(widths[i] for i in shown if i != 1) + NAME_MIN_WIDTH + 2 * (len(shown) - 1)
            if needed <= options.max_width:
                break
            if drop in shown:
                shown.remove(drop)
        for side, rate, rows in self.sides:
            titles = ("#", side, "score", rate, "range", "BT")
            table = Table(box=None, padding=(0, 1), show_edge=False, expand=True)
            for i in shown:
                table.add_column(titles[i], justify=JUSTIFY[i], no_wrap=True,  # type: ignore[arg-type]
                                 **({"ratio": 1} if i == 1 else {"min_width": widths[i]}))
            for row in rows:
                table.add_row(*(row[i] for i in shown))
            yield table


class LeaderboardPane(LivePane):
    """Attackers and defenders of the followed tournaments, best first."""

    def __init__(self, store_path: str | Path, tournament_ids: list[int] | None = None, **kwargs: object) -> None:
        super().__init__(store_path, tournament_ids, **kwargs)
        self.cache = LeaderboardCache()
        self.border_title = "leaderboard"

    def compute(self, store: Store, tournament_ids: list[int]) -> RenderableType:
        """A provisional notice when it applies, then two compact tables: attackers
        (score, ASR) and defenders (score, DSR), with each rate's range while provisional,
        and each team's Bradley-Terry rating ("BT", Elo scale; docs/scoring.md).

        Bot names go in as `Text`: a string cell of a Rich table is parsed as markup."""
        if not tournament_ids:
            return Text("no tournament to follow", style="dim")
        board = compute_leaderboard(store, tournament_ids, cache=self.cache, n_boot=LIVE_N_BOOT)
        ratings = compute_ratings(store, tournament_ids, n_boot=LIVE_N_BOOT)
        bt = {(r.side, r.name): f"{r.rating:.0f}" for r in (*ratings.attackers, *ratings.defenders)}
        attackers = tuple((str(row.rank or "–"), inert_text(row.name), _score(row.score), _rate(row.asr),
                           _range(row.asr_range), bt.get(("attacker", row.name), "–")) for row in board.attackers)
        defenders = tuple((str(row.rank or "–"), inert_text(row.name), _score(row.score), _rate(row.dsr),
                           _range(row.dsr_range), bt.get(("defender", row.name), "–")) for row in board.defenders)
        return Standings(provisional_line(board), (("attacker", "ASR", attackers), ("defender", "DSR", defenders)),
                         show_range=board.provisional)
