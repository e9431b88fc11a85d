"""One set of keys in `watch` and `annotate`: `q` quits both (and still types a q in a text
box), the footer shows it and the keys that move between panes, a key goes to each pane
(zoomed when the terminal has no room for it), `z` zooms, escape restores."""

from __future__ import annotations

from pathlib import Path

from arena_tui.annotate.widgets.queue import QueueView
from arena_tui.annotate.widgets.transcript_view import TranscriptView
from arena_tui.cli.labelling import make_annotate_app
from arena_tui.cli.running import make_watch_app
from arena_tui.common.help import HelpScreen
from arena_tui.watch.widgets.bot_health import BotHealthTable
from arena_tui.watch.widgets.conversation_list import ConversationList
from arena_tui.watch.widgets.grid import MatchupGrid
from arena_tui.watch.widgets.live_transcript import LiveTranscript
from tests.screen_text import screen_lines
from tests.tui.test_annotate_tui import REFUSAL, SAFE, build_store, run_async, settle
from tests.tui.test_watch_layout import build_sample_like_store, replayed


def footer(app) -> str:  # noqa: ANN001
    """The bottom row of the screen."""
    return screen_lines(app)[-1]


@run_async
async def test_q_quits_annotate_and_types_in_the_search_box(tmp_path: Path) -> None:
    """80×24: the footer shows `q quit` next to the label keys; q in the search box is a
    letter of the query; q in the queue quits."""
    path = tmp_path / "arena.db"
    build_store(path, [SAFE, REFUSAL])
    app = make_annotate_app(path, "alice")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert "q quit" in footer(app) and "1 attack" in footer(app)
        await pilot.press("slash", "q", "u", "i", "t")
        await settle(app, pilot)
        assert app.screen.query_one("#search").value == "quit" and app.is_running
        await pilot.press("escape")  # back to the queue
        await settle(app, pilot)
        assert isinstance(app.screen.focused, QueueView)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


@run_async
async def test_annotate_pane_keys_and_zoom(tmp_path: Path) -> None:
    """x goes to the transcript and z zooms it; c goes back to the queue; on 80×24 the live
    panes are hidden and l opens them zoomed; escape restores the layout."""
    path = tmp_path / "arena.db"
    build_store(path, [SAFE, REFUSAL])
    app = make_annotate_app(path, "alice")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        transcript = screen.query_one(TranscriptView)
        assert transcript.region.height >= 15, "the transcript gets the height of a short terminal"
        assert not screen.query_one("#live-panes").display
        await pilot.press("x", "z")
        await settle(app, pilot)
        assert screen.focused is transcript and screen.maximized is transcript
        assert transcript.region.height == 23
        await pilot.press("escape", "c")
        await settle(app, pilot)
        assert screen.maximized is None and isinstance(screen.focused, QueueView)
        await pilot.press("l")
        await settle(app, pilot)
        live = screen.query_one("#live-panes")
        assert screen.maximized is live and live.region.height >= 20
        await pilot.press("escape")
        await settle(app, pilot)
        assert screen.maximized is None and not live.display
        await pilot.press("a")  # the annotator asks for the panes: they stay
        await settle(app, pilot)
        assert live.display and live.region.height > 0


@run_async
async def test_watch_footer_and_pane_keys_on_a_laptop(tmp_path: Path) -> None:
    """80×24: the footer shows quit, the pane keys and zoom; h opens bot health zoomed and
    escape restores; enter on a cell opens its conversations zoomed, enter on one pins it
    and brings the transcript back; x and g move the focus; ? lists the keys."""
    db = tmp_path / "arena.db"
    build_sample_like_store(db)
    app = make_watch_app(None, db, follow=True, clock=lambda: 1010.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await replayed(pilot)
        screen = app.screen
        bar = footer(app)
        assert "q quit" in bar and "panes" in bar and "z zoom" in bar
        health = screen.query_one("#health-pane")
        assert not health.display
        await pilot.press("h")
        await pilot.pause()
        assert screen.maximized is health and isinstance(screen.focused, BotHealthTable)
        assert health.region.height >= 20
        await pilot.press("escape")
        await pilot.pause()
        assert screen.maximized is None
        await pilot.press("g", "enter")
        await pilot.pause()
        assert screen.maximized is screen.query_one("#list-pane")
        assert isinstance(screen.focused, ConversationList)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert screen.maximized is None and screen.pinned_id is not None
        assert isinstance(screen.focused, LiveTranscript)
        await pilot.press("g")
        assert isinstance(screen.focused, MatchupGrid)
        await pilot.press("x", "z")
        await pilot.pause()
        assert screen.maximized is screen.query_one(LiveTranscript)
        await pilot.press("z", "question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


@run_async
async def test_watch_pane_keys_focus_without_zoom_when_there_is_room(tmp_path: Path) -> None:
    """200×50: h and c focus bot health and the conversation list in place."""
    db = tmp_path / "arena.db"
    build_sample_like_store(db)
    app = make_watch_app(None, db, follow=True, clock=lambda: 1010.0)
    async with app.run_test(size=(200, 50)) as pilot:
        await replayed(pilot)
        screen = app.screen
        await pilot.press("h")
        assert isinstance(screen.focused, BotHealthTable) and screen.maximized is None
        await pilot.press("c")
        assert isinstance(screen.focused, ConversationList) and screen.maximized is None
        await pilot.press("z")
        await pilot.pause()
        assert screen.maximized is screen.query_one("#list-pane")


class TestSnapshots:
    """The annotate screen on a laptop terminal."""

    def test_annotate_at_80x24(self, tmp_path: Path, snap_compare) -> None:  # noqa: ANN001
        """80×24: narrow queue, the transcript with the height (live panes hidden), `q quit` in the footer."""
        path = tmp_path / "arena.db"
        build_store(path, ["Try:\n```python\nimport subprocess\nsubprocess.call(['ls', '-l'])\n```\n", SAFE, REFUSAL])

        async def run_before(pilot) -> None:  # noqa: ANN001
            await settle(pilot.app, pilot)

        assert snap_compare(make_annotate_app(path, "alice"), terminal_size=(80, 24), run_before=run_before)
