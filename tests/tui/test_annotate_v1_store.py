"""The annotate TUI on a store written by the previous release (store schema 1)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from arena_tui.annotate.screen import AnnotateScreen
from arena_tui.cli.labelling import make_annotate_app
from core.store import SCHEMA_VERSION, Store
from core.store.annotate import QUEUE_DISPUTED, QUEUE_DONE, QUEUE_TO_DO
from tests.tui.test_annotate_tui import my_labels, run_async, settle

V1_STORE = Path(__file__).resolve().parent.parent / "data" / "store_v1.db"


@run_async
async def test_annotating_a_v1_store_upgrades_it_and_saves_labels(tmp_path: Path) -> None:
    """Opening a schema-1 store in the workbench upgrades it; the queue shows the
    annotator's items with the labels already given, and a new label reaches the store."""
    path = tmp_path / "arena.db"
    shutil.copyfile(V1_STORE, path)
    before = my_labels_raw(path, "alice")
    disputed = {cid for cid, label in before.items() if my_labels_raw(path, "bob").get(cid, label) != label}
    assert before and disputed
    app = make_annotate_app(path, "alice")
    with Store.open_readonly(path) as store:
        assert store.meta_get("schema_version") == str(SCHEMA_VERSION)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, AnnotateScreen)
        first = screen.current_id
        assert first is not None and first not in before and screen.queue.status_of(first) == QUEUE_TO_DO
        assert {cid: screen.queue.status_of(cid) for cid in before} == {
            cid: QUEUE_DISPUTED if cid in disputed else QUEUE_DONE for cid in before}
        await pilot.press("2")
        await settle(app, pilot)
    assert my_labels(path, "alice") == {**before, first: "defense"}


def my_labels_raw(path: Path, annotator: str) -> dict[int, str]:
    """The annotator's labels in the schema-1 file, read without the store's code."""
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return dict(conn.execute("SELECT conversation_id, label FROM labels WHERE annotator = ? AND action = 'label'",
                                 (annotator,)).fetchall())
    finally:
        conn.close()
