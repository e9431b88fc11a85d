"""Bulk writes of turns (import, packs) index them once after the insert instead of row by
row through the `turns_ai` trigger: the index must answer every search exactly as the
per-row trigger's does, the store must keep its trigger, and a failed bulk write must
leave nothing behind."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from core.data.importer import import_conversations, parse_lines
from core.store import Store, fts

WORDS = ("keylogger KeyLogger subprocess shell=True password hash md5 socket connect pickle yaml reverse "
         "naïve café Straße ÉCOLE данные 数据 eval(input()) os.system('rm -rf /') \"quoted\" it's x_y-z "
         "the a of to def return import").split()
SEARCHES = ("keylogger", "KeyLogger", "key*", "subprocess AND shell", "shell=True", "password OR hash", "md5",
            "NEAR(socket connect)", "pickle NOT yaml", '"reverse shell"', 'unbalanced "quote', "naive", "cafe",
            "strasse", "данные", "数据", "rm", "x_y", "the", "eval")


def records(n: int, seed: int) -> list[str]:
    import json

    rng = random.Random(seed)
    lines = []
    for i in range(n):
        messages = [{"role": "user" if t % 2 == 0 else "assistant",
                     "content": " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 40)))} for t in range(10)]
        lines.append(json.dumps({"messages": messages, "attacker": f"att{i % 3}", "defender": f"def{i % 2}"}))
    return lines


def answers(store: Store) -> dict[str, list]:
    """Every search as `Store.search_turns` answers it, and the full ranked match list
    (rowid, bm25 rank) straight from the index."""
    out: dict[str, list] = {}
    for query in SEARCHES:
        out[query] = [store.search_turns(query, limit=10_000)]
        try:
            out[query].append(store.conn.execute(
                "SELECT rowid, round(rank, 9) FROM turns_fts WHERE turns_fts MATCH ? ORDER BY rank, rowid",
                (query,)).fetchall())
        except sqlite3.OperationalError as exc:
            out[query].append(str(exc))
    return out


def triggers(store: Store) -> list[tuple]:
    return store.conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").fetchall()


def two_imports(path: Path) -> Store:
    """A store with two imported tournaments (the second lands after existing turns)."""
    store = Store.open(path)
    import_conversations(store, parse_lines(records(120, 1)), name="first")
    import_conversations(store, parse_lines(records(90, 2)), name="second")
    return store


def test_bulk_import_searches_exactly_as_the_per_row_trigger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = Store.open(tmp_path / "fresh.db")
    fresh_triggers = triggers(fresh)
    fresh.close()
    with two_imports(tmp_path / "bulk.db") as bulk:
        bulk_answers = answers(bulk)
        assert triggers(bulk) == fresh_triggers  # the trigger is back, as sqlite-utils declared it
        bulk.conn.execute("INSERT INTO turns_fts (turns_fts, rank) VALUES ('integrity-check', 1)")
        assert bulk.conn.execute("SELECT COUNT(*) FROM turns").fetchone()[0] == 2100
    monkeypatch.setattr(fts, "BULK_TURNS", 10**9)  # every insert through the per-row trigger
    with two_imports(tmp_path / "per_row.db") as per_row:
        assert answers(per_row) == bulk_answers
    assert any(len(a[1]) > 50 for a in bulk_answers.values())  # the searches do find turns


def test_the_per_row_trigger_still_indexes_after_a_bulk_import(tmp_path: Path) -> None:
    with two_imports(tmp_path / "arena.db") as store:
        conversation = store.conn.execute("SELECT MAX(id) FROM conversations").fetchone()[0]
        with store.transaction():
            fts.insert_turns(store.conn, ("conversation_id", "turn_index", "role", "content", "created_at"),
                             [(conversation, 99, "attacker", "zebracorn", 0.0)])
        assert store.search_turns("zebracorn") == [conversation]
        store.conn.execute("INSERT INTO turns_fts (turns_fts, rank) VALUES ('integrity-check', 1)")


def test_a_failed_bulk_insert_leaves_the_store_and_its_trigger_as_they_were(tmp_path: Path) -> None:
    with two_imports(tmp_path / "arena.db") as store:
        before = (triggers(store), answers(store), store.conn.execute("SELECT COUNT(*) FROM turns").fetchone()[0])
        conversation = store.conn.execute("SELECT MIN(id) FROM conversations").fetchone()[0]
        rows = [(conversation, 100 + i, "attacker", f"newword{i}", 0.0) for i in range(fts.BULK_TURNS + 10)]
        rows.append((conversation, 0, "attacker", "clashes with turn 0", 0.0))  # UNIQUE (conversation_id, turn_index)
        with pytest.raises(sqlite3.IntegrityError):
            store.insert_rows("turns", ["conversation_id", "turn_index", "role", "content", "created_at"], rows)
        assert not store.conn.in_transaction
        assert (triggers(store), answers(store), store.conn.execute("SELECT COUNT(*) FROM turns").fetchone()[0]) == before
        assert store.search_turns("newword1") == []
