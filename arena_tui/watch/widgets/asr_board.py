"""A compact live standing: attackers by ASR, defenders by DSR, from the static stage.

A stand-in for the shared leaderboard pane while that is not available to the watch
screen: it is folded from the grid's cells (no store query), so it moves with the grid.
"""

from __future__ import annotations

from rich.console import Group
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from arena_tui.common.safe import inert
from arena_tui.watch.model import CellState, WatchModel


def _mean_asr(cells: list[CellState]) -> float | None:
    rates = [c.asr for c in cells if c.asr is not None]
    return sum(rates) / len(rates) if rates else None


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}%"


class AsrBoard(Static):
    """Two small tables, attackers (mean ASR) and defenders (mean DSR), best first: side by
    side when the pane is wide enough for both with names whole, one above the other otherwise."""

    _model: WatchModel | None = None

    def on_resize(self) -> None:
        """Lay the tables out again for the new width."""
        if self._model is not None:
            self.refresh_from(self._model)

    def refresh_from(self, model: WatchModel) -> None:
        """Redraw from the model's cells."""
        self._model = model
        cells = list(model.cells.values())
        attackers = [(name, _mean_asr([c for c in cells if c.attacker == name])) for name in model.attackers]
        defenders = [(name, _mean_asr([c for c in cells if c.defender == name])) for name in model.defenders]
        attackers.sort(key=lambda row: -(row[1] if row[1] is not None else -1))
        defenders.sort(key=lambda row: row[1] if row[1] is not None else 101)
        grid = Table.grid(padding=(0, 2))
        left = Table(box=None, padding=(0, 1), show_edge=False)
        left.add_column("attacker", no_wrap=True)
        left.add_column("ASR", justify="right")
        for name, asr in attackers:
            left.add_row(Text(inert(name), style="red"), _pct(asr))
        right = Table(box=None, padding=(0, 1), show_edge=False)
        right.add_column("defender", no_wrap=True)
        right.add_column("DSR", justify="right")
        for name, asr in defenders:
            right.add_row(Text(inert(name), style="blue"), _pct(None if asr is None else 100 - asr))
        console = self.app.console
        wanted = sum(Measurement.get(console, console.options, table).maximum for table in (left, right)) + 2
        if self.content_region.width >= wanted:
            grid.add_row(left, right)
            self.update(grid)
        else:
            self.update(Group(left, right))
