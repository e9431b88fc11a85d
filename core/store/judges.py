"""Store methods and table of the judges: machine annotators' labels, kept apart from
the human label log so that nothing that counts human labels (verdicts, agreement,
queues, packs, label exports) can ever count them.

One row per (conversation, judge): the judge's label, the landing turn it named, a
short rationale, and, when every attempt failed, the error instead of a label (such a
row is retried by the next `arena-tui judge`).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass

from core.store._common import _chunks, _Transaction

JUDGES_SCHEMA = """
CREATE TABLE IF NOT EXISTS judge_labels (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    tournament_id INTEGER NOT NULL,
    judge TEXT NOT NULL,
    source TEXT NOT NULL,
    label TEXT,
    turn INTEGER,
    rationale TEXT NOT NULL DEFAULT '',
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL,
    PRIMARY KEY (conversation_id, judge)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS judge_labels_by_tournament ON judge_labels (tournament_id, judge);
"""


@dataclass(frozen=True)
class JudgeLabelRow:
    """A judge's label on one conversation (`label` None: every attempt failed, `error` says why).
    `turn` is the 0-based index of the turn where the judge says the attack landed."""

    conversation_id: int
    judge: str
    source: str
    label: str | None
    turn: int | None
    rationale: str
    error: str | None
    attempts: int


_COLUMNS = "conversation_id, judge, source, label, turn, rationale, error, attempts"


class _JudgesMixin:
    """Store methods of the judges (their labels)."""

    conn: sqlite3.Connection

    def transaction(self) -> _Transaction: ...  # provided by Store

    def save_judge_labels(self, tournament_id: int, rows: Sequence[JudgeLabelRow]) -> None:
        """Store judge labels in one transaction; a row replaces the judge's earlier row on
        that conversation (a failed attempt retried, or a label judged again)."""
        now = time.time()
        with self.transaction():
            self.conn.executemany(
                f"INSERT OR REPLACE INTO judge_labels ({_COLUMNS}, tournament_id, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(r.conversation_id, r.judge, r.source, r.label, r.turn, r.rationale, r.error, r.attempts,
                  tournament_id, now) for r in rows],
            )

    def judge_labels(self, tournament_id: int, judge: str | None = None) -> list[JudgeLabelRow]:
        """A tournament's judge labels (one judge's, or every judge's), failed rows included."""
        if judge is None:
            rows = self.conn.execute(f"SELECT {_COLUMNS} FROM judge_labels WHERE tournament_id = ?"
                                     " ORDER BY conversation_id, judge", (tournament_id,))
        else:
            rows = self.conn.execute(f"SELECT {_COLUMNS} FROM judge_labels WHERE tournament_id = ? AND judge = ?"
                                     " ORDER BY conversation_id", (tournament_id, judge))
        return [JudgeLabelRow(*r) for r in rows]

    def judge_labels_of(self, conversation_id: int) -> list[JudgeLabelRow]:
        """Every judge's row on one conversation."""
        rows = self.conn.execute(f"SELECT {_COLUMNS} FROM judge_labels WHERE conversation_id = ? ORDER BY judge",
                                 (conversation_id,))
        return [JudgeLabelRow(*r) for r in rows]

    def judged_conversations(self, judge: str, conversation_ids: Sequence[int]) -> set[int]:
        """Those of `conversation_ids` the judge has labelled (failed attempts are not labels)."""
        done: set[int] = set()
        for chunk in _chunks(list(conversation_ids), 500):
            marks = ",".join("?" * len(chunk))
            done.update(r[0] for r in self.conn.execute(
                f"SELECT conversation_id FROM judge_labels WHERE judge = ? AND label IS NOT NULL"
                f" AND conversation_id IN ({marks})", [judge, *chunk]))
        return done

    def verdict_reasons(self, tournament_ids: Sequence[int]) -> dict[str, int]:
        """How many stored verdicts of these tournaments have each reason (undecided included)."""
        marks = ",".join("?" * len(tournament_ids)) or "NULL"
        return dict(self.conn.execute(
            f"SELECT reason, COUNT(*) FROM verdicts WHERE tournament_id IN ({marks}) GROUP BY reason",
            list(tournament_ids)).fetchall())
