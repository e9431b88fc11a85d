"""The store: schema versioning, clear errors on foreign files, batched writes, FTS, resume reset."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from core.store import (
    SCHEMA_VERSION,
    BotVersionOp,
    EventOp,
    FinishOp,
    StartOp,
    Store,
    StoreError,
    TournamentSettings,
    TurnOp,
)


def make_tournament(store: Store, n: int = 3) -> int:
    return store.create_tournament(
        name="t", kind="practice", fingerprint="f", seed=1, conversations_per_matchup=n, max_pairs=5,
        settings=TournamentSettings(), bots=[("a", "attacker", "python", "a.py:A"), ("d", "defender", "python", "d.py:D")],
        conversation_seeds={("a", "d"): list(range(100, 100 + n))},
    )


def test_create_and_reopen(tmp_path: Path) -> None:
    """A new store gets the schema version and an arena id that survive reopening, in WAL mode."""
    path = tmp_path / "a.db"
    with Store.open(path) as store:
        arena = store.arena_id
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with Store.open(path) as store:
        assert store.arena_id == arena
        version = store.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
        assert int(version) == SCHEMA_VERSION


def test_not_a_store(tmp_path: Path) -> None:
    """A text file, a foreign SQLite database and a directory are refused with a clear message, untouched."""
    text = tmp_path / "notes.db"
    text.write_text("hello")
    with pytest.raises(StoreError, match="not an arena store"):
        Store.open(text)
    assert text.read_text() == "hello"
    foreign = tmp_path / "other.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE x (y)")
    conn.commit()
    conn.close()
    before = foreign.read_bytes()
    with pytest.raises(StoreError, match="SQLite database but not an arena store"):
        Store.open(foreign)
    assert foreign.read_bytes() == before
    with pytest.raises(StoreError, match="is a directory"):
        Store.open(tmp_path)


def test_newer_and_older_schema(tmp_path: Path) -> None:
    """A store from a newer or older version says so instead of failing later."""
    path = tmp_path / "a.db"
    with Store.open(path) as store:
        store.conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StoreError, match="newer Adversarial Arena"):
        Store.open(path)
    with pytest.raises(StoreError, match="newer Adversarial Arena"):
        Store.open_readonly(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="older store schema"):
        Store.open(path)


def test_missing_store_readonly(tmp_path: Path) -> None:
    """Followers never create a store."""
    with pytest.raises(StoreError, match="no arena store"):
        Store.open_readonly(tmp_path / "none.db")
    assert not (tmp_path / "none.db").exists()


def test_apply_batch_search_and_follow(tmp_path: Path) -> None:
    """Batched ops land in order; FTS finds turn text; followers read by rowid and see data_version move."""
    path = tmp_path / "a.db"
    store = Store.open(path)
    tid = make_tournament(store)
    conv = store.conversations(tid)[0]
    follower = Store.open_readonly(path)
    version = follower.data_version()
    store.apply([
        StartOp(conv.id, tid, 1.0),
        TurnOp(conv.id, 0, "attacker", "please write a keylogger", 0.1, 1.0),
        TurnOp(conv.id, 1, "defender", "I can't help with that", 0.2, 1.1),
        FinishOp(conv.id, tid, "complete", None, None, "max_pairs", 2, 1.2),
    ])
    assert follower.data_version() != version
    assert [t.role for t in follower.turns_after(0)] == ["attacker", "defender"]
    assert [e.kind for e in follower.events_after(0)] == ["started", "complete"]
    assert store.search_turns("keylogger") == [conv.id]
    assert store.search_turns('unbalanced "quote') == []
    assert store.conversation(conv.id).status == "complete"
    assert store.status_counts(tid) == {"pending": 2, "running": 0, "complete": 1, "incomplete": 0}
    with pytest.raises(sqlite3.OperationalError):
        follower.conn.execute("DELETE FROM turns")
    follower.close()
    store.close()


def test_failed_batch_writes_nothing(tmp_path: Path) -> None:
    """A batch is one transaction: a bad op rolls back the whole batch."""
    store = Store.open(tmp_path / "a.db")
    tid = make_tournament(store)
    conv = store.conversations(tid)[0]
    with pytest.raises(sqlite3.IntegrityError):
        store.apply([
            TurnOp(conv.id, 0, "attacker", "x", 0.1, 1.0),
            TurnOp(conv.id, 0, "attacker", "duplicate index", 0.1, 1.0),
        ])
    assert store.turns(conv.id) == []


def test_every_op_kind_lands_and_anything_else_is_refused(tmp_path: Path) -> None:
    """`Store.apply` writes each kind of op where it belongs; something that is not an op
    (the string-tagged tuples of earlier versions) is refused and the batch rolled back."""
    store = Store.open(tmp_path / "a.db")
    tid = make_tournament(store)
    conv = store.conversations(tid)[0]
    store.apply([BotVersionOp(tid, "d", "2.1"), EventOp(tid, "bot_timeout", None, "d", "no reply", 1.0)])
    assert [(b.name, b.version) for b in store.bots(tid)] == [("a", None), ("d", "2.1")]
    assert [(e.kind, e.bot, e.detail) for e in store.events_after(0)][-1] == ("bot_timeout", "d", "no reply")
    with pytest.raises(TypeError, match="not a store op"):
        store.apply([StartOp(conv.id, tid, 2.0), ("turn", (conv.id, 0, "attacker", "x", 0.1, 2.0))])
    assert store.conversation(conv.id).status == "pending" and store.turns(conv.id) == []
    store.close()


def test_reset_unfinished(tmp_path: Path) -> None:
    """Resume reset: running and interrupted conversations go back to pending without their turns;
    complete ones and real failures stay."""
    store = Store.open(tmp_path / "a.db")
    tid = make_tournament(store, n=4)
    c = store.conversations(tid)
    store.apply([
        StartOp(c[0].id, tid, 1.0), TurnOp(c[0].id, 0, "attacker", "a", 0.1, 1.0),
        FinishOp(c[0].id, tid, "complete", None, None, "max_pairs", 1, 1.0),
        StartOp(c[1].id, tid, 1.0), TurnOp(c[1].id, 0, "attacker", "b", 0.1, 1.0),
        StartOp(c[2].id, tid, 1.0), FinishOp(c[2].id, tid, "incomplete", "interrupted", "stop", None, 0, 1.0),
        StartOp(c[3].id, tid, 1.0), FinishOp(c[3].id, tid, "incomplete", "timeout", "slow", None, 0, 1.0),
    ])
    assert store.reset_unfinished(tid) == 2
    assert [x.status for x in store.conversations(tid)] == ["complete", "pending", "pending", "incomplete"]
    assert store.turns(c[1].id) == [] and len(store.turns(c[0].id)) == 1
    assert store.search_turns("b") == []
    assert store.reset_unfinished(tid, retry_incomplete=True) == 1


def test_opening_keeps_this_process_locks(tmp_path: Path) -> None:
    """Opening a store reads the file only through SQLite. Reading its header with plain
    file I/O would drop this process's locks on close, so another process closing the
    store would think it the last user and delete the WAL under this process."""
    db = tmp_path / "arena.db"
    with Store.open(db) as store:
        Store.open_readonly(db).close()
        Store.open(db).close()
        other = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                 "c.execute('SELECT COUNT(*) FROM meta').fetchone(); c.close()")
        subprocess.run([sys.executable, "-c", other, str(db)], check=True)
        assert (tmp_path / "arena.db-wal").exists() and (tmp_path / "arena.db-shm").exists()
        with Store.open_readonly(db) as reader:
            assert reader.arena_id == store.arena_id


def test_bulk_batch_indexes_turns_as_the_trigger_does(tmp_path: Path) -> None:
    """A batch large enough to set the per-row index trigger aside leaves the same full-text
    index as row-by-row writes (same rowids and text: FTS5's integrity check against the
    turns, the same search results), and the trigger is back afterwards."""
    from core.store import BULK_INDEX_TURNS

    words = "alpha beta gamma delta keylogger ransomware exploit sandbox".split()
    n = BULK_INDEX_TURNS + 50
    results = []
    for batch in (1, n):
        store = Store.open(tmp_path / f"b{batch}.db")
        tid = make_tournament(store, n // 10 + 1)
        convs = store.conversations(tid)
        ops = [TurnOp(convs[i // 10].id, i % 10, "attacker" if i % 2 == 0 else "defender",
                      f"{words[i % 8]} {words[(i * 3) % 8]} turn{i}", 0.1, 1.0) for i in range(n)]
        for k in range(0, n, batch):
            store.apply([StartOp(convs[0].id, tid, 1.0), *ops[k:k + batch]])
        store.conn.execute("INSERT INTO turns_fts (turns_fts) VALUES ('integrity-check')")
        assert store.conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'turns_ai'").fetchone() == (1,)
        store.apply([TurnOp(convs[-1].id, 9, "defender", "after the bulk batch: zeta", 0.1, 1.0)])
        results.append([store.search_turns(q, limit=1000) for q in [*words, "turn7", "zeta", "turn1*"]]
                       + [store.conn.execute("SELECT COUNT(*) FROM turns_fts WHERE turns_fts MATCH 'alpha OR zeta'").fetchone()])
        store.close()
    assert results[0] == results[1]
    assert results[0][-2] and results[0][-3] == [convs[-1].id]
