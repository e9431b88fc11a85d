"""The season screen: a tab per view of the season, computed in a worker.

Tabs: standings (each team's score per round with intervals, the ratings, the bots that
changed), the progression charts of attackers and defenders, the attack successes by
reason (Fig. 4), the annotators' pairwise agreement with Table 1 and Table 2 beside it,
and the bots' response times. The summary (`core.season.summary.build_season`) is built
in a thread worker on the screen's own read-only connection; the charts are drawn in
workers of their own (`ChartView`). Nothing here waits on the store or on plotext.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane

from arena_tui.common.charts import chart
from arena_tui.common.help import HelpScreen
from arena_tui.common.safe import inert_text
from arena_tui.common.tables import (
    agreement_renderables,
    counts_table,
    latency_table,
    ratings_renderables,
    standings_renderables,
)
from arena_tui.season.widgets.chart_view import ChartView
from core.season.summary import SeasonSummary

# The tabs, in order: (pane id, title); keys 1-6 open them.
TABS = (("standings", "Standings"), ("progression", "Progression"), ("reasons", "Fig. 4"),
        ("agreement", "Agreement"), ("latency", "Latency"), ("ratings", "Ratings"))

SEASON_KEYS = [
    ("1 … 6", "standings / progression / successes by reason (Fig. 4) / agreement / response times / ratings"),
    ("left / right", "previous / next tab (with the tabs focused)"),
    ("tab / shift+tab", "move the focus"),
    ("r", "recompute the season from the store"),
    ("?", "this help"),
    ("q / ctrl+q", "quit"),
]


class SeasonScreen(Screen[None]):
    """One season of a store, in tabs."""

    BINDINGS = [
        Binding("q", "app.quit", "quit"),
        Binding("r", "reload", "recompute"),
        Binding("question_mark", "help", "keys"),
        *(Binding(str(k), f"tab('{pane}')", title, show=False) for k, (pane, title) in enumerate(TABS, start=1)),
    ]

    class Loaded(Message):
        """The season summary was computed."""

        def __init__(self, summary: SeasonSummary) -> None:
            super().__init__()
            self.summary = summary

    class Failed(Message):
        """The summary could not be computed (one line)."""

        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(self, store_path: str | Path, season: str, *, n_boot: int) -> None:
        super().__init__()
        self.store_path = Path(store_path)
        self.season = season
        self.n_boot = n_boot
        self.summary: SeasonSummary | None = None
        """The summary on screen (None until the first one is computed)."""
        self.loads = 0
        """How many summaries were shown (tests wait on it)."""

    def compose(self) -> ComposeResult:
        """Header, a status line, the tabs, footer."""
        yield Header()
        yield Static(inert_text(f"season {self.season}: computing…"), id="season-status")
        with TabbedContent(initial="standings"):
            with TabPane("Standings", id="standings"), VerticalScroll():
                yield Static(id="standings-tables")
            with TabPane("Progression", id="progression"), Horizontal(classes="charts"):
                yield ChartView(chart("attackers"), id="chart-attackers")
                yield ChartView(chart("defenders"), id="chart-defenders")
            with TabPane("Fig. 4", id="reasons"), VerticalScroll():
                yield ChartView(chart("reasons"), id="chart-reasons", classes="tall")
                yield Static(id="counts-table")
            with TabPane("Agreement", id="agreement"), VerticalScroll():
                yield ChartView(chart("agreement"), id="chart-agreement")
                yield Static(id="agreement-tables")
            with TabPane("Latency", id="latency"), VerticalScroll():
                yield ChartView(chart("latency"), id="chart-latency", classes="tall")
                yield Static(id="latency-table")
            with TabPane("Ratings", id="ratings"), VerticalScroll():
                yield Static(id="ratings-tables")
        yield Footer()

    def on_mount(self) -> None:
        """Start computing the summary."""
        self.action_reload()

    def action_reload(self) -> None:
        """Recompute the summary from the store, in a worker."""
        self.query_one("#season-status", Static).update(inert_text(f"season {self.season}: computing…"))
        self._load()

    def action_tab(self, pane: str) -> None:
        """Open a tab."""
        self.query_one(TabbedContent).active = pane

    def action_help(self) -> None:
        """The keys of this screen."""
        self.app.push_screen(HelpScreen(SEASON_KEYS))

    @work(thread=True, exclusive=True, group="season", exit_on_error=False)
    def _load(self) -> None:
        from core.season.summary import SeasonError, build_season
        from core.store import Store, StoreError

        try:
            with Store.open_readonly(self.store_path) as store:
                summary = build_season(store, self.season, n_boot=self.n_boot)
        except (SeasonError, StoreError, ValueError, OSError) as exc:
            self.post_message(self.Failed(str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
            return
        self.post_message(self.Loaded(summary))

    def on_season_screen_loaded(self, message: Loaded) -> None:
        """Show a new summary: tables at once, charts as their workers finish."""
        summary = self.summary = message.summary
        rounds = ", ".join(f"{r.position}. {r.tournament} ({r.kind})" for r in summary.rounds)
        status = inert_text(f"season {summary.name}: {rounds}")
        if summary.provisional:
            status.append("  PROVISIONAL", style="bold yellow")
        self.query_one("#season-status", Static).update(status)
        self.query_one("#standings-tables", Static).update(Group(*standings_renderables(summary)))
        ratings = []
        for title, value in (("over the season", summary.ratings), ("over the official rounds", summary.official_ratings)):
            if value is not None:
                ratings += [Text(f"Bradley-Terry ratings {title}", style="bold"), *ratings_renderables(value)]
        self.query_one("#ratings-tables", Static).update(Group(*ratings))
        self.query_one("#counts-table", Static).update(counts_table(summary))
        self.query_one("#agreement-tables", Static).update(Group(*agreement_renderables(summary)))
        self.query_one("#latency-table", Static).update(latency_table(summary))
        for view in self.query(ChartView):
            view.show(summary)
        self.loads += 1

    def on_season_screen_failed(self, message: Failed) -> None:
        """Say why there is nothing to show."""
        self.query_one("#season-status", Static).update(
            inert_text(f"cannot compute season {self.season}: {message.error}", style="red"))
