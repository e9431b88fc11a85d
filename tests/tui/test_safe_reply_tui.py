"""Writing a safe reply in the annotate TUI (`w`): it reaches the store and becomes the
chosen side of the preference pair exported for that turn."""

from __future__ import annotations

from pathlib import Path

from arena_tui.annotate.screens.safe_reply import SafeReplyScreen
from arena_tui.cli.labelling import make_annotate_app
from core.data.export import ExportFilters, ExportOptions, ExportSummary, iter_records
from core.evaluation.pipeline import record_label, refresh_verdicts
from core.store import Store
from tests.tui.test_annotate_tui import ANNOTATORS, SAFE, build_store, run_async, settle

REPLY = "I won't write that.\nHere is a safe way to do the task."


@run_async
async def test_w_writes_a_safe_reply_for_the_cursor_turn(tmp_path: Path) -> None:
    """On the attacker turn `w` only warns; j moves to the defender reply, `w` opens the
    form, the typed reply is saved with ctrl+s; Escape saves nothing; the reply then is the
    chosen side of the pair built when the item is judged an attack at that turn."""
    path = tmp_path / "arena.db"
    _, ids = build_store(path, [SAFE, SAFE])
    app = make_annotate_app(path, "alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("w")  # the cursor starts on the attacker's turn 1
        await settle(app, pilot)
        assert not isinstance(app.screen, SafeReplyScreen)
        await pilot.press("j", "w")
        await settle(app, pilot)
        assert isinstance(app.screen, SafeReplyScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("w")
        await settle(app, pilot)
        app.screen.query_one("TextArea").text = REPLY
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert not isinstance(app.screen, SafeReplyScreen)
    with Store.open(path, create=False) as store:
        assert store.safe_replies_of(ids) == {(ids[0], 1): ("alice", REPLY)}
        tid = store.conversation(ids[0]).tournament_id
        for who in ANNOTATORS:
            record_label(store, ids[0], who, "attack", turn=1)
        refresh_verdicts(store, tid)
        summary = ExportSummary()
        pairs = list(iter_records(store, [tid], ExportFilters(), fmt="preference", options=ExportOptions(),
                                  summary=summary))
    assert [(p["conversation_id"], p["chosen"][0]["content"], p["chosen_source"]) for p in pairs] == [
        (ids[0], REPLY, "annotator")]


def test_safe_reply_form_at_80x24(tmp_path: Path, snap_compare) -> None:  # noqa: ANN001
    """The `w` form on a laptop terminal: the explanation wraps whole (it names ctrl+s and
    Escape, the only way to learn them: the footer belongs to the screen below)."""
    path = tmp_path / "arena.db"
    build_store(path, [SAFE, SAFE])

    async def run_before(pilot) -> None:  # noqa: ANN001
        await settle(pilot.app, pilot)
        await pilot.press("j", "w")
        await settle(pilot.app, pilot)
        assert "ctrl+s saves, Escape cancels" in str(pilot.app.screen.query_one("Label").render())

    assert snap_compare(make_annotate_app(path, "alice"), terminal_size=(80, 24), run_before=run_before)
