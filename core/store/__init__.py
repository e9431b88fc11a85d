"""The arena store: one SQLite file (WAL) holding many tournaments.

This package is the one place that opens the store and the one place SQL is written
(this module: the tournament engine's queries; `evaluation`, `scoring`, `annotate` and
`packs`: their areas; `schema`: the tables, full-text index, views, version and upgrades).
Every other module, and every other process (a watcher following a run, annotators
labelling at the same time), goes through `Store`.

Followers read cheaply: every table that grows is append-only or carries an increasing
rowid, and `events` is an append-only log of state changes (conversation started or
finished, bot failures), so a watcher polls ``PRAGMA data_version`` and reads only rows
past the last rowid it saw.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.evaluation.settings import EvaluationSettings
from core.store._common import StoreError, _chunks, _Transaction
from core.store.annotate import _AnnotateMixin, _fts_phrase
from core.store.evaluation import (
    AssignmentRow,
    CodeBlockRow,
    FindingRow,
    LabelEvent,
    Verdict,
    _EvaluationMixin,
)
from core.store.follow import _FollowMixin
from core.store.fts import insert_turns
from core.store.judges import JudgeLabelRow, _JudgesMixin
from core.store.ops import BotVersionOp, EventOp, FinishOp, StartOp, StoreOp, TurnOp
from core.store.packs import _PacksMixin
from core.store.replies import _RepliesMixin
from core.store.schema import SCHEMA_VERSION, make_current, stored_version, version_error
from core.store.scoring import ScoringRow, UtilityResultRow, _ScoringMixin
from core.store.seasons import LatencyRow, SeasonRound, SeasonRow, _SeasonsMixin

__all__ = [
    "SCHEMA_VERSION", "AssignmentRow", "BotRow", "BotVersionOp", "CodeBlockRow", "ConversationRow", "EventOp",
    "EventRow", "FindingRow", "FinishOp", "JudgeLabelRow", "LabelEvent", "LatencyRow", "MatchupRow", "ScoringRow",
    "SeasonRound", "SeasonRow", "StartOp", "Store", "StoreError",
    "StoreOp", "TokenUsage", "TournamentRow", "TournamentSettings", "Transcript", "TurnOp", "TurnRow", "UtilityResultRow",
    "Verdict", "damaged", "is_damage",
]

# How long a writer waits for another process's transaction before giving up. Annotators
# and a runner may share one store; 30 s is far longer than any transaction we make.
BUSY_TIMEOUT_MS = 30_000
# How long a closing writer waits for other connections to let it checkpoint the whole
# WAL; if they keep it busy longer, one of them is still writing and checkpoints later.
CLOSE_CHECKPOINT_MS = 2_000

CONVERSATION_STATUSES = ("pending", "running", "complete", "incomplete")


@dataclass(frozen=True)
class TournamentSettings:
    """What a tournament's row keeps besides its grid (the ``settings`` column, JSON): its
    evaluation settings, so later commands need only the store, and the run's turn
    timeout in seconds (None for an imported tournament, which never ran here).
    `imported` marks a tournament made by ``arena-tui import``."""

    evaluation: EvaluationSettings = field(default_factory=EvaluationSettings)
    timeout: float | None = None
    imported: bool = False

    def to_json(self) -> str:
        """The column's text."""
        data: dict[str, Any] = {} if self.timeout is None else {"timeout": self.timeout}
        data["evaluation"] = self.evaluation.to_json()
        if self.imported:
            data["imported"] = True
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> TournamentSettings:
        """Read the column's text, as `to_json` or an earlier release wrote it (keys missing
        there take their defaults). Raises ValueError if it is not a JSON object."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"tournament settings must be a JSON object, not {type(data).__name__}")
        timeout = data.get("timeout")
        return cls(
            evaluation=EvaluationSettings.from_json(data.get("evaluation") or {}),
            timeout=None if timeout is None else float(timeout),
            imported=bool(data.get("imported", False)),
        )


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
    settings: TournamentSettings
    status: str
    created_at: float
    started_at: float | None
    finished_at: float | None


@dataclass(frozen=True)
class BotRow:
    """A bot of a tournament as stored (`version`: what its handshake announced, if it started)."""

    id: int
    name: str
    side: str
    kind: str
    spec: str
    version: str | None


@dataclass(frozen=True)
class MatchupRow:
    """A matchup with its bot names, planned conversations and how many are in each status."""

    id: int
    attacker: str
    defender: str
    planned: int
    complete: int
    incomplete: int
    running: int
    pending: int


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
    """One stored turn; ``technique`` and ``converters`` (comma-separated) as the reply
    named them (None: it named none)."""

    id: int
    conversation_id: int
    turn_index: int
    role: str
    content: str
    latency: float | None
    created_at: float
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None
    technique: str | None = None
    converters: str | None = None

    @property
    def truncated(self) -> bool:
        """True when the reply was cut at the bot's ``max_tokens``."""
        return self.finish_reason == "length"

    @property
    def technique_label(self) -> str | None:
        """``"crescendo + leetspeak"``: the technique with its converters (None: none named)."""
        if not self.technique:
            return None
        return " + ".join([self.technique, *(c for c in (self.converters or "").split(",") if c)])


@dataclass(frozen=True)
class Transcript:
    """What was said in one conversation, by its place in the grid: (role, content) per turn."""

    attacker: str
    defender: str
    idx: int
    turns: list[tuple[str, str]]


@dataclass(frozen=True)
class TokenUsage:
    """The tokens one bot reported in one tournament's stored turns (LLM usage)."""

    tournament: str
    bot: str
    side: str
    replies: int  # stored turns of the bot
    replies_with_usage: int  # of which reported their usage
    prompt_tokens: int
    completion_tokens: int
    truncated: int  # replies cut at max_tokens (finish_reason "length")

    @property
    def tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


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


_TOURNAMENT_SELECT = (
    "SELECT id, name, kind, fingerprint, seed, conversations_per_matchup, max_pairs, settings,"
    " status, created_at, started_at, finished_at FROM tournaments"
)

# The columns of the orchestrator's turn rows (`Store.apply`).
_TURN_COLUMNS = ("conversation_id", "turn_index", "role", "content", "latency", "created_at",
                 "prompt_tokens", "completion_tokens", "finish_reason", "technique", "converters")

# Conversations whose turns `Store.transcripts` reads per query.
_TRANSCRIPT_PAGE = 500

_CONVERSATION_SELECT = """
SELECT c.id, c.tournament_id, c.matchup_id, a.name, d.name, c.idx, c.seed, c.status,
       c.reason, c.detail, c.ended_by, c.n_turns, c.attempts, c.started_at, c.finished_at
FROM conversations c
JOIN matchups m ON m.id = c.matchup_id
JOIN bots a ON a.id = m.attacker_id
JOIN bots d ON d.id = m.defender_id
"""


def _not_a_store(path: Path, exc: sqlite3.DatabaseError) -> StoreError:
    """The error for a file SQLite could not read.

    The file is never opened outside SQLite to check its header: closing any descriptor
    of a file drops every POSIX lock this process holds on it, so a store this process
    has open would look unused to other processes, and the last one to close it would
    delete the WAL under this process's connections."""
    if getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB":
        return StoreError(f"{path} is not an arena store (not an SQLite database)")
    if is_damage(exc):
        return damaged(path, str(exc))
    return StoreError(f"{path}: cannot read store: {exc}")


def _no_store(path: Path) -> StoreError:
    """The error for a file that holds no store yet: never made into one by a reader."""
    return StoreError(f"{path} holds no arena store (an empty {'file' if path.stat().st_size == 0 else 'SQLite database'})")


def _set_journal_mode(conn: sqlite3.Connection, mode: str) -> None:
    """Put the store in journal `mode`. Switching takes an exclusive lock, and when two
    processes open a store in another mode at once, each holding its shared lock, SQLite
    fails one of them at once (SQLITE_BUSY without waiting: waiting would deadlock). That
    one tries again (until the busy timeout) and finds the switch made by the other."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute(f"PRAGMA journal_mode = {mode}")
            return
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorname", "") != "SQLITE_BUSY" or time.monotonic() > deadline:
                raise
        time.sleep(0.01)


def is_damage(exc: BaseException) -> bool:
    """Whether an SQLite error says the file is damaged (SQLITE_CORRUPT and its kinds, or a
    header that no longer reads as SQLite)."""
    name = getattr(exc, "sqlite_errorname", "")
    return name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB"


def damaged(path: str | Path | None, detail: str) -> StoreError:
    """The one-line error for a damaged store (`path` None: the store of the command)."""
    where = "the store" if path is None else str(path)
    # quick_check's first line names the schema ("*** in database main ***"), the next the page.
    lines = [line for line in detail.splitlines() if line.strip() and not line.startswith("***")]
    return StoreError(f"{where} is damaged ({lines[0] if lines else 'integrity check failed'}): restore it from a"
                      " backup, or salvage what is readable with sqlite3's .recover")


class Store(_EvaluationMixin, _ScoringMixin, _AnnotateMixin, _FollowMixin, _PacksMixin, _RepliesMixin,
            _SeasonsMixin, _JudgesMixin):
    """An open arena store. Use `Store.open` (or `Store.open_readonly` for followers).

    Read methods give one frozen dataclass per record (`TournamentRow`, `BotRow`,
    `ConversationRow`, `TurnRow`, `FindingRow`, `Verdict`, ...); counts and ids come as
    plain mappings, sets and lists. Plain values only where they are the point: the bulk
    reads `turns_of` ((role, content) messages for exports) and `scoring_successes`
    (ids streamed into arrays), `annotator_queue_ids` (compact arrays),
    `current_label_rows` (the (item, annotator, label) observations the agreement
    statistics take) and the raw table rows packs copy (`pack_rows`, `label_rows`,
    `labels_after`). A run writes through `apply` (`core.store.ops`).
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, readonly: bool) -> None:
        self.conn = conn
        self.path = path
        self.readonly = readonly
        self._checkpoint_on_close = not readonly
        # The schema version this open upgraded the store from (None: it did not).
        self.upgraded_from: int | None = None

    # --- opening ------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, *, create: bool = True, check: bool = True, helper: bool = False) -> Store:
        """Open (and, if `create`, create) a store for reading and writing.

        Nothing is written into a file before it is known to be a sound arena store: one
        that holds no store (empty, or an SQLite database without one) is refused unless
        `create`, and an existing store must pass SQLite's ``quick_check`` (`check`;
        False only to reopen a store the program has just opened with the check). A
        `helper` is a short-lived extra connection (a worker thread, a child process)
        while another connection of the program holds the store open: it is not
        checked, and its close leaves the WAL checkpoint to the holder's. A store of an
        older schema version is upgraded in one transaction (`core.store.schema`;
        `upgraded_from` then says from which version), one of a newer version refused.

        Journals: an arena store is in WAL mode (a runner, watchers and annotators share
        it) and `close` checkpoints the WAL, so once no process writes to it the store is
        its one file. A pack (meta ``pack_id``) is labelled by one person, often on
        removable media: it stays in rollback-journal mode with full syncs, so every
        committed label is in the pack file itself when the commit returns, whatever
        happens to the process after (a journal a killed process left is rolled back by
        SQLite); a pack left in WAL mode by an earlier version has its WAL folded in here.
        """
        path = Path(path)
        if path.exists():
            if path.is_dir():
                raise StoreError(f"{path} is a directory, not an arena store")
        elif not create:
            raise StoreError(f"no arena store at {path}")
        elif not path.parent.exists():
            raise StoreError(f"folder {path.parent} does not exist")
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        store = cls(conn, path, readonly=False)
        store._checkpoint_on_close = not helper
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # Check what the file is before changing anything in it.
            version = store._check_version()
            if version is None and not create:
                raise _no_store(path)
            if version is not None and check and not helper:
                store._quick_check()
            pack = version is not None and store.meta_get("pack_id") is not None
            _set_journal_mode(conn, "DELETE" if pack else "WAL")
            # NORMAL is durable across application crashes (kill -9) in WAL mode; only an
            # OS crash or power loss can drop the last transactions. A pack syncs every
            # commit: a USB stick pulled out after "saved" still has the label.
            conn.execute(f"PRAGMA synchronous = {'FULL' if pack else 'NORMAL'}")
            conn.execute("PRAGMA foreign_keys = ON")
            if version != SCHEMA_VERSION:
                store._make_current(version)
        except sqlite3.DatabaseError as exc:
            conn.close()
            if is_damage(exc):
                raise _not_a_store(path, exc) from None
            raise StoreError(f"{path}: cannot open store: {exc}") from None
        except StoreError:
            conn.close()
            raise
        return store

    @classmethod
    def open_readonly(cls, path: str | Path) -> Store:
        """Open an existing store without ever writing to it (watchers, reports). A store
        of an older schema version is refused, with a command that upgrades it."""
        path = Path(path)
        if not path.is_file():
            raise StoreError(f"no arena store at {path}")
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
        store = cls(conn, path, readonly=True)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if store._check_version() is None:
                raise _no_store(path)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise _not_a_store(path, exc) from None
        except StoreError:
            conn.close()
            raise
        return store

    def _make_current(self, version: int | None) -> None:
        """Create the schema in a new store, or upgrade an older one (`schema.make_current`:
        one transaction, so a failed upgrade changes nothing)."""
        try:
            had = make_current(self.conn, self.path)
        except sqlite3.Error as exc:
            if version is None or is_damage(exc):
                raise
            raise StoreError(f"{self.path}: cannot upgrade the store from schema {version} to {SCHEMA_VERSION} ({exc});"
                             " it is unchanged") from None
        if had is not None and had != SCHEMA_VERSION:
            self.upgraded_from = had

    def _quick_check(self) -> None:
        """Refuse a damaged store (SQLite's quick_check: page structure, not index contents)."""
        rows = self.conn.execute("PRAGMA quick_check(1)").fetchall()
        if rows != [("ok",)]:
            raise damaged(self.path, str(rows[0][0]) if rows else "")

    def _check_version(self) -> int | None:
        """The store's schema version (None: the file holds no store yet); raises
        `StoreError` for a foreign database and for a version this open cannot use."""
        version = stored_version(self.conn)
        if version is None:
            if self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'").fetchone():
                raise StoreError(f"{self.path} is an SQLite database but not an arena store")
            return None
        error = version_error(self.path, version, readonly=self.readonly)
        if error is not None:
            raise error
        return version

    def close(self) -> None:
        """Close the connection (idempotent). A writer (not a `helper`) first checkpoints
        the WAL into the main file (waiting at most `CLOSE_CHECKPOINT_MS` for other
        connections), so the file is whole even if a read-only connection is the last to
        close (it cannot checkpoint) and the store is then copied without its ``-wal``."""
        try:
            if self._checkpoint_on_close:
                self.conn.execute(f"PRAGMA busy_timeout = {CLOSE_CHECKPOINT_MS}")
                self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # a no-op in rollback-journal mode
        except sqlite3.Error:
            pass  # closed already, or the media is gone: the next writer folds the WAL in
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
        row = self.conn.execute(_TOURNAMENT_SELECT + " WHERE name = ?", (name,)).fetchone()
        return _tournament(row) if row else None

    def tournament_by_id(self, tournament_id: int) -> TournamentRow | None:
        """The tournament with this id, or None."""
        row = self.conn.execute(_TOURNAMENT_SELECT + " WHERE id = ?", (tournament_id,)).fetchone()
        return _tournament(row) if row else None

    def tournaments(self) -> list[TournamentRow]:
        """All tournaments, oldest first."""
        rows = self.conn.execute(_TOURNAMENT_SELECT + " ORDER BY id").fetchall()
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
        settings: TournamentSettings,
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
                (name, kind, fingerprint, seed, conversations_per_matchup, max_pairs, settings.to_json(), now),
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

    def bots(self, tournament_id: int) -> list[BotRow]:
        """The tournament's bots, in the order they were registered."""
        rows = self.conn.execute(
            "SELECT id, name, side, kind, spec, version FROM bots WHERE tournament_id = ? ORDER BY id", (tournament_id,)
        ).fetchall()
        return [BotRow(*r) for r in rows]

    def matchups(self, tournament_id: int) -> list[MatchupRow]:
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
        return [MatchupRow(r[0], r[1], r[2], r[3], *(v or 0 for v in r[4:])) for r in rows]

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

    def token_usage(self, tournament_ids: Sequence[int]) -> list[TokenUsage]:
        """Tokens per bot and tournament, summed over the stored turns (bots that report
        no usage have zeros), by tournament then side then bot."""
        if not tournament_ids:
            return []
        marks = ",".join("?" * len(tournament_ids))
        rows = self.conn.execute(
            f"""SELECT t.name, b.name, b.side, COUNT(u.id), COUNT(COALESCE(u.prompt_tokens, u.completion_tokens)),
                       COALESCE(SUM(u.prompt_tokens), 0), COALESCE(SUM(u.completion_tokens), 0),
                       COALESCE(SUM(u.finish_reason = 'length'), 0)
                FROM bots b JOIN tournaments t ON t.id = b.tournament_id
                LEFT JOIN matchups m ON m.tournament_id = b.tournament_id
                     AND (m.attacker_id = b.id OR m.defender_id = b.id)
                LEFT JOIN conversations c ON c.matchup_id = m.id
                LEFT JOIN turns u ON u.conversation_id = c.id AND u.role = b.side
                WHERE b.tournament_id IN ({marks})
                GROUP BY b.id ORDER BY t.id, b.side, b.name""",
            list(tournament_ids),
        ).fetchall()
        return [TokenUsage(*r) for r in rows]

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

    def apply(self, ops: Iterable[StoreOp]) -> None:
        """Apply a batch of orchestrator writes (`core.store.ops`) in one transaction.

        Each kind of row is written with one statement for the whole batch: the events
        in the order of `ops`, the conversations' starts and then their finishes (a
        conversation that finishes and starts again in one batch has what came before
        written first, so each conversation's updates keep their order), the bot versions,
        and the turns last, together (`_insert_turns`): no row of one table depends on
        another's, and no other connection sees the transaction before it commits.
        Anything that is not an op raises TypeError and nothing is written."""
        turns: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        starts: list[tuple[Any, ...]] = []
        finishes: list[tuple[Any, ...]] = []
        finished: set[int] = set()
        versions: list[tuple[Any, ...]] = []
        with self.transaction():
            for op in ops:
                kind = type(op)
                if kind is TurnOp:
                    turns.append((op.conversation_id, op.turn_index, op.role, op.content, op.latency, op.at,
                                  op.prompt_tokens, op.completion_tokens, op.finish_reason,
                                  op.technique, ",".join(op.converters) or None))
                elif kind is StartOp:
                    if op.conversation_id in finished:
                        self._update_conversations(starts, finishes)
                        starts, finishes, finished = [], [], set()
                    starts.append((op.at, op.conversation_id))
                    events.append((op.tournament_id, "started", op.conversation_id, None, None, op.at))
                elif kind is FinishOp:
                    finishes.append((op.status, op.reason, op.detail, op.ended_by, op.n_turns, op.at, op.conversation_id))
                    finished.add(op.conversation_id)
                    events.append((op.tournament_id, op.status, op.conversation_id, None, op.reason, op.at))
                elif kind is EventOp:
                    events.append((op.tournament_id, op.kind, op.conversation_id, op.bot, op.detail, op.at))
                elif kind is BotVersionOp:
                    versions.append((op.version, op.tournament_id, op.bot))
                else:
                    raise TypeError(f"not a store op: {op!r}")
            self._update_conversations(starts, finishes)
            if events:
                self.conn.executemany(
                    "INSERT INTO events (tournament_id, kind, conversation_id, bot, detail, at) VALUES (?, ?, ?, ?, ?, ?)",
                    events,
                )
            if versions:
                self.conn.executemany("UPDATE bots SET version = ? WHERE tournament_id = ? AND name = ?", versions)
            if turns:
                self._insert_turns(turns)

    def _update_conversations(self, starts: list[tuple[Any, ...]], finishes: list[tuple[Any, ...]]) -> None:
        """Mark conversations started (`StartOp`: running, one more attempt), then finished (`FinishOp`)."""
        if starts:
            self.conn.executemany(
                "UPDATE conversations SET status = 'running', started_at = ?, attempts = attempts + 1 WHERE id = ?", starts)
        if finishes:
            self.conn.executemany(
                "UPDATE conversations SET status = ?, reason = ?, detail = ?, ended_by = ?, n_turns = ?,"
                " finished_at = ? WHERE id = ?",
                finishes,
            )

    def _insert_turns(self, rows: list[tuple[Any, ...]]) -> None:
        """Insert turn rows (`_TURN_COLUMNS`) in the open transaction, indexed for full-text
        search: a batch of `fts.BULK_TURNS` or more in one statement, with the per-row
        trigger set aside in this transaction (`fts.insert_turns`; same index)."""
        insert_turns(self.conn, _TURN_COLUMNS, rows)

    # --- turns and following ------------------------------------------------------

    def turns(self, conversation_id: int) -> list[TurnRow]:
        """A conversation's turns in order."""
        rows = self.conn.execute(
            "SELECT id, conversation_id, turn_index, role, content, latency, created_at, prompt_tokens,"
            " completion_tokens, finish_reason, technique, converters FROM turns"
            " WHERE conversation_id = ? ORDER BY turn_index",
            (conversation_id,),
        ).fetchall()
        return [TurnRow(*r) for r in rows]

    def turns_after(self, rowid: int, limit: int = 1000) -> list[TurnRow]:
        """Turns stored after `rowid` (for followers), oldest first."""
        rows = self.conn.execute(
            "SELECT id, conversation_id, turn_index, role, content, latency, created_at, prompt_tokens,"
            " completion_tokens, finish_reason, technique, converters FROM turns"
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
            rows = self.conn.execute(sql, (_fts_phrase(query), limit)).fetchall()
        return [r[0] for r in rows]

    def transcripts(self, tournament_id: int) -> Iterator[Transcript]:
        """The transcript of every conversation, in grid order; used to compare runs."""
        conversations = self.conversations(tournament_id)
        for start in range(0, len(conversations), _TRANSCRIPT_PAGE):
            page = conversations[start : start + _TRANSCRIPT_PAGE]
            turns = self.turns_of([conv.id for conv in page])
            for conv in page:
                yield Transcript(conv.attacker, conv.defender, conv.idx, turns[conv.id])


def _tournament(row: Sequence[Any]) -> TournamentRow:
    values = list(row)
    values[7] = TournamentSettings.from_json(values[7])
    return TournamentRow(*values)
