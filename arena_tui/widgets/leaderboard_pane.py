"""The live leaderboard: attackers and defenders ranked from the stored verdicts.

Self-contained, so the watch screen can reuse it: give it a store path and tournament
ids. It keeps one `LeaderboardCache`, so a recompute after a few new labels reuses the
BLEU work of every matchup whose successful attacks did not change.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from arena_tui.safe import inert_text
from arena_tui.widgets.live_pane import LivePane
from core.leaderboard import LeaderboardCache, compute_leaderboard
from core.store import Store

# Bootstrap resamples for the live score intervals: the pane shows ranks and scores; the
# `leaderboard` command gives the full-precision intervals.
LIVE_N_BOOT = 200


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


class LeaderboardPane(LivePane):
    """Attackers and defenders of the followed tournaments, best first."""

    def __init__(self, store_path: str | Path, tournament_ids: list[int] | None = None, **kwargs: object) -> None:
        super().__init__(store_path, tournament_ids, **kwargs)
        self.cache = LeaderboardCache()
        self.border_title = "leaderboard"

    def compute(self, store: Store, tournament_ids: list[int]) -> RenderableType:
        """Two compact tables: attackers (score, ASR) and defenders (score, DSR).

        Bot names go in as `Text`: a string cell of a Rich table is parsed as markup."""
        if not tournament_ids:
            return Text("no tournament to follow", style="dim")
        board = compute_leaderboard(store, tournament_ids, cache=self.cache, n_boot=LIVE_N_BOOT)
        attackers = Table(box=None, padding=(0, 1), show_edge=False, expand=True)
        for column, justify in (("#", "right"), ("attacker", "left"), ("score", "right"), ("ASR", "right")):
            attackers.add_column(column, justify=justify, no_wrap=True)  # type: ignore[arg-type]
        for row in board.attackers:
            attackers.add_row(str(row.rank or "–"), inert_text(row.name), _score(row.score), _score(row.asr))
        defenders = Table(box=None, padding=(0, 1), show_edge=False, expand=True)
        for column, justify in (("#", "right"), ("defender", "left"), ("score", "right"), ("DSR", "right")):
            defenders.add_column(column, justify=justify, no_wrap=True)  # type: ignore[arg-type]
        for row in board.defenders:
            defenders.add_row(str(row.rank or "–"), inert_text(row.name), _score(row.score), _score(row.dsr))
        undecided = sum(m.undecided for m in board.matchups)
        note = Text(f"{undecided} conversations awaiting labels", style="dim") if undecided else Text("")
        return Group(attackers, defenders, note)
