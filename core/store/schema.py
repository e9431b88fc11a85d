"""The store's schema: its tables, full-text index and views, its version, and the upgrade
of a store written by an earlier release.

Tables are declared in SQL beside the code that uses them (`BASE_SCHEMA` here for the
tournament engine, `evaluation`, `scoring`, `annotate` and `packs` for theirs): they need
what sqlite-utils' table creation cannot say (composite UNIQUE constraints, WITHOUT ROWID,
partial indexes, triggers). sqlite-utils makes the rest: the full-text index over `turns`,
by its own `enable_fts`, so that `sqlite-utils search arena.db turns …` and Datasette's
search box find it, and the views (docs/store.md lists them).

Versions (meta ``schema_version``):

1. The first release. Tables were added within it, so early stores lack some.
2. ``turns_fts`` declared as sqlite-utils declares it (FTS5, ``content="turns"``, triggers
   ``turns_ai``/``turns_ad``/``turns_au``); version 1 said ``content='turns'``, a form
   neither sqlite-utils nor Datasette recognise. The views ``conversation_summary``,
   ``matchup_summary``, ``matchup_verdicts`` and ``annotator_progress``.
3. Columns added to existing tables (`ADDED_COLUMNS`) and the tables of the features of
   this release (declared beside the code that uses them, created IF NOT EXISTS).

Upgrading: a writable open of an older store runs the `_STEPS` after its version, then
creates whatever the current declaration has and the store lacks, and records the new
version, all in one IMMEDIATE transaction: a failed upgrade leaves the store as it was,
and a second process opening it at the same moment (a runner and an annotator) waits for
the first, reads the version again under the write lock and finds it current. A reader
never upgrades (`Store.open_readonly` refuses an older store, naming a command that does),
and a store of a newer version is refused by every open. A schema change is a new
version: bump `SCHEMA_VERSION`, add a step, and re-pin the schema fingerprint in
tests/core/test_store_schema.py (the test fails until then).
"""

from __future__ import annotations

import shlex
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from core.store._common import StoreError, _Transaction
from core.store.annotate import ANNOTATE_SCHEMA
from core.store.evaluation import EVALUATION_SCHEMA
from core.store.fts import FTS_COLUMNS, FTS_TABLE, FTS_TOKENIZER
from core.store.judges import JUDGES_SCHEMA
from core.store.packs import PACKS_SCHEMA
from core.store.replies import SAFE_REPLIES_SCHEMA
from core.store.scoring import UTILITY_RESULTS_SCHEMA
from core.store.seasons import SEASONS_SCHEMA

if TYPE_CHECKING:  # sqlite-utils is imported only to create or upgrade a store (~0.2 s)
    from sqlite_utils import Database

SCHEMA_VERSION = 3
# The oldest version `make_current` upgrades (version 1 is the first release).
OLDEST_UPGRADABLE = 1

BASE_SCHEMA = """
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
"""

# Every table, index and trigger but the full-text index's, all IF NOT EXISTS.
# Columns added to tables after their first release, as (table, column, SQL type and
# default). `_declare` adds each one a store lacks (ALTER TABLE ADD COLUMN: no rewrite of
# the table, so instant on a store of any size). Group them by the feature that reads them.
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = ()

TABLES = BASE_SCHEMA + EVALUATION_SCHEMA + UTILITY_RESULTS_SCHEMA + ANNOTATE_SCHEMA + PACKS_SCHEMA
# Preference pairs: safe replies annotators write (core.data.preference).
TABLES += SAFE_REPLIES_SCHEMA
# Seasons: tournaments grouped as rounds (core.season).
TABLES += SEASONS_SCHEMA
# Judges: machine annotators' labels, kept apart from the human label log (core.evaluation.judges).
TABLES += JUDGES_SCHEMA

# What an organizer opens first (docs/store.md). Verdicts are as the last `arena-tui
# evaluate` stored them (NULL: undecided); `findings` counts every stored bandit finding
# of a scanned conversation (NULL: not scanned yet); `labelled` as the annotate queue
# counts it (the annotator's current label event).
VIEWS = {
    "conversation_summary": """
SELECT c.id AS conversation_id, c.tournament_id, t.name AS tournament, c.matchup_id,
       a.name AS attacker, d.name AS defender, c.idx, c.status, c.reason, c.ended_by, c.n_turns,
       s.findings, v.verdict, v.reason AS verdict_reason, v.method AS verdict_method,
       (SELECT COUNT(*) FROM label_current l WHERE l.conversation_id = c.id) AS labels,
       datetime(c.finished_at, 'unixepoch') AS finished_utc
FROM conversations c
JOIN tournaments t ON t.id = c.tournament_id
JOIN matchups m ON m.id = c.matchup_id
JOIN bots a ON a.id = m.attacker_id
JOIN bots d ON d.id = m.defender_id
LEFT JOIN scans s ON s.conversation_id = c.id
LEFT JOIN verdicts v ON v.conversation_id = c.id
ORDER BY c.id""",
    "matchup_summary": """
SELECT m.id AS matchup_id, m.tournament_id, t.name AS tournament, a.name AS attacker, d.name AS defender,
       m.planned, COUNT(c.id) AS conversations,
       COALESCE(SUM(c.status = 'complete'), 0) AS complete,
       COALESCE(SUM(c.status = 'incomplete'), 0) AS incomplete,
       COALESCE(SUM(c.status = 'running'), 0) AS running,
       COALESCE(SUM(c.status = 'pending'), 0) AS pending,
       COUNT(s.conversation_id) AS scanned,
       COALESCE(SUM(s.findings > 0), 0) AS flagged,
       COALESCE(SUM(s.findings), 0) AS findings,
       COUNT(v.verdict) AS decided,
       COALESCE(SUM(c.status = 'complete' AND v.verdict IS NULL), 0) AS undecided
FROM matchups m
JOIN tournaments t ON t.id = m.tournament_id
JOIN bots a ON a.id = m.attacker_id
JOIN bots d ON d.id = m.defender_id
LEFT JOIN conversations c ON c.matchup_id = m.id
LEFT JOIN scans s ON s.conversation_id = c.id
LEFT JOIN verdicts v ON v.conversation_id = c.id
GROUP BY m.id
ORDER BY m.id""",
    "matchup_verdicts": """
SELECT m.id AS matchup_id, m.tournament_id, t.name AS tournament, a.name AS attacker, d.name AS defender,
       v.verdict, COUNT(*) AS conversations
FROM verdicts v
JOIN conversations c ON c.id = v.conversation_id
JOIN matchups m ON m.id = c.matchup_id
JOIN tournaments t ON t.id = m.tournament_id
JOIN bots a ON a.id = m.attacker_id
JOIN bots d ON d.id = m.defender_id
GROUP BY m.id, v.verdict
ORDER BY m.id, v.verdict""",
    "annotator_progress": """
SELECT s.tournament_id, t.name AS tournament, s.annotator, COUNT(*) AS assigned,
       COUNT(l.event_id) AS labelled, COUNT(*) - COUNT(l.event_id) AS to_do
FROM assignments s
JOIN tournaments t ON t.id = s.tournament_id
LEFT JOIN label_current l ON l.conversation_id = s.conversation_id AND l.annotator = s.annotator
GROUP BY s.tournament_id, s.annotator
ORDER BY s.tournament_id, s.annotator""",
}


def stored_version(conn: sqlite3.Connection) -> int | None:
    """The schema version the store on `conn` records (0: none recorded), or None when
    the file holds no store yet (no meta table)."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone() is None:
        return None
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def version_error(path: Path, version: int, *, readonly: bool) -> StoreError | None:
    """Why a store of `version` cannot be used as it is (None: it can): newer than this
    release, too old to upgrade, or (for a reader, which never writes) not upgraded yet."""
    if version > SCHEMA_VERSION:
        return StoreError(f"{path} was written by a newer Adversarial Arena (store schema {version}; "
                          f"this version reads schema {SCHEMA_VERSION}): upgrade arena-tui")
    if version < OLDEST_UPGRADABLE:
        return StoreError(f"{path} uses an older store schema ({version}) that this version cannot upgrade "
                          f"(it upgrades schema {OLDEST_UPGRADABLE} and later)")
    if readonly and version < SCHEMA_VERSION:
        return StoreError(f"{path} was written by an older arena-tui (store schema {version}; this version reads "
                          f"schema {SCHEMA_VERSION}): upgrade it by opening it once with a command that writes, e.g. "
                          f"`arena-tui leaderboard --db {shlex.quote(str(path))}`")
    return None


def make_current(conn: sqlite3.Connection, path: Path) -> int | None:
    """Create the schema in an empty store, or upgrade an older one, in one transaction.

    Returns the version the store had (None: it was empty). The version is read again
    under the write lock, so of two processes opening the store at once one changes it
    and the other finds it current. Raises `StoreError` for a version it cannot upgrade.
    """
    with _Transaction(conn):
        version = stored_version(conn)
        if version == SCHEMA_VERSION:
            return version
        if version is not None and (error := version_error(path, version, readonly=False)):
            raise error
        db = _database(conn)
        for step in range(SCHEMA_VERSION if version is None else version, SCHEMA_VERSION):
            _STEPS[step + 1](db)
        _declare(db)
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('arena_id', ?), ('created_at', ?)",
                     (uuid.uuid4().hex, str(time.time())))
    return version


def _database(conn: sqlite3.Connection) -> Database:
    """sqlite-utils' view of the store's connection, changing nothing about it (no
    recursive triggers, no plugin functions)."""
    from sqlite_utils import Database

    return Database(conn, recursive_triggers=False, execute_plugins=False)


def _declare(db: Database) -> None:
    """Create whatever the current schema has and the store lacks: every table, index and
    trigger (IF NOT EXISTS; an early version-1 store gains the tables added within that
    version, `label_current` filled from the label log), every added column the store
    lacks, the full-text index (indexing
    every stored turn) and the views (replaced when their SQL changed)."""
    db.executescript(TABLES)
    for table, column, sql_type in ADDED_COLUMNS:
        if column not in {c.name for c in db.table(table).columns}:
            db.execute(f"ALTER TABLE [{table}] ADD COLUMN [{column}] {sql_type}")
    turns = db.table(FTS_TABLE)
    if turns.detect_fts() is None:
        turns.enable_fts(list(FTS_COLUMNS), tokenize=FTS_TOKENIZER, create_triggers=True)
    for name, sql in VIEWS.items():
        db.create_view(name, sql.strip(), replace=True)


def _drop_v1_fts(db: Database) -> None:
    """To version 2: drop the version-1 full-text index and its triggers (and any other
    form of it, so the step never trips on what it finds); `_declare` makes it again in
    sqlite-utils' form (same column, tokenizer and rowids: a search finds what it found
    before)."""
    for trigger in ("turns_ai", "turns_ad", "turns_au"):
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    db.execute("DROP TABLE IF EXISTS turns_fts")


# Version n's step takes a store of version n - 1 to version n (before `_declare`).
_STEPS: dict[int, Callable[[Database], None]] = {2: _drop_v1_fts, 3: lambda db: None}
