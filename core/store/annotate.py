"""Store methods and tables of the annotate workbench (paged queues, per-store settings).

An annotator's queue can hold 100,000 conversations, so the workbench never loads it
whole: `annotator_queue_ids` returns only (conversation id, status) pairs in one
indexed query, and `queue_rows` fetches what a screenful of the queue shows.

A conversation's status for an annotator needs everyone's *current* label (the label
log is append-only, with undo events). `label_current` keeps it, maintained by a
trigger in the same transaction as the label event, so the queue never replays the log.
"""

from __future__ import annotations

import sqlite3
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.store._common import _chunks, _Transaction
from core.store.evaluation import _LABEL_COLUMNS, LabelEvent, _label_event
from core.store.packs import PAGE_ROWS

# Queue statuses as stored in the compact status arrays (one byte per conversation).
QUEUE_TO_DO = 0
QUEUE_DONE = 1
QUEUE_DISPUTED = 2
# The word the CLI's queue table and the annotate workbench show for each status.
STATUS_WORDS = {QUEUE_TO_DO: "to do", QUEUE_DONE: "done", QUEUE_DISPUTED: "disputed"}

ANNOTATE_SCHEMA = """
CREATE TABLE IF NOT EXISTS label_current (
    conversation_id INTEGER NOT NULL,
    annotator TEXT NOT NULL,
    label TEXT,
    event_id INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, annotator)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS label_current_by_annotator ON label_current (annotator, conversation_id);
CREATE INDEX IF NOT EXISTS labels_undone ON labels (undoes) WHERE undoes IS NOT NULL;
CREATE INDEX IF NOT EXISTS assignments_by_tournament ON assignments (tournament_id, annotator);
CREATE TRIGGER IF NOT EXISTS labels_current_ai AFTER INSERT ON labels BEGIN
    DELETE FROM label_current WHERE conversation_id = new.conversation_id AND annotator = new.annotator;
    INSERT INTO label_current (conversation_id, annotator, label, event_id)
        SELECT l.conversation_id, l.annotator, l.label, MAX(l.id) FROM labels l
        WHERE l.conversation_id = new.conversation_id AND l.annotator = new.annotator AND l.action = 'label'
          AND NOT EXISTS (SELECT 1 FROM labels u WHERE u.undoes = l.id AND u.action = 'undo')
        GROUP BY l.conversation_id, l.annotator;
END;
INSERT OR REPLACE INTO label_current (conversation_id, annotator, label, event_id)
    SELECT l.conversation_id, l.annotator, l.label, MAX(l.id) FROM labels l
    WHERE l.action = 'label' AND NOT EXISTS (SELECT 1 FROM labels u WHERE u.undoes = l.id AND u.action = 'undo')
    GROUP BY l.conversation_id, l.annotator;
"""
# The last statement fills `label_current` from the log when the table is first created
# in a store that already has labels; it is idempotent, so rerunning it is harmless.


@dataclass(frozen=True)
class QueueRow:
    """What one line of the annotate queue shows for a conversation."""

    conversation_id: int
    tournament_id: int
    tournament: str
    matchup_id: int
    attacker: str
    defender: str
    n_turns: int
    kind: str


@dataclass(frozen=True)
class AnnotatorMatchup:
    """A matchup holding an item of an annotator's queue, with its tournament's name."""

    id: int
    tournament_id: int
    tournament: str
    attacker: str
    defender: str


@dataclass(frozen=True)
class QueueFilter:
    """Which part of an annotator's queue to list: every field narrows it.

    `status` is None (all) or one of the QUEUE_* codes (QUEUE_DONE also keeps disputed
    items: they are labelled); `search` is a full-text query over turns.
    """

    status: int | None = None
    tournament_id: int | None = None
    matchup_id: int | None = None
    search: str | None = None


_STATUS_SQL = """
CASE WHEN m.event_id IS NULL THEN 0
     WHEN EXISTS (SELECT 1 FROM label_current o WHERE o.conversation_id = a.conversation_id
                  AND o.annotator != a.annotator AND o.label IS NOT m.label) THEN 2
     ELSE 1 END
"""


def _fts_phrase(query: str) -> str:
    return '"' + query.replace('"', '""') + '"'


class _AnnotateMixin:
    """Store methods of the annotate workbench (paged queues, per-store settings)."""

    conn: sqlite3.Connection

    def transaction(self) -> _Transaction: ...  # provided by Store

    # --- the queue ------------------------------------------------------------------

    def annotator_queue_ids(self, annotator: str, queue_filter: QueueFilter | None = None,
                            extra_ids: Sequence[int] = ()) -> tuple[array[int], bytearray]:
        """(conversation ids in id order, one status byte each) of the annotator's queue.

        The queue is the annotator's assignments plus `extra_ids` (an adjudicator's tied
        items), narrowed by `queue_filter`. One query over indexed tables.
        """
        flt = queue_filter or QueueFilter()
        source = "SELECT conversation_id, tournament_id, annotator FROM assignments WHERE annotator = ?"
        params: list[Any] = [annotator]
        if extra_ids:
            source += (" UNION SELECT c.id, c.tournament_id, ? FROM conversations c"
                       " WHERE c.id IN (SELECT value FROM json_each(?))")
            params += [annotator, "[" + ",".join(str(int(i)) for i in extra_ids) + "]"]
        where: list[str] = []
        if flt.tournament_id is not None:
            where.append("a.tournament_id = ?")
            params.append(flt.tournament_id)
        if flt.matchup_id is not None:
            where.append("a.conversation_id IN (SELECT id FROM conversations WHERE matchup_id = ?)")
            params.append(flt.matchup_id)
        if flt.search:
            where.append("a.conversation_id IN (SELECT t.conversation_id FROM turns_fts f"
                         " JOIN turns t ON t.id = f.rowid WHERE turns_fts MATCH ?)")
        sql = (f"SELECT a.conversation_id, {_STATUS_SQL} AS status FROM ({source}) a"
               " LEFT JOIN label_current m ON m.conversation_id = a.conversation_id AND m.annotator = a.annotator")
        if where:
            sql += " WHERE " + " AND ".join(where)
        tail: list[Any] = []
        if flt.status is not None:
            sql = f"SELECT conversation_id, status FROM ({sql}) WHERE " + (
                "status IN (1, 2)" if flt.status == QUEUE_DONE else "status = ?")
            tail = [] if flt.status == QUEUE_DONE else [flt.status]
        sql += " ORDER BY 1"
        try:
            cursor = self.conn.execute(sql, [*params, *([flt.search] if flt.search else []), *tail])
        except sqlite3.OperationalError:
            if not flt.search:
                raise
            # Not valid FTS syntax: search for the words as a literal phrase instead.
            cursor = self.conn.execute(sql, [*params, _fts_phrase(flt.search), *tail])
        # Straight into compact arrays: no list of row tuples, so 100,000 items cost ~1 MB.
        ids, statuses = array("q"), bytearray()
        for conversation_id, status in cursor:
            ids.append(conversation_id)
            statuses.append(status)
        return ids, statuses

    def queue_status(self, conversation_id: int, annotator: str) -> int:
        """The annotator's status on one conversation (QUEUE_TO_DO / DONE / DISPUTED)."""
        row = self.conn.execute(
            "SELECT m.label, EXISTS (SELECT 1 FROM label_current o WHERE o.conversation_id = m.conversation_id"
            " AND o.annotator != m.annotator AND o.label IS NOT m.label)"
            " FROM label_current m WHERE m.conversation_id = ? AND m.annotator = ?",
            (conversation_id, annotator),
        ).fetchone()
        if row is None:
            return QUEUE_TO_DO
        return QUEUE_DISPUTED if row[1] else QUEUE_DONE

    def queue_statuses(self, conversation_ids: Sequence[int], annotator: str) -> dict[int, int]:
        """The annotator's status on each of these conversations (absent ones are to do)."""
        out = dict.fromkeys(conversation_ids, QUEUE_TO_DO)
        for chunk in _chunks(list(conversation_ids), 500):
            marks = ",".join("?" * len(chunk))
            for cid, disputed in self.conn.execute(
                "SELECT m.conversation_id, EXISTS (SELECT 1 FROM label_current o WHERE o.conversation_id ="
                " m.conversation_id AND o.annotator != m.annotator AND o.label IS NOT m.label)"
                f" FROM label_current m WHERE m.annotator = ? AND m.conversation_id IN ({marks})",
                (annotator, *chunk),
            ):
                out[cid] = QUEUE_DISPUTED if disputed else QUEUE_DONE
        return out

    def queue_rows(self, conversation_ids: Sequence[int], annotator: str) -> dict[int, QueueRow]:
        """The queue-line fields of some conversations (a screenful), by id."""
        out: dict[int, QueueRow] = {}
        for chunk in _chunks(list(conversation_ids), 500):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                "SELECT c.id, c.tournament_id, t.name, c.matchup_id, ab.name, db.name, c.n_turns,"
                " COALESCE((SELECT kind FROM assignments s WHERE s.conversation_id = c.id AND s.annotator = ?), 'adjudicate')"
                " FROM conversations c JOIN tournaments t ON t.id = c.tournament_id"
                " JOIN matchups m ON m.id = c.matchup_id JOIN bots ab ON ab.id = m.attacker_id"
                f" JOIN bots db ON db.id = m.defender_id WHERE c.id IN ({marks})",
                (annotator, *chunk),
            ).fetchall()
            out.update((r[0], QueueRow(*r)) for r in rows)
        return out

    def annotator_matchups(self, annotator: str) -> list[AnnotatorMatchup]:
        """Every matchup with an item assigned to the annotator, by id."""
        rows = self.conn.execute(
            "SELECT m.id, m.tournament_id, t.name, ab.name, db.name FROM matchups m"
            " JOIN tournaments t ON t.id = m.tournament_id JOIN bots ab ON ab.id = m.attacker_id"
            " JOIN bots db ON db.id = m.defender_id"
            " WHERE m.id IN (SELECT DISTINCT c.matchup_id FROM assignments a JOIN conversations c"
            " ON c.id = a.conversation_id WHERE a.annotator = ?) ORDER BY m.id",
            (annotator,),
        )
        return [AnnotatorMatchup(*r) for r in rows]

    def current_label(self, conversation_id: int, annotator: str) -> LabelEvent | None:
        """The event that is the annotator's current label on a conversation, or None."""
        columns = ", ".join(f"l.{c.strip()}" for c in _LABEL_COLUMNS.split(","))
        row = self.conn.execute(
            f"SELECT {columns} FROM label_current lc JOIN labels l ON l.id = lc.event_id"
            " WHERE lc.conversation_id = ? AND lc.annotator = ?",
            (conversation_id, annotator),
        ).fetchone()
        return _label_event(row) if row else None

    def annotator_current_labels(self, annotator: str) -> list[LabelEvent]:
        """The events that are the annotator's current labels, in conversation order (for
        exporting them)."""
        columns = ", ".join(f"l.{c.strip()}" for c in _LABEL_COLUMNS.split(","))
        rows = self.conn.execute(
            f"SELECT {columns} FROM label_current lc JOIN labels l ON l.id = lc.event_id"
            " WHERE lc.annotator = ? ORDER BY lc.conversation_id",
            (annotator,),
        ).fetchall()
        return [_label_event(r) for r in rows]

    def label_events_of(self, conversation_ids: Sequence[int]) -> list[LabelEvent]:
        """The label events of a page of conversations, oldest first (the same events as
        `label_events`, for a set of conversations)."""
        rows: list[tuple[Any, ...]] = []
        for chunk in _chunks(list(conversation_ids), PAGE_ROWS):
            marks = ",".join("?" * len(chunk))
            rows.extend(self.conn.execute(f"SELECT {_LABEL_COLUMNS} FROM labels WHERE conversation_id IN ({marks})", chunk))
        return [_label_event(r) for r in sorted(rows)]

    # --- per-store settings -----------------------------------------------------------

    def current_label_rows(self, tournament_id: int) -> list[tuple[int, str, str]]:
        """(conversation id, annotator, label) of every current label in a tournament, in
        event order: the label log with undone and replaced events left out."""
        return self.conn.execute(
            "SELECT lc.conversation_id, lc.annotator, lc.label FROM label_current lc"
            " JOIN conversations c ON c.id = lc.conversation_id WHERE c.tournament_id = ? ORDER BY lc.event_id",
            (tournament_id,),
        ).fetchall()

    def meta_get(self, key: str) -> str | None:
        """A setting kept in the store's `meta` table, or None."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def meta_set(self, key: str, value: str) -> None:
        """Keep a setting in the store's `meta` table (its own transaction)."""
        with self.transaction():
            self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
