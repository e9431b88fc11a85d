"""Store methods and tables of the evaluation pipeline: scans, code blocks, findings,
review assignments, the append-only label log, verdicts."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.evaluation.static import Finding
from core.store._common import _chunks, _Transaction

if TYPE_CHECKING:
    from core.store import TurnRow

EVALUATION_SCHEMA = """
CREATE TABLE IF NOT EXISTS scans (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id),
    tournament_id INTEGER NOT NULL,
    blocks INTEGER NOT NULL,
    parsed_blocks INTEGER NOT NULL,
    findings INTEGER NOT NULL,
    scanned_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS code_blocks (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    turn_index INTEGER NOT NULL,
    block_index INTEGER NOT NULL,
    start_offset INTEGER NOT NULL,
    end_offset INTEGER NOT NULL,
    start_line INTEGER NOT NULL,
    line_count INTEGER NOT NULL,
    language TEXT NOT NULL,
    fenced INTEGER NOT NULL,
    parsed INTEGER NOT NULL,
    skipped_reason TEXT
);
CREATE INDEX IF NOT EXISTS code_blocks_by_conversation ON code_blocks (conversation_id);
CREATE TABLE IF NOT EXISTS findings (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    turn_index INTEGER NOT NULL,
    block_index INTEGER NOT NULL,
    line_in_block INTEGER NOT NULL,
    line_in_reply INTEGER NOT NULL,
    test_id TEXT NOT NULL,
    test_name TEXT NOT NULL,
    cwe TEXT,
    severity TEXT NOT NULL,
    confidence TEXT NOT NULL,
    code_line TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS findings_by_conversation ON findings (conversation_id);
CREATE TABLE IF NOT EXISTS assignments (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    tournament_id INTEGER NOT NULL,
    annotator TEXT NOT NULL,
    kind TEXT NOT NULL,
    assigned_at REAL NOT NULL,
    UNIQUE (conversation_id, annotator)
);
CREATE INDEX IF NOT EXISTS assignments_by_annotator ON assignments (annotator, conversation_id);
CREATE TABLE IF NOT EXISTS labels (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    annotator TEXT NOT NULL,
    action TEXT NOT NULL,
    label TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    turn INTEGER,
    note TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,
    forced INTEGER NOT NULL DEFAULT 0,
    undoes INTEGER,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS labels_by_conversation ON labels (conversation_id, annotator, id);
CREATE TABLE IF NOT EXISTS verdicts (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id),
    tournament_id INTEGER NOT NULL,
    verdict TEXT,
    reason TEXT NOT NULL,
    method TEXT NOT NULL,
    confidence REAL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS verdicts_by_tournament ON verdicts (tournament_id, verdict);
"""


@dataclass(frozen=True)
class LabelEvent:
    """One row of the append-only label log (action "label" or "undo")."""

    id: int
    conversation_id: int
    annotator: str
    action: str
    label: str | None
    tags: tuple[str, ...]
    turn: int | None
    note: str
    source: str
    forced: bool
    undoes: int | None
    created_at: float


@dataclass(frozen=True)
class FindingRow(Finding):
    """A stored bandit finding: the static stage's `Finding`, with its row id and the
    conversation and turn (reply) it was found in."""

    id: int
    conversation_id: int
    turn_index: int


@dataclass(frozen=True)
class CodeBlockRow:
    """A code block the static stage extracted from a defender reply: where it sits in
    the reply, its language, whether it was fenced and parsed (else why it was skipped)."""

    turn_index: int
    block_index: int
    start_offset: int
    end_offset: int
    start_line: int
    line_count: int
    language: str
    fenced: bool
    parsed: bool
    skipped_reason: str | None


@dataclass(frozen=True)
class AssignmentRow:
    """A review item given to an annotator (`kind`: review, or audit of a static success)."""

    conversation_id: int
    annotator: str
    kind: str


@dataclass(frozen=True)
class Verdict:
    """The outcome of one complete conversation. `verdict` None means undecided; `reason`
    says what decided it (or why nothing did), `method` how, `confidence` how surely."""

    conversation_id: int
    verdict: str | None
    reason: str
    method: str
    confidence: float | None = None


_LABEL_COLUMNS = "id, conversation_id, annotator, action, label, tags, turn, note, source, forced, undoes, created_at"
# The columns of `findings`, in `FindingRow`'s field order.
_FINDING_FIELDS = (
    "block_index, line_in_block, line_in_reply, test_id, test_name, cwe, severity, confidence, code_line, message,"
    " id, conversation_id, turn_index"
)


_LABEL_INSERT = f"INSERT INTO labels ({_LABEL_COLUMNS.removeprefix('id, ')}) VALUES (?,?,?,?,?,?,?,?,?,?,?)"


def _insert_label(conn: sqlite3.Connection, conversation_id: int, annotator: str, action: str, label: str | None,
                  tags: Sequence[str], turn: int | None, note: str, source: str, forced: bool, undoes: int | None,
                  created_at: float) -> int:
    """Append one label event inside the caller's transaction; returns its id."""
    cur = conn.execute(_LABEL_INSERT, (conversation_id, annotator, action, label, json.dumps(list(tags)), turn, note,
                                       source, int(forced), undoes, created_at))
    return cur.lastrowid


def _label_event(row: Sequence[Any]) -> LabelEvent:
    values = list(row)
    values[5] = tuple(json.loads(values[5]))
    values[9] = bool(values[9])
    return LabelEvent(*values)


class _EvaluationMixin:
    """Store methods of the evaluation pipeline (scans, findings, queue, labels, verdicts)."""

    conn: sqlite3.Connection

    def transaction(self) -> _Transaction: ...  # provided by Store

    # --- static stage ---------------------------------------------------------------

    def unscanned_conversations(self, tournament_id: int) -> list[int]:
        """Complete conversations the static stage has not scanned yet."""
        rows = self.conn.execute(
            "SELECT c.id FROM conversations c LEFT JOIN scans s ON s.conversation_id = c.id"
            " WHERE c.tournament_id = ? AND c.status = 'complete' AND s.conversation_id IS NULL ORDER BY c.id",
            (tournament_id,),
        )
        return [r[0] for r in rows]

    def defender_turns(self, conversation_ids: Sequence[int]) -> list[TurnRow]:
        """The defender turns of some conversations, by conversation and turn."""
        from core.store import TurnRow

        out: list[TurnRow] = []
        for chunk in _chunks(list(conversation_ids), 500):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT id, conversation_id, turn_index, role, content, latency, created_at, prompt_tokens,"
                f" completion_tokens, finish_reason, technique, converters FROM turns"
                f" WHERE role = 'defender' AND conversation_id IN ({marks}) ORDER BY conversation_id, turn_index",
                chunk,
            )
            out.extend(TurnRow(*r) for r in rows)
        return out

    def save_scans(
        self,
        tournament_id: int,
        scans: Sequence[tuple[int, int, int, int]],
        blocks: Sequence[tuple[Any, ...]],
        findings: Sequence[tuple[Any, ...]],
    ) -> set[int]:
        """Store static-stage results in one transaction; returns the conversation ids stored.

        `scans`: (conversation_id, blocks, parsed_blocks, findings); `blocks`:
        (conversation_id, turn_index, block_index, start_offset, end_offset, start_line,
        line_count, language, fenced, parsed, skipped_reason); `findings`:
        (conversation_id, turn_index, then the `Finding` fields).

        A conversation already scanned when the transaction starts (another evaluator
        stored it since this one listed the unscanned) is skipped with its blocks and
        findings: the check and the writes hold the write lock together, so two
        evaluators can never store one conversation's findings twice.
        """
        now = time.time()
        with self.transaction():
            ids = sorted({row[0] for row in scans})
            done: set[int] = set()
            for chunk in _chunks(ids, 500):
                marks = ",".join("?" * len(chunk))
                done.update(r[0] for r in self.conn.execute(
                    f"SELECT conversation_id FROM scans WHERE conversation_id IN ({marks})", chunk))
            if done:
                scans = [row for row in scans if row[0] not in done]
                blocks = [row for row in blocks if row[0] not in done]
                findings = [row for row in findings if row[0] not in done]
            self.conn.executemany(
                "INSERT INTO code_blocks (conversation_id, turn_index, block_index, start_offset, end_offset,"
                " start_line, line_count, language, fenced, parsed, skipped_reason) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                blocks,
            )
            self.conn.executemany(
                "INSERT INTO findings (conversation_id, turn_index, block_index, line_in_block, line_in_reply, test_id,"
                " test_name, cwe, severity, confidence, code_line, message) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                findings,
            )
            self.conn.executemany(
                "INSERT INTO scans (conversation_id, tournament_id, blocks, parsed_blocks, findings,"
                " scanned_at) VALUES (?, ?, ?, ?, ?, ?)",
                [(cid, tournament_id, b, p, f, now) for cid, b, p, f in scans],
            )
        return {row[0] for row in scans}

    def scan_tally(self, tournament_id: int, reason: str) -> dict[int, tuple[int, int]]:
        """Per matchup id: (complete conversations scanned, of which the stored verdict
        has this reason); matchups without a scanned conversation are absent."""
        return {
            mid: (n, hits or 0)
            for mid, n, hits in self.conn.execute(
                "SELECT c.matchup_id, COUNT(*), SUM(v.reason = ?) FROM scans s"
                " JOIN conversations c ON c.id = s.conversation_id LEFT JOIN verdicts v ON v.conversation_id = c.id"
                " WHERE s.tournament_id = ? AND c.status = 'complete' GROUP BY c.matchup_id",
                (reason, tournament_id),
            )
        }

    def scanned_conversations(self, tournament_id: int) -> set[int]:
        """Conversations the static stage has scanned."""
        return {r[0] for r in self.conn.execute("SELECT conversation_id FROM scans WHERE tournament_id = ?", (tournament_id,))}

    def finding_counts(self, conversation_ids: Sequence[int]) -> dict[int, int]:
        """Number of bandit findings of some scanned conversations, by id."""
        out: dict[int, int] = {}
        for chunk in _chunks(list(conversation_ids), 500):
            marks = ",".join("?" * len(chunk))
            out.update(self.conn.execute(
                f"SELECT conversation_id, findings FROM scans WHERE conversation_id IN ({marks})", chunk).fetchall())
        return out

    def findings(self, conversation_id: int) -> list[FindingRow]:
        """A conversation's findings in reply order."""
        rows = self.conn.execute(
            f"SELECT {_FINDING_FIELDS} FROM findings WHERE conversation_id = ? ORDER BY turn_index, block_index, line_in_block",
            (conversation_id,),
        )
        return [FindingRow(*r) for r in rows]

    def tournament_findings(self, tournament_id: int) -> list[FindingRow]:
        """Every finding of a tournament."""
        columns = ", ".join(f"f.{c.strip()}" for c in _FINDING_FIELDS.split(","))
        rows = self.conn.execute(
            f"SELECT {columns} FROM findings f"
            " JOIN conversations c ON c.id = f.conversation_id WHERE c.tournament_id = ? ORDER BY f.id",
            (tournament_id,),
        )
        return [FindingRow(*r) for r in rows]

    def code_blocks(self, conversation_id: int) -> list[CodeBlockRow]:
        """A conversation's extracted code blocks (where they sit, whether they parsed)."""
        rows = self.conn.execute(
            "SELECT turn_index, block_index, start_offset, end_offset, start_line, line_count, language, fenced,"
            " parsed, skipped_reason FROM code_blocks WHERE conversation_id = ? ORDER BY turn_index, block_index",
            (conversation_id,),
        )
        return [CodeBlockRow(*r[:7], bool(r[7]), bool(r[8]), r[9]) for r in rows]

    # --- review queue ---------------------------------------------------------------

    def assignments(self, tournament_id: int) -> list[AssignmentRow]:
        """Every assignment in a tournament, in the order they were made."""
        rows = self.conn.execute(
            "SELECT conversation_id, annotator, kind FROM assignments WHERE tournament_id = ? ORDER BY id", (tournament_id,)
        )
        return [AssignmentRow(*r) for r in rows]

    def annotator_loads(self) -> dict[str, int]:
        """Items assigned to each annotator across the whole store."""
        return dict(self.conn.execute("SELECT annotator, COUNT(*) FROM assignments GROUP BY annotator").fetchall())

    def add_assignments(self, tournament_id: int, rows: Sequence[tuple[int, str, str]]) -> None:
        """Assign (conversation id, annotator, kind) rows; an existing pair is left alone."""
        now = time.time()
        with self.transaction():
            self.conn.executemany(
                "INSERT OR IGNORE INTO assignments (conversation_id, tournament_id, annotator, kind, assigned_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [(cid, tournament_id, who, kind, now) for cid, who, kind in rows],
            )

    def assignment(self, conversation_id: int, annotator: str) -> str | None:
        """The kind of assignment of this annotator on this item, or None."""
        row = self.conn.execute(
            "SELECT kind FROM assignments WHERE conversation_id = ? AND annotator = ?", (conversation_id, annotator)
        ).fetchone()
        return row[0] if row else None

    # --- labels ---------------------------------------------------------------------

    def add_label_event(
        self,
        conversation_id: int,
        annotator: str,
        action: str,
        label: str | None = None,
        *,
        tags: Sequence[str] = (),
        turn: int | None = None,
        note: str = "",
        source: str = "cli",
        forced: bool = False,
        undoes: int | None = None,
        created_at: float | None = None,
    ) -> int:
        """Append one label event (its own transaction, durable on return); returns its id."""
        with self.transaction():
            return _insert_label(self.conn, conversation_id, annotator, action, label, tags, turn, note, source, forced,
                                 undoes, created_at if created_at is not None else time.time())

    def label_events(self, tournament_id: int | None = None, conversation_id: int | None = None) -> list[LabelEvent]:
        """The label log (all, one tournament's, or one conversation's), oldest first."""
        if conversation_id is not None:
            rows = self.conn.execute(f"SELECT {_LABEL_COLUMNS} FROM labels WHERE conversation_id = ? ORDER BY id", (conversation_id,))
        elif tournament_id is not None:
            rows = self.conn.execute(
                f"SELECT {_LABEL_COLUMNS.replace('id,', 'l.id,', 1).replace(' conversation_id', ' l.conversation_id', 1)}"
                " FROM labels l JOIN conversations c ON c.id = l.conversation_id WHERE c.tournament_id = ? ORDER BY l.id",
                (tournament_id,),
            )
        else:
            rows = self.conn.execute(f"SELECT {_LABEL_COLUMNS} FROM labels ORDER BY id")
        return [_label_event(r) for r in rows]

    # --- verdicts -------------------------------------------------------------------

    def save_verdicts(self, tournament_id: int, rows: Sequence[tuple[int, str | None, str, str, float | None]]) -> None:
        """Replace a tournament's verdicts: (conversation id, verdict, reason, method, confidence)."""
        now = time.time()
        with self.transaction():
            self.conn.execute("DELETE FROM verdicts WHERE tournament_id = ?", (tournament_id,))
            self.conn.executemany(
                "INSERT INTO verdicts (conversation_id, tournament_id, verdict, reason, method, confidence, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(cid, tournament_id, v, r, m, c, now) for cid, v, r, m, c in rows],
            )

    def verdicts(self, tournament_id: int) -> dict[int, Verdict]:
        """A tournament's stored verdicts, by conversation id."""
        rows = self.conn.execute(
            "SELECT conversation_id, verdict, reason, method, confidence FROM verdicts WHERE tournament_id = ?", (tournament_id,)
        )
        return {r[0]: Verdict(*r) for r in rows}


