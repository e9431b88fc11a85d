"""Store methods and table of the safe replies annotators write (the chosen side of
preference pairs, `core.data.preference`)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

from core.store._common import _chunks, _Transaction

# Append-only: a reply an annotator wrote in place of a defender reply (`turn_index`,
# 0-based, a defender turn). The latest one for a (conversation, turn) is the one used.
SAFE_REPLIES_SCHEMA = """
CREATE TABLE IF NOT EXISTS safe_replies (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    turn_index INTEGER NOT NULL,
    annotator TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS safe_replies_by_conversation ON safe_replies (conversation_id, turn_index, id);
"""

# Conversation ids per query: under SQLite's bound-parameter limit.
_CHUNK = 500


class _RepliesMixin:
    """Store methods of annotator-written safe replies."""

    conn: sqlite3.Connection

    def transaction(self) -> _Transaction: ...  # provided by Store

    def add_safe_reply(self, conversation_id: int, turn_index: int, annotator: str, content: str,
                       created_at: float | None = None) -> int:
        """Append one safe reply (its own transaction, durable on return); returns its id."""
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO safe_replies (conversation_id, turn_index, annotator, content, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (conversation_id, turn_index, annotator, content, created_at if created_at is not None else time.time()),
            )
            return cur.lastrowid

    def add_safe_replies(self, rows: Sequence[tuple[int, int, str, str, float]]) -> None:
        """Append replies as `safe_reply_rows` gives them (one transaction)."""
        with self.transaction():
            self.conn.executemany(
                "INSERT INTO safe_replies (conversation_id, turn_index, annotator, content, created_at)"
                " VALUES (?, ?, ?, ?, ?)", rows)

    def safe_reply_rows(self) -> list[tuple[int, int, str, str, float]]:
        """Every safe reply as (conversation id, turn index, annotator, content, created
        at), oldest first: what a pack brings back (`core.data.packs`)."""
        if not self._has_safe_replies():
            return []
        return self.conn.execute("SELECT conversation_id, turn_index, annotator, content, created_at"
                                 " FROM safe_replies ORDER BY id").fetchall()

    def has_safe_reply(self, row: tuple[int, int, str, str, float]) -> bool:
        """Whether this very reply (same item, turn, annotator, text and time) is stored:
        merging a pack twice adds its replies once."""
        return self.conn.execute(
            "SELECT 1 FROM safe_replies WHERE conversation_id = ? AND turn_index = ? AND annotator = ?"
            " AND content = ? AND created_at = ?", row).fetchone() is not None

    def _has_safe_replies(self) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'safe_replies'").fetchone() is not None

    def safe_replies_of(self, conversation_ids: Sequence[int]) -> dict[tuple[int, int], tuple[str, str]]:
        """(conversation id, turn index) -> (annotator, content) of the latest safe reply
        written for that turn, for a page of conversations. (A schema-3 store made before
        this table was declared has none: it reads as no replies.)"""
        out: dict[tuple[int, int], tuple[str, str]] = {}
        if not self._has_safe_replies():
            return out
        for chunk in _chunks(list(conversation_ids), _CHUNK):
            marks = ",".join("?" * len(chunk))
            for cid, turn, annotator, content in self.conn.execute(
                f"SELECT conversation_id, turn_index, annotator, content FROM safe_replies"
                f" WHERE conversation_id IN ({marks}) ORDER BY id",
                chunk,
            ):
                out[(cid, turn)] = (annotator, content)
        return out
