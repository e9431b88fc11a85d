"""The arena store: one SQLite file (WAL) holding many tournaments.

This is the one module that opens the store and the one place SQL is written. Every
other module, and every other process (a watcher following a run, annotators labelling
at the same time), goes through `Store`.

Followers read cheaply: every table that grows is append-only or carries an increasing
rowid, and `events` is an append-only log of state changes (conversation started or
finished, bot failures), so a watcher polls ``PRAGMA data_version`` and reads only rows
past the last rowid it saw.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

SCHEMA_VERSION = 1

# How long a writer waits for another process's transaction before giving up. Annotators
# and a runner may share one store; 30 s is far longer than any transaction we make.
BUSY_TIMEOUT_MS = 30_000

CONVERSATION_STATUSES = ("pending", "running", "complete", "incomplete")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tournaments (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    seed INTEGER NOT NULL,
    conversations_per_matchup INTEGER NOT NULL,
    max_pairs INTEGER NOT NULL,
    settings TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL
);
CREATE TABLE IF NOT EXISTS bots (
    id INTEGER PRIMARY KEY,
    tournament_id INTEGER NOT NULL REFERENCES tournaments(id),
    name TEXT NOT NULL,
    side TEXT NOT NULL,
    kind TEXT NOT NULL,
    spec TEXT NOT NULL,
    version TEXT,
    UNIQUE (tournament_id, name)
);
CREATE TABLE IF NOT EXISTS matchups (
    id INTEGER PRIMARY KEY,
    tournament_id INTEGER NOT NULL REFERENCES tournaments(id),
    attacker_id INTEGER NOT NULL REFERENCES bots(id),
    defender_id INTEGER NOT NULL REFERENCES bots(id),
    planned INTEGER NOT NULL,
    UNIQUE (tournament_id, attacker_id, defender_id)
);
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY,
    tournament_id INTEGER NOT NULL REFERENCES tournaments(id),
    matchup_id INTEGER NOT NULL REFERENCES matchups(id),
    idx INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    reason TEXT,
    detail TEXT,
    ended_by TEXT,
    n_turns INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    started_at REAL,
    finished_at REAL,
    UNIQUE (matchup_id, idx)
);
CREATE INDEX IF NOT EXISTS conversations_by_status ON conversations (tournament_id, status);
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    turn_index INTEGER NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    latency REAL,
    created_at REAL NOT NULL,
    UNIQUE (conversation_id, turn_index)
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    tournament_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    conversation_id INTEGER,
    bot TEXT,
    detail TEXT,
    at REAL NOT NULL
);
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
CREATE VIRTUAL TABLE IF NOT EXISTS turns_fts USING fts5 (
    content, content='turns', content_rowid='id', tokenize='unicode61'
);
CREATE TRIGGER IF NOT EXISTS turns_ai AFTER INSERT ON turns BEGIN
    INSERT INTO turns_fts (rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER IF NOT EXISTS turns_ad AFTER DELETE ON turns BEGIN
    INSERT INTO turns_fts (turns_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
"""

# Defender utility, one row per (config, bot, set, item) (core.utility_run). `config` is
# the tournament/config name; `role` is "defender" or "base". Stores created before this
# table existed get it on first write (`_ScoringMixin.save_utility_results`).
UTILITY_RESULTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS utility_results (
    id INTEGER PRIMARY KEY,
    config TEXT NOT NULL,
    bot TEXT NOT NULL,
    role TEXT NOT NULL,
    set_name TEXT NOT NULL,
    item_id TEXT NOT NULL,
    score REAL NOT NULL,
    passed INTEGER NOT NULL,
    refused INTEGER NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    UNIQUE (config, bot, set_name, item_id)
);
"""
SCHEMA += UTILITY_RESULTS_SCHEMA


class StoreError(Exception):
    """A store that cannot be used: not SQLite, another schema version, missing, locked."""


@dataclass(frozen=True)
class TournamentRow:
    """A tournament as stored."""

    id: int
    name: str
    kind: str
    fingerprint: str
    seed: int
    conversations_per_matchup: int
    max_pairs: int
    settings: dict[str, Any]
    status: str
    created_at: float
    started_at: float | None
    finished_at: float | None


@dataclass(frozen=True)
class ConversationRow:
    """A conversation as stored, with its matchup's bot names."""

    id: int
    tournament_id: int
    matchup_id: int
    attacker: str
    defender: str
    idx: int
    seed: int
    status: str
    reason: str | None
    detail: str | None
    ended_by: str | None
    n_turns: int
    attempts: int
    started_at: float | None
    finished_at: float | None


@dataclass(frozen=True)
class TurnRow:
    """One stored turn."""

    id: int
    conversation_id: int
    turn_index: int
    role: str
    content: str
    latency: float | None
    created_at: float


@dataclass(frozen=True)
class EventRow:
    """One entry of the append-only event log."""

    id: int
    tournament_id: int
    kind: str
    conversation_id: int | None
    bot: str | None
    detail: str | None
    at: float


_CONVERSATION_SELECT = """
SELECT c.id, c.tournament_id, c.matchup_id, a.name, d.name, c.idx, c.seed, c.status,
       c.reason, c.detail, c.ended_by, c.n_turns, c.attempts, c.started_at, c.finished_at
FROM conversations c
JOIN matchups m ON m.id = c.matchup_id
JOIN bots a ON a.id = m.attacker_id
JOIN bots d ON d.id = m.defender_id
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
class FindingRow:
    """A stored bandit finding."""

    id: int
    conversation_id: int
    turn_index: int
    block_index: int
    line_in_block: int
    line_in_reply: int
    test_id: str
    test_name: str
    cwe: str | None
    severity: str
    confidence: str
    code_line: str
    message: str


_LABEL_COLUMNS = "id, conversation_id, annotator, action, label, tags, turn, note, source, forced, undoes, created_at"
_FINDING_COLUMNS = (
    "id, conversation_id, turn_index, block_index, line_in_block, line_in_reply, test_id, test_name, cwe,"
    " severity, confidence, code_line, message"
)


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

    def defender_turns(self, conversation_ids: Sequence[int]) -> list[tuple[int, int, str]]:
        """(conversation id, turn index, content) of the defender turns of some conversations."""
        out: list[tuple[int, int, str]] = []
        for chunk in _chunks(list(conversation_ids), 500):
            marks = ",".join("?" * len(chunk))
            out.extend(
                self.conn.execute(
                    f"SELECT conversation_id, turn_index, content FROM turns WHERE role = 'defender'"
                    f" AND conversation_id IN ({marks}) ORDER BY conversation_id, turn_index",
                    chunk,
                ).fetchall()
            )
        return out

    def save_scans(
        self,
        tournament_id: int,
        scans: Sequence[tuple[int, int, int, int]],
        blocks: Sequence[tuple[Any, ...]],
        findings: Sequence[tuple[Any, ...]],
    ) -> None:
        """Store static-stage results in one transaction.

        `scans`: (conversation_id, blocks, parsed_blocks, findings); `blocks`:
        (conversation_id, turn_index, block_index, start_offset, end_offset, start_line,
        line_count, language, fenced, parsed, skipped_reason); `findings`: the
        `FindingRow` fields without id.
        """
        now = time.time()
        with self.transaction():
            self.conn.executemany(
                "INSERT INTO code_blocks (conversation_id, turn_index, block_index, start_offset, end_offset,"
                " start_line, line_count, language, fenced, parsed, skipped_reason) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                blocks,
            )
            self.conn.executemany(
                f"INSERT INTO findings ({_FINDING_COLUMNS.removeprefix('id, ')}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                findings,
            )
            self.conn.executemany(
                "INSERT OR REPLACE INTO scans (conversation_id, tournament_id, blocks, parsed_blocks, findings,"
                " scanned_at) VALUES (?, ?, ?, ?, ?, ?)",
                [(cid, tournament_id, b, p, f, now) for cid, b, p, f in scans],
            )

    def scanned_conversations(self, tournament_id: int) -> set[int]:
        """Conversations the static stage has scanned."""
        return {r[0] for r in self.conn.execute("SELECT conversation_id FROM scans WHERE tournament_id = ?", (tournament_id,))}

    def findings(self, conversation_id: int) -> list[FindingRow]:
        """A conversation's findings in reply order."""
        rows = self.conn.execute(
            f"SELECT {_FINDING_COLUMNS} FROM findings WHERE conversation_id = ? ORDER BY turn_index, block_index, line_in_block",
            (conversation_id,),
        )
        return [FindingRow(*r) for r in rows]

    def tournament_findings(self, tournament_id: int) -> list[FindingRow]:
        """Every finding of a tournament."""
        rows = self.conn.execute(
            f"SELECT {_FINDING_COLUMNS.replace('id,', 'f.id,', 1)} FROM findings f"
            " JOIN conversations c ON c.id = f.conversation_id WHERE c.tournament_id = ? ORDER BY f.id",
            (tournament_id,),
        )
        return [FindingRow(*r) for r in rows]

    def code_blocks(self, conversation_id: int) -> list[dict[str, Any]]:
        """A conversation's extracted code blocks (where they sit, whether they parsed)."""
        cur = self.conn.execute(
            "SELECT turn_index, block_index, start_offset, end_offset, start_line, line_count, language, fenced,"
            " parsed, skipped_reason FROM code_blocks WHERE conversation_id = ? ORDER BY turn_index, block_index",
            (conversation_id,),
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur]

    # --- review queue ---------------------------------------------------------------

    def assignments(self, tournament_id: int) -> list[tuple[int, str, str]]:
        """(conversation id, annotator, kind) of every assignment in a tournament."""
        return self.conn.execute(
            "SELECT conversation_id, annotator, kind FROM assignments WHERE tournament_id = ? ORDER BY id", (tournament_id,)
        ).fetchall()

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
            cur = self.conn.execute(
                f"INSERT INTO labels ({_LABEL_COLUMNS.removeprefix('id, ')}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (conversation_id, annotator, action, label, json.dumps(list(tags)), turn, note, source, int(forced),
                 undoes, created_at if created_at is not None else time.time()),
            )
        return cur.lastrowid

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

    def verdicts(self, tournament_id: int) -> dict[int, tuple[str | None, str]]:
        """conversation id -> (verdict or None if undecided, reason)."""
        return {
            r[0]: (r[1], r[2])
            for r in self.conn.execute("SELECT conversation_id, verdict, reason FROM verdicts WHERE tournament_id = ?", (tournament_id,))
        }


@dataclass(frozen=True)
class ScoringRow:
    """One conversation as the leaderboard sees it: matchup, status and stored verdict.

    `verdict` is None when the conversation is undecided or has no stored verdict yet
    (`verdict_reason` None then means it was never evaluated).
    """

    tournament_id: int
    matchup_id: int
    attacker: str
    defender: str
    conversation_id: int
    status: str
    verdict: str | None
    verdict_reason: str | None


@dataclass(frozen=True)
class UtilityResultRow:
    """One stored utility test item result."""

    config: str
    bot: str
    role: str
    set_name: str
    item_id: str
    score: float
    passed: bool
    refused: bool
    detail: str
    created_at: float


class _ScoringMixin:
    """Store methods of the leaderboard and the utility runs."""

    conn: sqlite3.Connection

    def transaction(self) -> _Transaction: ...  # provided by Store

    def scoring_rows(self, tournament_ids: Sequence[int]) -> list[ScoringRow]:
        """Every conversation of some tournaments with its matchup's bots and stored
        verdict, ordered by tournament, matchup and conversation id (one query)."""
        out: list[ScoringRow] = []
        for chunk in _chunks(sorted(set(tournament_ids)), 500):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                "SELECT c.tournament_id, c.matchup_id, a.name, d.name, c.id, c.status, v.verdict, v.reason"
                " FROM conversations c JOIN matchups m ON m.id = c.matchup_id"
                " JOIN bots a ON a.id = m.attacker_id JOIN bots d ON d.id = m.defender_id"
                " LEFT JOIN verdicts v ON v.conversation_id = c.id"
                f" WHERE c.tournament_id IN ({marks}) ORDER BY c.tournament_id, c.matchup_id, c.id",
                chunk,
            )
            out.extend(ScoringRow(*r) for r in rows)
        return out

    def attacker_turns(self, conversation_ids: Sequence[int]) -> dict[int, list[str]]:
        """conversation id -> the contents of its attacker turns in turn order
        (conversations without attacker turns are absent)."""
        out: dict[int, list[str]] = {}
        for chunk in _chunks(sorted(set(conversation_ids)), 500):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT conversation_id, content FROM turns WHERE role = 'attacker' AND conversation_id IN ({marks})"
                " ORDER BY conversation_id, turn_index",
                chunk,
            )
            for cid, content in rows:
                out.setdefault(cid, []).append(content)
        return out

    def _has_utility_table(self) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'utility_results'"
        ).fetchone() is not None

    def save_utility_results(self, config: str, bot: str, role: str,
                             rows: Sequence[tuple[str, str, float, bool, bool, str]]) -> None:
        """Replace one bot's utility results under a config name, in one transaction.

        `rows`: (set name, item id, score 0-1, passed, refused, detail). Results of items
        no longer in the sets are dropped with the rest of the bot's old rows.
        """
        now = time.time()
        with self.transaction():
            for statement in _split_sql(UTILITY_RESULTS_SCHEMA):
                self.conn.execute(statement)
            self.conn.execute("DELETE FROM utility_results WHERE config = ? AND bot = ?", (config, bot))
            self.conn.executemany(
                "INSERT INTO utility_results (config, bot, role, set_name, item_id, score, passed, refused, detail,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(config, bot, role, s, i, float(sc), int(p), int(r), d, now) for s, i, sc, p, r, d in rows],
            )

    def utility_results(self, configs: Sequence[str] | None = None) -> list[UtilityResultRow]:
        """Stored utility results (all, or of some config names), by config, bot, set, item."""
        if not self._has_utility_table():
            return []
        sql = (
            "SELECT config, bot, role, set_name, item_id, score, passed, refused, detail, created_at"
            " FROM utility_results"
        )
        params: list[Any] = []
        if configs is not None:
            if not configs:
                return []
            sql += f" WHERE config IN ({','.join('?' * len(configs))})"
            params = list(configs)
        rows = self.conn.execute(sql + " ORDER BY config, bot, set_name, item_id", params)
        return [UtilityResultRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), bool(r[7]), r[8], r[9]) for r in rows]


def _is_sqlite_file(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(16) == b"SQLite format 3\x00"


class Store(_EvaluationMixin, _ScoringMixin):
    """An open arena store. Use `Store.open` (or `Store.open_readonly` for followers)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, readonly: bool) -> None:
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self.path = path
        self.readonly = readonly

    # --- opening ------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, *, create: bool = True) -> Store:
        """Open (and, if `create`, create) a store for reading and writing."""
        path = Path(path)
        if path.exists():
            if path.is_dir():
                raise StoreError(f"{path} is a directory, not an arena store")
            if path.stat().st_size and not _is_sqlite_file(path):
                raise StoreError(f"{path} is not an arena store (not an SQLite database)")
        elif not create:
            raise StoreError(f"no arena store at {path}")
        elif not path.parent.exists():
            raise StoreError(f"folder {path.parent} does not exist")
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        store = cls(conn, path, readonly=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # Check what the file is before changing anything in it.
            fresh = store._check_version() is None
            conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL is durable across application crashes (kill -9) in WAL mode; only an
            # OS crash or power loss can drop the last transactions.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            if fresh:
                store._create_schema()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{path}: cannot open store: {exc}") from None
        except StoreError:
            conn.close()
            raise
        return store

    @classmethod
    def open_readonly(cls, path: str | Path) -> Store:
        """Open an existing store without ever writing to it (watchers, reports)."""
        path = Path(path)
        if not path.is_file():
            raise StoreError(f"no arena store at {path}")
        if not _is_sqlite_file(path):
            raise StoreError(f"{path} is not an arena store (not an SQLite database)")
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
        store = cls(conn, path, readonly=True)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            store._check_version()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{path}: cannot read store: {exc}") from None
        except StoreError:
            conn.close()
            raise
        return store

    def _check_version(self) -> int | None:
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "meta" not in tables:
            if tables:
                raise StoreError(f"{self.path} is an SQLite database but not an arena store")
            return None
        row = self.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer Adversarial Arena (store schema {version}; "
                f"this version reads schema {SCHEMA_VERSION}): upgrade arena-tui"
            )
        if version < SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} uses an older store schema ({version}; this version needs "
                f"{SCHEMA_VERSION}) and cannot be migrated automatically"
            )
        return version

    def _create_schema(self) -> None:
        with self.transaction():
            for statement in _split_sql(SCHEMA):
                self.conn.execute(statement)
            self.conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?), ('arena_id', ?), ('created_at', ?)",
                (str(SCHEMA_VERSION), uuid.uuid4().hex, str(time.time())),
            )

    def close(self) -> None:
        """Close the connection (idempotent)."""
        try:
            self.conn.close()
        except sqlite3.Error:
            pass

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> _Transaction:
        """``with store.transaction():`` — one IMMEDIATE transaction, rolled back on error."""
        return _Transaction(self.conn)

    # --- meta ---------------------------------------------------------------------

    @property
    def arena_id(self) -> str:
        """A random id given to the arena when the store was created (packs carry it)."""
        return self.conn.execute("SELECT value FROM meta WHERE key='arena_id'").fetchone()[0]

    def data_version(self) -> int:
        """Changes whenever another connection commits; cheap to poll."""
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    # --- tournaments --------------------------------------------------------------

    def tournament(self, name: str) -> TournamentRow | None:
        """The tournament called `name`, or None."""
        row = self.conn.execute(
            "SELECT id, name, kind, fingerprint, seed, conversations_per_matchup, max_pairs, settings,"
            " status, created_at, started_at, finished_at FROM tournaments WHERE name = ?",
            (name,),
        ).fetchone()
        return _tournament(row) if row else None

    def tournaments(self) -> list[TournamentRow]:
        """All tournaments, oldest first."""
        rows = self.conn.execute(
            "SELECT id, name, kind, fingerprint, seed, conversations_per_matchup, max_pairs, settings,"
            " status, created_at, started_at, finished_at FROM tournaments ORDER BY id"
        ).fetchall()
        return [_tournament(r) for r in rows]

    def create_tournament(
        self,
        *,
        name: str,
        kind: str,
        fingerprint: str,
        seed: int,
        conversations_per_matchup: int,
        max_pairs: int,
        settings: dict[str, Any],
        bots: Sequence[tuple[str, str, str, str]],
        conversation_seeds: dict[tuple[str, str], list[int]],
    ) -> int:
        """Register a tournament with its bots (name, side, kind, spec), its matchups and
        every planned conversation (status pending), in one transaction."""
        now = time.time()
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO tournaments (name, kind, fingerprint, seed, conversations_per_matchup,"
                " max_pairs, settings, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'created', ?)",
                (name, kind, fingerprint, seed, conversations_per_matchup, max_pairs, json.dumps(settings), now),
            )
            tid = cur.lastrowid
            bot_ids = {}
            for bot_name, side, kind_, spec in bots:
                cur = self.conn.execute(
                    "INSERT INTO bots (tournament_id, name, side, kind, spec) VALUES (?, ?, ?, ?, ?)",
                    (tid, bot_name, side, kind_, spec),
                )
                bot_ids[bot_name] = cur.lastrowid
            for (attacker, defender), seeds in conversation_seeds.items():
                cur = self.conn.execute(
                    "INSERT INTO matchups (tournament_id, attacker_id, defender_id, planned) VALUES (?, ?, ?, ?)",
                    (tid, bot_ids[attacker], bot_ids[defender], len(seeds)),
                )
                mid = cur.lastrowid
                self.conn.executemany(
                    "INSERT INTO conversations (tournament_id, matchup_id, idx, seed) VALUES (?, ?, ?, ?)",
                    [(tid, mid, i, s) for i, s in enumerate(seeds)],
                )
        return tid

    def set_tournament_status(self, tournament_id: int, status: str) -> None:
        """Mark a tournament running / stopped / finished (with the matching timestamp)."""
        now = time.time()
        column = {"running": "started_at", "finished": "finished_at"}.get(status)
        with self.transaction():
            if column:
                self.conn.execute(f"UPDATE tournaments SET status = ?, {column} = ? WHERE id = ?", (status, now, tournament_id))
            else:
                self.conn.execute("UPDATE tournaments SET status = ? WHERE id = ?", (status, tournament_id))
            self.conn.execute(
                "INSERT INTO events (tournament_id, kind, detail, at) VALUES (?, 'tournament', ?, ?)",
                (tournament_id, status, now),
            )

    def bots(self, tournament_id: int) -> list[dict[str, Any]]:
        """The tournament's bots as dicts (id, name, side, kind, spec, version)."""
        rows = self.conn.execute(
            "SELECT id, name, side, kind, spec, version FROM bots WHERE tournament_id = ? ORDER BY id", (tournament_id,)
        ).fetchall()
        return [dict(zip(("id", "name", "side", "kind", "spec", "version"), r, strict=True)) for r in rows]

    def matchups(self, tournament_id: int) -> list[dict[str, Any]]:
        """Matchups with bot names and status counts (complete, incomplete, running, pending)."""
        rows = self.conn.execute(
            """
            SELECT m.id, a.name, d.name, m.planned,
                   SUM(c.status = 'complete'), SUM(c.status = 'incomplete'),
                   SUM(c.status = 'running'), SUM(c.status = 'pending')
            FROM matchups m
            JOIN bots a ON a.id = m.attacker_id
            JOIN bots d ON d.id = m.defender_id
            LEFT JOIN conversations c ON c.matchup_id = m.id
            WHERE m.tournament_id = ?
            GROUP BY m.id ORDER BY m.id
            """,
            (tournament_id,),
        ).fetchall()
        keys = ("id", "attacker", "defender", "planned", "complete", "incomplete", "running", "pending")
        return [dict(zip(keys, (r[0], r[1], r[2], r[3], *(v or 0 for v in r[4:])), strict=True)) for r in rows]

    # --- conversations ------------------------------------------------------------

    def conversation(self, conversation_id: int) -> ConversationRow | None:
        """One conversation, or None."""
        row = self.conn.execute(_CONVERSATION_SELECT + " WHERE c.id = ?", (conversation_id,)).fetchone()
        return ConversationRow(*row) if row else None

    def conversations(self, tournament_id: int, status: str | None = None) -> list[ConversationRow]:
        """The tournament's conversations in grid order (matchup, index)."""
        sql = _CONVERSATION_SELECT + " WHERE c.tournament_id = ?"
        params: list[Any] = [tournament_id]
        if status:
            sql += " AND c.status = ?"
            params.append(status)
        rows = self.conn.execute(sql + " ORDER BY c.matchup_id, c.idx", params).fetchall()
        return [ConversationRow(*r) for r in rows]

    def status_counts(self, tournament_id: int) -> dict[str, int]:
        """How many conversations are in each status."""
        counts = dict.fromkeys(CONVERSATION_STATUSES, 0)
        for status, n in self.conn.execute(
            "SELECT status, COUNT(*) FROM conversations WHERE tournament_id = ? GROUP BY status", (tournament_id,)
        ):
            counts[status] = n
        return counts

    def incomplete_reasons(self, tournament_id: int) -> dict[str, int]:
        """Incomplete conversations counted by reason."""
        return dict(
            self.conn.execute(
                "SELECT reason, COUNT(*) FROM conversations WHERE tournament_id = ? AND status = 'incomplete'"
                " GROUP BY reason ORDER BY COUNT(*) DESC",
                (tournament_id,),
            ).fetchall()
        )

    def reset_unfinished(self, tournament_id: int, *, retry_incomplete: bool = False) -> int:
        """Make every unfinished conversation pending again, dropping its partial turns.

        Unfinished means running (the runner was killed), or incomplete because the run
        was interrupted; with `retry_incomplete`, every incomplete conversation. Returns
        how many were reset.
        """
        where = "status = 'running' OR (status = 'incomplete' AND reason = 'interrupted')"
        if retry_incomplete:
            where = "status IN ('running', 'incomplete')"
        with self.transaction():
            ids = [r[0] for r in self.conn.execute(f"SELECT id FROM conversations WHERE tournament_id = ? AND ({where})", (tournament_id,))]
            for chunk in _chunks(ids, 500):
                marks = ",".join("?" * len(chunk))
                self.conn.execute(f"DELETE FROM turns WHERE conversation_id IN ({marks})", chunk)
                self.conn.execute(
                    f"UPDATE conversations SET status = 'pending', reason = NULL, detail = NULL, ended_by = NULL,"
                    f" n_turns = 0, started_at = NULL, finished_at = NULL WHERE id IN ({marks})",
                    chunk,
                )
        return len(ids)

    def pending_conversations(self, tournament_id: int) -> list[ConversationRow]:
        """Conversations still to play, interleaved across matchups (index-major) so every
        cell of the grid fills at the same pace."""
        rows = self.conn.execute(
            _CONVERSATION_SELECT + " WHERE c.tournament_id = ? AND c.status = 'pending' ORDER BY c.idx, c.matchup_id",
            (tournament_id,),
        ).fetchall()
        return [ConversationRow(*r) for r in rows]

    # --- batched writes from the orchestrator ---------------------------------------

    def apply(self, ops: Iterable[tuple[str, tuple[Any, ...]]]) -> None:
        """Apply a batch of orchestrator writes in one transaction, in order.

        Ops: ``("start", (conversation_id, tournament_id, at))``,
        ``("turn", (conversation_id, turn_index, role, content, latency, at))``,
        ``("finish", (conversation_id, tournament_id, status, reason, detail, ended_by, n_turns, at))``,
        ``("event", (tournament_id, kind, conversation_id, bot, detail, at))``,
        ``("bot_version", (version, tournament_id, bot_name))``.
        """
        with self.transaction():
            for op, args in ops:
                if op == "turn":
                    self.conn.execute(
                        "INSERT INTO turns (conversation_id, turn_index, role, content, latency, created_at)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        args,
                    )
                elif op == "start":
                    cid, tid, at = args
                    self.conn.execute(
                        "UPDATE conversations SET status = 'running', started_at = ?, attempts = attempts + 1 WHERE id = ?",
                        (at, cid),
                    )
                    self.conn.execute(
                        "INSERT INTO events (tournament_id, kind, conversation_id, at) VALUES (?, 'started', ?, ?)",
                        (tid, cid, at),
                    )
                elif op == "finish":
                    cid, tid, status, reason, detail, ended_by, n_turns, at = args
                    self.conn.execute(
                        "UPDATE conversations SET status = ?, reason = ?, detail = ?, ended_by = ?, n_turns = ?,"
                        " finished_at = ? WHERE id = ?",
                        (status, reason, detail, ended_by, n_turns, at, cid),
                    )
                    self.conn.execute(
                        "INSERT INTO events (tournament_id, kind, conversation_id, detail, at) VALUES (?, ?, ?, ?, ?)",
                        (tid, status, cid, reason, at),
                    )
                elif op == "bot_version":
                    self.conn.execute("UPDATE bots SET version = ? WHERE tournament_id = ? AND name = ?", args)
                elif op == "event":
                    self.conn.execute(
                        "INSERT INTO events (tournament_id, kind, conversation_id, bot, detail, at) VALUES (?, ?, ?, ?, ?, ?)",
                        args,
                    )
                else:  # pragma: no cover - programming error
                    raise ValueError(f"unknown store op {op!r}")

    # --- turns and following ------------------------------------------------------

    def turns(self, conversation_id: int) -> list[TurnRow]:
        """A conversation's turns in order."""
        rows = self.conn.execute(
            "SELECT id, conversation_id, turn_index, role, content, latency, created_at FROM turns"
            " WHERE conversation_id = ? ORDER BY turn_index",
            (conversation_id,),
        ).fetchall()
        return [TurnRow(*r) for r in rows]

    def turns_after(self, rowid: int, limit: int = 1000) -> list[TurnRow]:
        """Turns stored after `rowid` (for followers), oldest first."""
        rows = self.conn.execute(
            "SELECT id, conversation_id, turn_index, role, content, latency, created_at FROM turns"
            " WHERE id > ? ORDER BY id LIMIT ?",
            (rowid, limit),
        ).fetchall()
        return [TurnRow(*r) for r in rows]

    def events_after(self, rowid: int, limit: int = 1000) -> list[EventRow]:
        """Events logged after `rowid` (for followers), oldest first."""
        rows = self.conn.execute(
            "SELECT id, tournament_id, kind, conversation_id, bot, detail, at FROM events WHERE id > ? ORDER BY id LIMIT ?",
            (rowid, limit),
        ).fetchall()
        return [EventRow(*r) for r in rows]

    def search_turns(self, query: str, limit: int = 100) -> list[int]:
        """Conversation ids whose turns match a full-text query (FTS5 syntax, or plain words)."""
        sql = (
            "SELECT DISTINCT t.conversation_id FROM turns_fts f JOIN turns t ON t.id = f.rowid"
            " WHERE turns_fts MATCH ? ORDER BY t.conversation_id LIMIT ?"
        )
        try:
            rows = self.conn.execute(sql, (query, limit)).fetchall()
        except sqlite3.OperationalError:
            # Not valid FTS syntax: search for the words as a literal phrase instead.
            phrase = '"' + query.replace('"', '""') + '"'
            rows = self.conn.execute(sql, (phrase, limit)).fetchall()
        return [r[0] for r in rows]

    def transcripts(self, tournament_id: int) -> Iterator[tuple[str, str, int, list[tuple[str, str]]]]:
        """(attacker, defender, index, [(role, content), ...]) for every conversation, in
        grid order; used to compare runs."""
        for conv in self.conversations(tournament_id):
            yield conv.attacker, conv.defender, conv.idx, [(t.role, t.content) for t in self.turns(conv.id)]


class _Transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")


def _tournament(row: Sequence[Any]) -> TournamentRow:
    values = list(row)
    values[7] = json.loads(values[7])
    return TournamentRow(*values)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _split_sql(script: str) -> list[str]:
    """Split the schema script into statements (triggers contain inner semicolons)."""
    statements, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        joined = "\n".join(current).strip()
        if joined.endswith(";") and (not joined.upper().startswith("CREATE TRIGGER") or joined.upper().endswith("END;")):
            statements.append(joined)
            current = []
    return statements
