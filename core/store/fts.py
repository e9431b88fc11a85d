"""The full-text index over turns (`turns_fts`, declared by sqlite-utils' `enable_fts` in
`schema`) and the one way a bulk write of turns keeps it: `insert_turns`."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

# The full-text index: `turns_fts` over turns.content, kept by triggers on `turns`.
FTS_TABLE = "turns"
FTS_COLUMNS = ("content",)
FTS_TOKENIZER = "unicode61"
# The trigger that indexes each turn as it is inserted. A bulk insert (`insert_turns`) sets
# it aside and indexes all its turns in one statement: the same index, the import in under a third of the time.
FTS_INSERT_TRIGGER = f"{FTS_TABLE}_ai"
# Below this many turns an insert keeps the per-row trigger. Measured per turn of 300
# bytes, each batch its own transaction: 50 turns 28 µs with the trigger, 15 µs in bulk;
# 200 turns 26 / 8.4 µs; 500 turns 24 / 8.1 µs. The orchestrator's batches (one per 50 ms
# of play, `Store.apply`) are often a few hundred turns.
BULK_TURNS = 50
# FTS5's pending-term buffer while a bulk insert is indexed (FTS5's default, 1 MiB, or
# the store's own setting is put back after): fewer, larger segments to write and merge,
# ~15 % less indexing time.
BULK_HASHSIZE = 16 << 20
FTS5_DEFAULT_HASHSIZE = 1 << 20


def insert_turns(conn: sqlite3.Connection, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert turn rows and index them in the full-text index, inside the caller's open
    transaction.

    A bulk insert drops the per-row insert trigger, inserts the rows with executemany,
    indexes every new turn with one ``INSERT … SELECT`` into ``turns_fts`` and creates the
    trigger again from its stored SQL, all in that one transaction: a crash or an error
    rolls all of it back, and no other connection ever sees the store without its
    trigger or with turns missing from the index. The index holds exactly what the
    per-row trigger would have put in it (same rowids, same text). Small inserts, and
    rows carrying ids at or below the largest stored one, take the per-row trigger.
    """
    if not conn.in_transaction:
        raise RuntimeError("insert_turns runs inside a transaction")
    sql = f"INSERT INTO {FTS_TABLE} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    last = conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {FTS_TABLE}").fetchone()[0]
    if "id" in columns:
        at = list(columns).index("id")
        fresh_ids = all(row[at] is not None and row[at] > last for row in rows)
    else:
        fresh_ids = True
    trigger = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                           (FTS_INSERT_TRIGGER,)).fetchone()
    if len(rows) < BULK_TURNS or not fresh_ids or trigger is None:
        conn.executemany(sql, rows)
        return
    fts = f"{FTS_TABLE}_fts"
    conn.execute(f"DROP TRIGGER {FTS_INSERT_TRIGGER}")
    try:
        conn.executemany(sql, rows)
        held = conn.execute(f"SELECT v FROM {fts}_config WHERE k = 'hashsize'").fetchone()
        conn.execute(f"INSERT INTO {fts} ({fts}, rank) VALUES ('hashsize', ?)", (BULK_HASHSIZE,))
        conn.execute(f"INSERT INTO {fts} (rowid, {FTS_COLUMNS[0]}) SELECT id, {FTS_COLUMNS[0]} FROM {FTS_TABLE}"
                     " WHERE id > ?", (last,))
        conn.execute(f"INSERT INTO {fts} ({fts}, rank) VALUES ('hashsize', ?)",
                     (held[0] if held else FTS5_DEFAULT_HASHSIZE,))
    finally:
        # On an error the caller rolls back (which brings the trigger back too); until
        # then this connection's view of the store keeps its trigger as well.
        if conn.in_transaction and conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                                                (FTS_INSERT_TRIGGER,)).fetchone() is None:
            conn.execute(trigger[0])
