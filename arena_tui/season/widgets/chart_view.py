"""A chart that is drawn off the event loop.

`ChartView` shows one of `arena_tui.common.charts.CHARTS` for a season summary. Drawing
(plotext building its figure) runs in a thread worker whenever the summary or the
widget's size changes; the worker posts `ChartView.Drawn` and the handler only swaps
the finished renderable in, so a resize or a new summary never makes the screen wait.
"""

from __future__ import annotations

from textual import work
from textual.events import Resize
from textual.message import Message
from textual.widgets import Static

from arena_tui.common.charts import Chart, draw_chart
from core.season.summary import SeasonSummary


class ChartView(Static):
    """One season chart, redrawn in a worker for each summary and size."""

    DEFAULT_CSS = """
    ChartView { width: 1fr; height: 1fr; }
    """

    class Drawn(Message):
        """A chart was drawn for one (summary, size)."""

        def __init__(self, view: ChartView, key: tuple[int, int, int], renderable: object) -> None:
            super().__init__()
            self.view = view
            self.key = key
            self.renderable = renderable

        def can_replace(self, message: Message) -> bool:
            """A newer drawing of the same view replaces one still queued."""
            return isinstance(message, ChartView.Drawn) and message.view is self.view

    def __init__(self, chart: Chart, **kwargs: object) -> None:
        super().__init__("", **kwargs)
        self.chart = chart
        self.summary: SeasonSummary | None = None
        self.drawn_key: tuple[int, int, int] | None = None
        """(summary id, width, height) of what is shown."""
        self.draws = 0
        """How many drawings were shown (tests wait on it)."""

    def show(self, summary: SeasonSummary) -> None:
        """Draw the chart for a new summary."""
        self.summary = summary
        self._redraw()

    def on_resize(self, _event: Resize) -> None:
        """Draw again for the new size."""
        self._redraw()

    def _key(self) -> tuple[int, int, int] | None:
        if self.summary is None or self.size.width < 2 or self.size.height < 2:
            return None
        return (id(self.summary), self.size.width, self.size.height)

    def _redraw(self) -> None:
        key = self._key()
        if key is not None and key != self.drawn_key:
            self._draw(self.summary, key)

    @work(thread=True, exclusive=True, group="chart", exit_on_error=False)
    def _draw(self, summary: SeasonSummary, key: tuple[int, int, int]) -> None:
        self.post_message(self.Drawn(self, key, draw_chart(self.chart, summary, key[1], key[2])))

    def on_chart_view_drawn(self, message: Drawn) -> None:
        """Show a drawing made for the current summary and size (an older one is dropped)."""
        if message.view is not self:
            return
        message.stop()
        if message.key == self._key():
            self.drawn_key = message.key
            self.draws += 1
            self.update(message.renderable)
