"""Store methods and tables of the leaderboard and the utility runs."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from core.scoring.items import ItemScore
from core.store._common import _chunks, _Transaction

# Defender utility, one row per (config, bot, set, item) (core.scoring.utility_run). `config` is
# the tournament/config name; `role` is "defender" or "base". Early schema-1 stores lack
# this table: upgrading them to schema 2 creates it (`core.store.schema`).
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
class MatchupTally:
    """How many conversations of one matchup have one (status, stored verdict).

    `verdict` is None for no verdict (undecided or never evaluated), as in ScoringRow.
    """

    tournament_id: int
    matchup_id: int
    attacker: str
    defender: str
    status: str
    verdict: str | None
    count: int


@dataclass(frozen=True)
class TechniqueTally:
    """How many complete conversations of one (tournament, attacker, defender) used one
    (technique, converters) on some attacker turn, with one stored verdict (None: no
    verdict). A conversation that used several is counted under each; ``converters`` is
    the comma-separated list as stored ("" for none)."""

    tournament_id: int
    attacker: str
    defender: str
    technique: str
    converters: str
    verdict: str | None
    count: int


@dataclass(frozen=True, kw_only=True)
class UtilityResultRow(ItemScore):
    """One stored utility test item result: the item's `ItemScore` (its replies, error and
    undefined flags are not stored: a row has their defaults) with the config name, the
    bot and its role (defender or base) it was measured for, and when."""

    config: str
    bot: str
    role: str
    created_at: float


class _ScoringMixin:
    """Store methods of the leaderboard and the utility runs."""

    conn: sqlite3.Connection

    def transaction(self) -> _Transaction: ...  # provided by Store

    @contextmanager
    def read_snapshot(self) -> Iterator[None]:
        """Run several reads on one consistent snapshot of the store (a deferred read
        transaction; a no-op inside a transaction already open on this connection)."""
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.execute("COMMIT")

    def scoring_tallies(self, tournament_ids: Sequence[int]) -> list[MatchupTally]:
        """Conversation counts per (matchup, status, stored verdict) of some tournaments,
        ordered by tournament and matchup id: a few rows per matchup whatever the number
        of conversations (one grouped query). Matchups without conversations are absent."""
        out: list[MatchupTally] = []
        for chunk in _chunks(sorted(set(tournament_ids)), 500):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                "SELECT c.tournament_id, c.matchup_id, a.name, d.name, c.status, v.verdict, COUNT(*)"
                " FROM conversations c JOIN matchups m ON m.id = c.matchup_id"
                " JOIN bots a ON a.id = m.attacker_id JOIN bots d ON d.id = m.defender_id"
                " LEFT JOIN verdicts v ON v.conversation_id = c.id"
                f" WHERE c.tournament_id IN ({marks})"
                " GROUP BY c.tournament_id, c.matchup_id, c.status, v.verdict"
                " ORDER BY c.tournament_id, c.matchup_id, c.status, v.verdict",
                chunk,
            )
            out.extend(MatchupTally(*r) for r in rows)
        return out

    def scoring_successes(self, attack_labels: Mapping[int, str]) -> Iterator[tuple[int, int, int, int]]:
        """The attack successes of some tournaments (tournament id -> its attack label):
        complete conversations whose stored verdict is that label, as (tournament id,
        matchup id, conversation id, position), ordered by tournament, matchup and
        conversation id. `position` is the conversation's 0-based place among its
        matchup's complete conversations (decided or not) in id order, so the matchup's
        success vector is rebuilt exactly without reading the other conversations into
        Python. Rows are streamed from the cursor."""
        for tid in sorted(attack_labels):
            yield from self.conn.execute(
                "SELECT tournament_id, matchup_id, id, position FROM ("
                " SELECT c.tournament_id, c.matchup_id, c.id, v.verdict,"
                "  ROW_NUMBER() OVER (PARTITION BY c.matchup_id ORDER BY c.id) - 1 AS position"
                " FROM conversations c LEFT JOIN verdicts v ON v.conversation_id = c.id"
                " WHERE c.tournament_id = ? AND c.status = 'complete'"
                ") WHERE verdict = ? ORDER BY matchup_id, id",
                (tid, attack_labels[tid]),
            )

    def technique_tallies(self, tournament_ids: Sequence[int]) -> list[TechniqueTally]:
        """Complete conversations per (tournament, attacker, defender, technique,
        converters, stored verdict): what the technique breakdown counts (one grouped
        query; attacker turns that named no technique are not counted)."""
        out: list[TechniqueTally] = []
        for chunk in _chunks(sorted(set(tournament_ids)), 500):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                "SELECT tournament_id, attacker, defender, technique, converters, verdict, COUNT(*) FROM ("
                " SELECT DISTINCT c.id, c.tournament_id, a.name AS attacker, d.name AS defender, t.technique,"
                "  COALESCE(t.converters, '') AS converters, v.verdict"
                " FROM conversations c JOIN matchups m ON m.id = c.matchup_id"
                " JOIN bots a ON a.id = m.attacker_id JOIN bots d ON d.id = m.defender_id"
                " JOIN turns t ON t.conversation_id = c.id AND t.role = 'attacker' AND t.technique IS NOT NULL"
                " LEFT JOIN verdicts v ON v.conversation_id = c.id"
                f" WHERE c.tournament_id IN ({marks}) AND c.status = 'complete')"
                " GROUP BY tournament_id, attacker, defender, technique, converters, verdict"
                " ORDER BY tournament_id, attacker, defender, technique, converters, verdict",
                chunk,
            )
            out.extend(TechniqueTally(*r) for r in rows)
        return out

    def scoring_rows(self, tournament_ids: Sequence[int]) -> list[ScoringRow]:
        """Every conversation of some tournaments with its matchup's bots and stored
        verdict, ordered by tournament, matchup and conversation id (one query).

        One Python object per conversation: the leaderboard reads `scoring_tallies` and
        `scoring_successes` instead; this stays for scripts, tests and benchmarks."""
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

    def save_utility_results(self, config: str, bot: str, role: str,
                             rows: Sequence[tuple[str, str, float, bool, bool, str]]) -> None:
        """Replace one bot's utility results under a config name, in one transaction.

        `rows`: (set name, item id, score 0-1, passed, refused, detail). Results of items
        no longer in the sets are dropped with the rest of the bot's old rows.
        """
        now = time.time()
        with self.transaction():
            self.conn.execute("DELETE FROM utility_results WHERE config = ? AND bot = ?", (config, bot))
            self.conn.executemany(
                "INSERT INTO utility_results (config, bot, role, set_name, item_id, score, passed, refused, detail,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(config, bot, role, s, i, float(sc), int(p), int(r), d, now) for s, i, sc, p, r, d in rows],
            )

    def utility_results(self, configs: Sequence[str] | None = None) -> list[UtilityResultRow]:
        """Stored utility results (all, or of some config names), by config, bot, set, item."""
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
        return [UtilityResultRow(r[3], r[4], r[5], bool(r[6]), bool(r[7]), r[8], config=r[0], bot=r[1], role=r[2],
                                 created_at=r[9]) for r in rows]


