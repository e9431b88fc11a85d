"""Store methods and tables of annotation packs, label import/export, fine-tuning export, imports and reports.

A pack is itself an arena store (same schema) holding one annotator's items; the source
store remembers every pack it exported (`packs`) and which pack events it merged
(`pack_merges`), so merging is idempotent and tampering with a pack is detected.
`label_imports` does the same for labels imported from JSONL.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.store._common import _chunks, _Transaction
from core.store.evaluation import _FINDING_FIELDS, _LABEL_COLUMNS, FindingRow, _insert_label
from core.store.fts import insert_turns

if TYPE_CHECKING:
    from core.store import ConversationRow, TournamentSettings

PACKS_SCHEMA = """
CREATE TABLE IF NOT EXISTS packs (
    pack_id TEXT PRIMARY KEY,
    annotator TEXT NOT NULL,
    exported_at REAL NOT NULL,
    checksum TEXT NOT NULL,
    last_label_id INTEGER NOT NULL,
    conversations INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pack_merges (
    pack_id TEXT NOT NULL,
    pack_event_id INTEGER NOT NULL,
    label_id INTEGER NOT NULL REFERENCES labels(id),
    merged_at REAL NOT NULL,
    PRIMARY KEY (pack_id, pack_event_id)
);
CREATE TABLE IF NOT EXISTS label_imports (
    event_uid TEXT PRIMARY KEY,
    label_id INTEGER NOT NULL REFERENCES labels(id),
    imported_at REAL NOT NULL
);
"""

# The tables a pack carries, in foreign-key order, with the column that selects its rows
# (by tournament or by conversation) and the order that makes the checksum canonical.
PACK_TABLES: tuple[tuple[str, str, str], ...] = (
    ("tournaments", "id", "id"),
    ("bots", "tournament_id", "id"),
    ("matchups", "tournament_id", "id"),
    ("conversations", "id", "id"),
    ("turns", "conversation_id", "id"),
    ("scans", "conversation_id", "conversation_id"),
    ("code_blocks", "conversation_id", "id"),
    ("findings", "conversation_id", "id"),
    ("assignments", "conversation_id", "id"),
)

# Rows fetched per query while streaming exports: bounded memory, few round trips.
PAGE_ROWS = 500


@dataclass(frozen=True)
class PackRecord:
    """An exported pack as the source store remembers it (merges check its checksum)."""

    pack_id: str
    annotator: str
    exported_at: float
    checksum: str
    last_label_id: int
    conversations: int


@dataclass(frozen=True)
class ConversationOutcome:
    """A conversation as exports and feedback show it: its tournament and bots, how it
    ended (`incomplete_reason` once incomplete) and its stored verdict (`verdict` None:
    undecided; `reason` None too: never evaluated)."""

    id: int
    tournament_id: int
    tournament: str
    kind: str
    attacker: str
    defender: str
    status: str
    incomplete_reason: str | None
    n_turns: int
    verdict: str | None
    reason: str | None

class _PacksMixin:
    """Store methods of annotation packs, label import/export, fine-tuning export, imports and reports."""

    conn: sqlite3.Connection

    def transaction(self) -> _Transaction: ...  # provided by Store

    # --- meta -------------------------------------------------------------------------

    def meta(self) -> dict[str, str]:
        """Every key of the meta table."""
        return dict(self.conn.execute("SELECT key, value FROM meta").fetchall())

    def set_meta(self, values: dict[str, str]) -> None:
        """Set meta keys (one transaction)."""
        with self.transaction():
            self.conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(values.items()))

    def last_label_id(self) -> int:
        """The id of the newest label event (0 when there is none)."""
        return self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM labels").fetchone()[0]

    def single_file(self) -> None:
        """Leave WAL mode so the file is self-contained once closed (packs)."""
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.execute("PRAGMA journal_mode = DELETE")

    # --- copying rows into a pack -------------------------------------------------------

    def pack_rows(self, table: str, key: str, values: Sequence[int]) -> tuple[list[str], list[tuple[Any, ...]]]:
        """(columns, rows) of `table` whose `key` is in `values`, in canonical order."""
        if table not in {t for t, _, _ in PACK_TABLES}:
            raise ValueError(f"not a pack table: {table}")
        order = next(o for t, _, o in PACK_TABLES if t == table)
        columns = [r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")]
        rows: list[tuple[Any, ...]] = []
        for chunk in _chunks(sorted(set(values)), PAGE_ROWS):
            marks = ",".join("?" * len(chunk))
            rows.extend(self.conn.execute(f"SELECT * FROM {table} WHERE {key} IN ({marks}) ORDER BY {order}", chunk))
        rows.sort(key=lambda r: r[columns.index(order)])
        return columns, rows

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert rows verbatim (ids included) into a pack table (one transaction)."""
        if table not in {t for t, _, _ in PACK_TABLES} | {"labels"}:
            raise ValueError(f"not a pack table: {table}")
        marks = ",".join("?" * len(columns))
        with self.transaction():
            if table == "turns":
                insert_turns(self.conn, columns, rows)
            else:
                self.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def label_rows(self, conversation_ids: Sequence[int], annotator: str, max_id: int | None = None) -> list[tuple[Any, ...]]:
        """Raw label rows (all columns) of one annotator on some items, oldest first."""
        out: list[tuple[Any, ...]] = []
        for chunk in _chunks(sorted(set(conversation_ids)), PAGE_ROWS):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT {_LABEL_COLUMNS} FROM labels WHERE annotator = ? AND conversation_id IN ({marks})"
            params: list[Any] = [annotator, *chunk]
            if max_id is not None:
                sql += " AND id <= ?"
                params.append(max_id)
            out.extend(self.conn.execute(sql, params))
        return sorted(out)

    def labels_after(self, label_id: int) -> list[tuple[Any, ...]]:
        """Raw label rows with an id above `label_id`, oldest first."""
        return self.conn.execute(f"SELECT {_LABEL_COLUMNS} FROM labels WHERE id > ? ORDER BY id", (label_id,)).fetchall()

    def pack_conversation_ids(self) -> list[int]:
        """Every conversation id in this store (a pack holds only its items)."""
        return [r[0] for r in self.conn.execute("SELECT id FROM conversations ORDER BY id")]

    def pack_content(self, conversation_ids: Sequence[int], annotator: str) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
        """table -> (columns, rows) of everything a pack for `annotator` holding these
        conversations carries (labels excepted), in canonical order: the tournaments and
        only the matchups and bots of these conversations, their turns, scans, code
        blocks and findings, and the annotator's own assignments."""
        conversations = self.pack_rows("conversations", "id", conversation_ids)
        tournament_ids = sorted({r[1] for r in conversations[1]})
        matchup_ids = {r[2] for r in conversations[1]}
        matchups = self.pack_rows("matchups", "tournament_id", tournament_ids)
        matchups = (matchups[0], [r for r in matchups[1] if r[0] in matchup_ids])
        bot_ids = {b for r in matchups[1] for b in r[2:4]}
        bots = self.pack_rows("bots", "tournament_id", tournament_ids)
        content = {
            "tournaments": self.pack_rows("tournaments", "id", tournament_ids),
            "bots": (bots[0], [r for r in bots[1] if r[0] in bot_ids]),
            "matchups": matchups,
            "conversations": conversations,
        }
        for table in ("turns", "scans", "code_blocks", "findings", "assignments"):
            content[table] = self.pack_rows(table, "conversation_id", conversation_ids)
        columns, rows = content["assignments"]
        content["assignments"] = (columns, [r for r in rows if r[columns.index("annotator")] == annotator])
        return content

    def existing_conversations(self, conversation_ids: Sequence[int]) -> dict[int, ConversationRow]:
        """Those of `conversation_ids` that exist, by id."""
        from core.store import _CONVERSATION_SELECT, ConversationRow

        out: dict[int, ConversationRow] = {}
        for chunk in _chunks(sorted(set(conversation_ids)), PAGE_ROWS):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(_CONVERSATION_SELECT + f" WHERE c.id IN ({marks})", chunk):
                out[row[0]] = ConversationRow(*row)
        return out

    # --- pack records in the source store -----------------------------------------------

    def record_pack(self, pack_id: str, annotator: str, exported_at: float, checksum: str, last_label_id: int,
                    conversations: int) -> None:
        """Remember an exported pack (merges check its checksum against this record)."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO packs (pack_id, annotator, exported_at, checksum, last_label_id, conversations)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (pack_id, annotator, exported_at, checksum, last_label_id, conversations),
            )

    def pack_record(self, pack_id: str) -> PackRecord | None:
        """The stored record of an exported pack, or None."""
        row = self.conn.execute(
            "SELECT pack_id, annotator, exported_at, checksum, last_label_id, conversations FROM packs WHERE pack_id = ?",
            (pack_id,),
        ).fetchone()
        return PackRecord(*row) if row else None

    def merged_events(self, pack_id: str) -> dict[int, int]:
        """pack event id -> store label id of a pack's events already merged."""
        return dict(self.conn.execute("SELECT pack_event_id, label_id FROM pack_merges WHERE pack_id = ?", (pack_id,)))

    def imported_uids(self) -> dict[str, int]:
        """event uid -> store label id of every label imported from JSONL."""
        return dict(self.conn.execute("SELECT event_uid, label_id FROM label_imports"))

    def append_labels(self, events: Sequence[dict[str, Any]]) -> list[int]:
        """Append label events in one transaction, each with its provenance.

        Each event: the label columns (conversation_id, annotator, action, label, tags
        list, turn, note, source, forced, created_at), ``undoes`` as a store id or
        ``undoes_ref`` naming an earlier event of the batch by position, and either
        ``pack`` = (pack id, pack event id) or ``uid`` (a JSONL event uid). Returns the
        new label ids.
        """
        now = time.time()
        ids: list[int] = []
        with self.transaction():
            for event in events:
                undoes = event.get("undoes")
                if event.get("undoes_ref") is not None:
                    undoes = ids[event["undoes_ref"]]
                label_id = _insert_label(
                    self.conn, event["conversation_id"], event["annotator"], event["action"], event.get("label"),
                    event.get("tags") or [], event.get("turn"), event.get("note") or "", event["source"],
                    bool(event.get("forced")), undoes, event["created_at"],
                )
                ids.append(label_id)
                if "pack" in event:
                    self.conn.execute(
                        "INSERT INTO pack_merges (pack_id, pack_event_id, label_id, merged_at) VALUES (?, ?, ?, ?)",
                        (*event["pack"], label_id, now),
                    )
                if "uid" in event:
                    self.conn.execute(
                        "INSERT INTO label_imports (event_uid, label_id, imported_at) VALUES (?, ?, ?)",
                        (event["uid"], label_id, now),
                    )
        return ids

    # --- streaming reads for exports and reports ----------------------------------------

    def conversation_page(self, tournament_ids: Sequence[int], after_id: int, limit: int = PAGE_ROWS) -> list[ConversationOutcome]:
        """One page of conversations (id > `after_id`) of some tournaments, with their
        tournament, bots and stored verdict, in id order."""
        marks = ",".join("?" * len(tournament_ids))
        rows = self.conn.execute(
            f"""
            SELECT c.id, c.tournament_id, t.name, t.kind, a.name, d.name, c.status, c.reason, c.n_turns,
                   v.verdict, v.reason
            FROM conversations c
            JOIN tournaments t ON t.id = c.tournament_id
            JOIN matchups m ON m.id = c.matchup_id
            JOIN bots a ON a.id = m.attacker_id
            JOIN bots d ON d.id = m.defender_id
            LEFT JOIN verdicts v ON v.conversation_id = c.id
            WHERE c.tournament_id IN ({marks}) AND c.id > ?
            ORDER BY c.id LIMIT ?
            """,
            (*tournament_ids, after_id, limit),
        )
        return [ConversationOutcome(*r) for r in rows]

    def iter_conversations(self, tournament_ids: Sequence[int], page: int = PAGE_ROWS) -> Iterator[list[ConversationOutcome]]:
        """Pages of `conversation_page` until the end (constant memory)."""
        after = 0
        while True:
            rows = self.conversation_page(tournament_ids, after, page)
            if not rows:
                return
            yield rows
            after = rows[-1].id

    def count_conversations(self, tournament_ids: Sequence[int]) -> int:
        """How many conversations some tournaments hold."""
        marks = ",".join("?" * len(tournament_ids))
        return self.conn.execute(f"SELECT COUNT(*) FROM conversations WHERE tournament_id IN ({marks})", tuple(tournament_ids)).fetchone()[0]

    def turns_of(self, conversation_ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
        """conversation id -> its messages, (role, content) per turn in order, for a page of
        ids: the bulk read of exports (`turns` gives a conversation's turns as rows; a
        `TurnRow` per turn here would double the time this read takes)."""
        out: dict[int, list[tuple[str, str]]] = {cid: [] for cid in conversation_ids}
        for chunk in _chunks(list(conversation_ids), PAGE_ROWS):
            marks = ",".join("?" * len(chunk))
            for cid, role, content in self.conn.execute(
                f"SELECT conversation_id, role, content FROM turns WHERE conversation_id IN ({marks})"
                " ORDER BY conversation_id, turn_index",
                chunk,
            ):
                out[cid].append((role, content))
        return out

    def truncated_turns_of(self, conversation_ids: Sequence[int]) -> dict[int, list[int]]:
        """conversation id -> the turn indices (from 0) of its replies cut at ``max_tokens``
        (finish_reason ``length``), for a page of ids; conversations with none are absent."""
        out: dict[int, list[int]] = {}
        for chunk in _chunks(list(conversation_ids), PAGE_ROWS):
            marks = ",".join("?" * len(chunk))
            for cid, index in self.conn.execute(
                f"SELECT conversation_id, turn_index FROM turns WHERE conversation_id IN ({marks})"
                " AND finish_reason = 'length' ORDER BY conversation_id, turn_index",
                chunk,
            ):
                out.setdefault(cid, []).append(index)
        return out

    def findings_of(self, conversation_ids: Sequence[int]) -> dict[int, list[FindingRow]]:
        """conversation id -> its findings in the order they were stored, for a page of ids."""
        out: dict[int, list[FindingRow]] = {cid: [] for cid in conversation_ids}
        for chunk in _chunks(list(conversation_ids), PAGE_ROWS):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                f"SELECT {_FINDING_FIELDS} FROM findings WHERE conversation_id IN ({marks}) ORDER BY conversation_id, id",
                chunk,
            ):
                finding = FindingRow(*row)
                out[finding.conversation_id].append(finding)
        return out

    # --- imports ------------------------------------------------------------------------

    def import_conversations(
        self,
        *,
        name: str,
        kind: str,
        settings: TournamentSettings,
        pairs: Sequence[tuple[str, str]],
        conversations: Sequence[tuple[int, list[tuple[str, str]]]],
        now: float | None = None,
    ) -> int:
        """Create a finished tournament from imported conversations in one transaction.

        `pairs` lists the (attacker, defender) matchups; each conversation is (index into
        `pairs`, [(role, content), ...]). Rows go in with executemany; the turns are
        indexed for full-text search in one statement (`schema.insert_turns`). Returns
        the tournament id.
        """
        now = time.time() if now is None else now
        with self.transaction():
            tid = self.conn.execute(
                "INSERT INTO tournaments (name, kind, fingerprint, seed, conversations_per_matchup, max_pairs, settings,"
                " status, created_at, started_at, finished_at) VALUES (?, ?, 'imported', 0, ?, ?, ?, 'finished', ?, ?, ?)",
                (name, kind, max(1, len(conversations)), max((len(t) + 1) // 2 for _, t in conversations) if conversations else 1,
                 settings.to_json(), now, now, now),
            ).lastrowid
            bot_ids: dict[tuple[str, str], int] = {}
            for attacker, defender in pairs:
                for bot, side in ((attacker, "attacker"), (defender, "defender")):
                    if (bot, side) not in bot_ids:
                        bot_ids[(bot, side)] = self.conn.execute(
                            "INSERT INTO bots (tournament_id, name, side, kind, spec) VALUES (?, ?, ?, 'imported', '')",
                            (tid, bot, side),
                        ).lastrowid
            matchup_ids = []
            planned = [0] * len(pairs)
            for pair_index, _ in conversations:
                planned[pair_index] += 1
            for (attacker, defender), n in zip(pairs, planned, strict=True):
                matchup_ids.append(self.conn.execute(
                    "INSERT INTO matchups (tournament_id, attacker_id, defender_id, planned) VALUES (?, ?, ?, ?)",
                    (tid, bot_ids[(attacker, "attacker")], bot_ids[(defender, "defender")], n),
                ).lastrowid)
            first = self.conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM conversations").fetchone()[0]
            next_idx = [0] * len(pairs)
            conv_rows, turn_rows = [], []
            for offset, (pair_index, turns) in enumerate(conversations):
                cid = first + offset
                conv_rows.append((cid, tid, matchup_ids[pair_index], next_idx[pair_index], offset, len(turns), now, now))
                next_idx[pair_index] += 1
                turn_rows.extend((cid, i, role, content, now) for i, (role, content) in enumerate(turns))
            self.conn.executemany(
                "INSERT INTO conversations (id, tournament_id, matchup_id, idx, seed, status, ended_by, n_turns, attempts,"
                " started_at, finished_at) VALUES (?, ?, ?, ?, ?, 'complete', 'imported', ?, 1, ?, ?)",
                conv_rows,
            )
            insert_turns(self.conn, ("conversation_id", "turn_index", "role", "content", "created_at"), turn_rows)
        return tid
