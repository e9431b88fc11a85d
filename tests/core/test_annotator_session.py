"""The annotate workbench's store session without a UI: polling, no anchoring, the verdict scheduler."""

from __future__ import annotations

from pathlib import Path

import pytest

import core.annotator_session as session_module
from core.annotator_session import AnnotatorSession
from core.evaluation.pipeline import record_label
from core.store import Store
from core.store.annotate import QUEUE_DISPUTED, QUEUE_DONE, QUEUE_TO_DO, QueueFilter
from tests.tui.test_annotate_tui import REFUSAL, SAFE, build_store


@pytest.fixture
def arena(tmp_path: Path) -> tuple[Path, int, list[int]]:
    """Two review items for alice, bob and carol."""
    path = tmp_path / "arena.db"
    tid, ids = build_store(path, [SAFE, REFUSAL])
    return path, tid, ids


def test_poll_answers_only_after_another_connection_commits(arena) -> None:  # noqa: ANN001
    """The first poll reads the queue; then nothing until another connection writes a label."""
    path, _, ids = arena
    session = AnnotatorSession(path, "alice")
    try:
        first = session.poll(QueueFilter())
        assert first is not None and list(first.statuses) == [QUEUE_TO_DO, QUEUE_TO_DO] and first.total == 2
        assert session.poll(QueueFilter()) is None
        with Store.open(path, create=False) as other:
            record_label(other, ids[1], "alice", "attack")
        after = session.poll(QueueFilter())
        assert after is not None and list(after.statuses) == [QUEUE_TO_DO, QUEUE_DONE] and after.labelled == 1
    finally:
        session.close()


def test_others_labels_show_only_once_i_have_labelled(arena) -> None:  # noqa: ANN001
    """No anchoring: bob's label shows only after alice's; label and undo report the new state."""
    path, tid, ids = arena
    with Store.open(path, create=False) as other:
        record_label(other, ids[0], "bob", "attack")
    session = AnnotatorSession(path, "alice")
    try:
        item = session.item(ids[0])
        assert item is not None and (item.my_label, list(item.other_labels)) == (None, [])
        change = session.label(ids[0], "defense")
        assert (change.tournament_id, change.label, change.status) == (tid, "defense", QUEUE_DISPUTED)
        item = session.item(ids[0])
        assert (item.my_label, list(item.other_labels)) == ("defense", [("bob", "attack")])
        assert session.undo(ids[0]).label is None
        assert session.item(10_000) is None and session.queue_status(10_000) is None
    finally:
        session.close()


def test_verdict_requests_during_a_recompute_fold_into_one_more_pass(arena, monkeypatch) -> None:  # noqa: ANN001
    """Requests while a recompute runs start no second runner and make one more pass; a
    failed recompute leaves the scheduler ready for the next request."""
    path, tid, ids = arena
    session = AnnotatorSession(path, "alice")
    passes: list[int] = []
    real = session_module.refresh_verdicts

    def recompute(store: Store, tournament_id: int):  # noqa: ANN202
        passes.append(tournament_id)
        if len(passes) == 1:  # two labels arrive while the first pass runs
            assert session.request_verdicts(tid) is False
            assert session.request_verdicts(tid) is False
        return real(store, tournament_id)

    monkeypatch.setattr(session_module, "refresh_verdicts", recompute)
    try:
        session.label(ids[0], "attack")
        assert session.request_verdicts(tid) is True
        assert session.request_verdicts(tid) is False  # asked again before the worker started: one pass
        session.refresh_verdicts()
        assert passes == [tid, tid]
        assert session.request_verdicts(tid) is True, "the scheduler is idle again"

        def broken(store: Store, tournament_id: int) -> None:
            raise RuntimeError("disk full")

        monkeypatch.setattr(session_module, "refresh_verdicts", broken)
        with pytest.raises(RuntimeError):
            session.refresh_verdicts()
        assert session.request_verdicts(tid) is True, "a failed recompute does not leave the scheduler stuck"
    finally:
        session.close()
