"""The season screen (`arena-tui season view`) through Textual's pilot on the season of
three sample tournaments built with the real CLI: tabs, charts drawn in workers (never
on the event loop), redrawn on resize, hostile names inert, and 80 × 24 snapshots."""

from __future__ import annotations

import threading
from pathlib import Path

from textual.widgets import Static, TabbedContent

import arena_tui.season.widgets.chart_view as chart_view_module
import core.season.summary as summary_module
from arena_tui.season.app import make_season_app
from arena_tui.season.screen import SeasonScreen
from arena_tui.season.widgets.chart_view import ChartView
from core.store import Store
from tests.season_sample import CHANGED_TEAM, SEASON
from tests.tui.test_annotate_tui import run_async, settle

# Resamples for the screen's intervals in tests: enough for stable numbers, fast.
N_BOOT = 200
# Pauses allowed while waiting for a worker's result: a bound on event-loop turns.
MAX_PAUSES = 400


async def wait_until(app, pilot, condition) -> bool:  # noqa: ANN001
    """Let the app run until `condition()` holds (bounded in pauses)."""
    for _ in range(MAX_PAUSES):
        if condition():
            return True
        await pilot.pause(0.02)
        await app.workers.wait_for_complete()
    return condition()


def text_of(widget: Static) -> str:
    """What a Static shows, as plain text."""
    import io

    from rich.console import Console

    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


@run_async
async def test_tabs_show_standings_ratings_and_charts(season_store: Path) -> None:
    """The summary arrives from a worker; standings name every team with the bot that
    changed; keys 1-6 open the tabs and each chart on a shown tab is drawn."""
    app = make_season_app(season_store / "arena.db", SEASON, n_boot=N_BOOT)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, SeasonScreen)
        assert await wait_until(app, pilot, lambda: screen.loads == 1)
        standings = text_of(screen.query_one("#standings-tables", Static))
        assert "round-1" in standings and "trend" in standings
        assert f"changed in round 2 (round-2): defender {CHANGED_TEAM}" in standings
        assert "PROVISIONAL" in text_of(screen.query_one("#season-status", Static))
        tabs = screen.query_one(TabbedContent)
        for key, pane, charts in (("2", "progression", ["chart-attackers", "chart-defenders"]),
                                  ("3", "reasons", ["chart-reasons"]), ("4", "agreement", ["chart-agreement"]),
                                  ("5", "latency", ["chart-latency"]), ("6", "ratings", [])):
            await pilot.press(key)
            assert tabs.active == pane
            for chart_id in charts:
                view = screen.query_one(f"#{chart_id}", ChartView)
                assert await wait_until(app, pilot, lambda view=view: view.draws >= 1), chart_id
        assert "alice" in text_of(screen.query_one("#chart-agreement", ChartView))
        assert "Bradley-Terry ratings over the season" in text_of(screen.query_one("#ratings-tables", Static))
        assert "Agreement per round (Table 1" in text_of(screen.query_one("#agreement-tables", Static))
        await pilot.press("1")
        assert tabs.active == "standings"


@run_async
async def test_summary_and_charts_are_computed_off_the_event_loop(season_store: Path, monkeypatch) -> None:  # noqa: ANN001
    """The season summary and every chart drawing run in worker threads, never on the
    thread of the event loop; a resize draws the chart again at the new size."""
    threads: list[tuple[str, bool]] = []
    real_build, real_draw = summary_module.build_season, chart_view_module.draw_chart

    def build(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        threads.append(("summary", threading.current_thread() is threading.main_thread()))
        return real_build(*args, **kwargs)

    def draw(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        threads.append(("chart", threading.current_thread() is threading.main_thread()))
        return real_draw(*args, **kwargs)

    monkeypatch.setattr(summary_module, "build_season", build)
    monkeypatch.setattr(chart_view_module, "draw_chart", draw)
    app = make_season_app(season_store / "arena.db", SEASON, n_boot=N_BOOT)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_until(app, pilot, lambda: screen.loads == 1)
        await pilot.press("2")
        view = screen.query_one("#chart-attackers", ChartView)
        assert await wait_until(app, pilot, lambda: view.draws >= 1)
        first = view.drawn_key
        await pilot.resize_terminal(120, 40)
        assert await wait_until(app, pilot, lambda: view.drawn_key is not None and view.drawn_key != first)
        assert view.drawn_key[1] > first[1] and view.drawn_key[2] > first[2]
    assert ("summary", False) in threads and ("chart", False) in threads
    assert not any(on_main for _, on_main in threads)


@run_async
async def test_unknown_season_and_hostile_names_are_shown_inert(season_store: Path) -> None:
    """A season that is not there is one red line; a season named with markup and an
    escape sequence is shown as its characters, never interpreted."""
    db = season_store / "arena.db"
    app = make_season_app(db, "autumn", n_boot=N_BOOT)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert "cannot compute season autumn: no season 'autumn'" in text_of(app.screen.query_one("#season-status", Static))
    hostile = "[bold red]evil[/] \x1b[2J"
    with Store.open(db, create=False) as store:
        store.add_season_rounds(hostile, [store.tournament("round-1").id])
    app = make_season_app(db, hostile, n_boot=N_BOOT)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_until(app, pilot, lambda: screen.loads == 1)
        status = text_of(screen.query_one("#season-status", Static))
        assert "[bold red]evil[/]" in status and "\x1b" not in status


class TestSnapshots:
    """The season screen as a user first sees it, at 80 × 24."""

    def test_standings(self, season_store: Path, snap_compare) -> None:  # noqa: ANN001
        """Standings per round with intervals and trends, the first tab."""
        async def run_before(pilot) -> None:  # noqa: ANN001
            await wait_until(pilot.app, pilot, lambda: pilot.app.screen.loads == 1)
            await settle(pilot.app, pilot)

        assert snap_compare(make_season_app(season_store / "arena.db", SEASON, n_boot=N_BOOT),
                            terminal_size=(80, 24), run_before=run_before)

    def test_progression_charts(self, season_store: Path, snap_compare) -> None:  # noqa: ANN001
        """The progression tab: attackers' scores and defenders' DSR per round, drawn."""
        async def run_before(pilot) -> None:  # noqa: ANN001
            await wait_until(pilot.app, pilot, lambda: pilot.app.screen.loads == 1)
            await pilot.press("2")
            screen = pilot.app.screen
            await wait_until(pilot.app, pilot, lambda: all(v.draws >= 1 for v in screen.query(ChartView)
                                                           if v.id in ("chart-attackers", "chart-defenders")))
            await settle(pilot.app, pilot)

        assert snap_compare(make_season_app(season_store / "arena.db", SEASON, n_boot=N_BOOT),
                            terminal_size=(80, 24), run_before=run_before)
