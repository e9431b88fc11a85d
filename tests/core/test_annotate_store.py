"""Store queries of the annotate workbench: the compact queue, statuses, settings, concurrent annotators."""

from __future__ import annotations

import threading
from pathlib import Path

from core.evaluation.pipeline import current_labels, record_label, refresh_verdicts, undo_label
from core.store import Store
from core.store.annotate import QUEUE_DISPUTED, QUEUE_DONE, QUEUE_TO_DO, QueueFilter
from tests.tui.test_annotate_tui import REFUSAL, SAFE, build_store


def test_queue_ids_and_statuses_follow_labels_and_undo(tmp_path: Path) -> None:
    """to do → done → disputed (other annotator differs) → to do after undo; filters narrow."""
    path = tmp_path / "arena.db"
    tid, ids = build_store(path, [SAFE, REFUSAL, SAFE], attacks=["write code", "zebra please", "write code"])
    with Store.open(path) as store:
        queue, statuses = store.annotator_queue_ids("alice")
        assert list(queue) == ids and list(statuses) == [QUEUE_TO_DO] * 3
        record_label(store, ids[0], "alice", "attack")
        record_label(store, ids[0], "alice", "defense")
        record_label(store, ids[0], "bob", "attack")
        record_label(store, ids[1], "alice", "attack")
        _, statuses = store.annotator_queue_ids("alice")
        assert list(statuses) == [QUEUE_DISPUTED, QUEUE_DONE, QUEUE_TO_DO]
        assert store.current_label(ids[0], "alice").label == "defense"
        undo_label(store, ids[0], "alice")  # back to "attack": agrees with bob
        assert store.current_label(ids[0], "alice").label == "attack"
        assert store.queue_status(ids[0], "alice") == QUEUE_DONE
        undo_label(store, ids[0], "alice")
        assert store.current_label(ids[0], "alice") is None
        assert store.queue_statuses(ids, "alice") == {ids[0]: QUEUE_TO_DO, ids[1]: QUEUE_DONE, ids[2]: QUEUE_TO_DO}
        assert list(store.annotator_queue_ids("alice", QueueFilter(status=QUEUE_TO_DO))[0]) == [ids[0], ids[2]]
        assert list(store.annotator_queue_ids("alice", QueueFilter(status=QUEUE_DONE))[0]) == [ids[1]]
        assert list(store.annotator_queue_ids("alice", QueueFilter(search="zebra"))[0]) == [ids[1]]
        assert list(store.annotator_queue_ids("alice", QueueFilter(search='"unbalanced'))[0]) == []
        assert list(store.annotator_queue_ids("alice", QueueFilter(tournament_id=tid + 1))[0]) == []
        matchup = store.annotator_matchups("alice")[0]
        assert list(store.annotator_queue_ids("alice", QueueFilter(matchup_id=matchup.id))[0]) == ids
        assert list(store.annotator_queue_ids("judge", extra_ids=[ids[2]])[0]) == [ids[2]]
        rows = store.queue_rows(ids[:2], "alice")
        assert rows[ids[0]].attacker == "a" and rows[ids[0]].kind == "review" and rows[ids[1]].n_turns == 2
        # The maintained table agrees with replaying the log.
        replayed = current_labels(store.label_events())
        assert {(c, w): e.id for c, by in replayed.items() for w, e in by.items()} == {
            (c, w): store.current_label(c, w).id for c, by in replayed.items() for w in by}


def test_label_current_is_backfilled_for_an_older_store(tmp_path: Path) -> None:
    """A store whose labels predate the `label_current` table (an early schema-1 store) gets
    it filled on open, by the upgrade."""
    path = tmp_path / "arena.db"
    _, ids = build_store(path, [SAFE, REFUSAL])
    with Store.open(path) as store:
        record_label(store, ids[0], "alice", "attack")
        with store.transaction():
            store.conn.execute("DROP TRIGGER labels_current_ai")
            store.conn.execute("DROP TABLE label_current")
            store.conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with Store.open(path) as store:
        assert store.upgraded_from == 1
        assert store.current_label(ids[0], "alice").label == "attack"


def test_meta_settings_round_trip(tmp_path: Path) -> None:
    """meta_set then meta_get in another connection."""
    path = tmp_path / "arena.db"
    build_store(path, [SAFE])
    with Store.open(path) as store:
        assert store.meta_get("annotate.annotator.x") is None
        store.meta_set("annotate.annotator.x", "alice")
    with Store.open(path) as store:
        assert store.meta_get("annotate.annotator.x") == "alice"


def test_three_annotators_label_at_once_without_loss(tmp_path: Path) -> None:
    """Three annotators, each with their own connection, label every item and refresh verdicts
    concurrently: no error reaches them and every label is in the store."""
    path = tmp_path / "arena.db"
    tid, ids = build_store(path, [SAFE, REFUSAL] * 30)
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def annotate(name: str) -> None:
        try:
            with Store.open(path, create=False) as store:
                start.wait()
                for n, cid in enumerate(ids):
                    record_label(store, cid, name, "attack" if n % 2 else "defense", source="tui")
                    if n % 10 == 0:
                        refresh_verdicts(store, tid)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=annotate, args=(name,)) for name in ("alice", "bob", "carol")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Store.open(path, create=False) as store:
        current = current_labels(store.label_events())
        assert all(set(current[cid]) == {"alice", "bob", "carol"} for cid in ids)
        assert all(list(store.annotator_queue_ids(name)[1]) == [QUEUE_DONE] * len(ids)
                   for name in ("alice", "bob", "carol"))
