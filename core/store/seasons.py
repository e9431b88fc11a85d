"""Store methods and tables of seasons: tournaments grouped into rounds, in order.

A season is a name and an ordered list of rounds; each round is a tournament of the
store (practice or official: the tournament's own `kind`). A tournament may belong to
several seasons, at most once to each. Rounds are appended, never reordered: the
position is the order the season was played in.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from core.store._common import StoreError, _chunks, _Transaction

SEASONS_SCHEMA = """
CREATE TABLE IF NOT EXISTS seasons (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS season_rounds (
    season_id INTEGER NOT NULL REFERENCES seasons(id),
    tournament_id INTEGER NOT NULL REFERENCES tournaments(id),
    position INTEGER NOT NULL,
    added_at REAL NOT NULL,
    PRIMARY KEY (season_id, tournament_id),
    UNIQUE (season_id, position)
);
"""


@dataclass(frozen=True)
class SeasonRow:
    """A season and how many rounds it has."""

    id: int
    name: str
    created_at: float
    rounds: int


@dataclass(frozen=True)
class SeasonRound:
    """One round of a season: its place (from 1) and its tournament."""

    position: int
    tournament_id: int
    tournament: str
    kind: str


@dataclass(frozen=True)
class LatencyRow:
    """One bot turn's response time, with the round and the bot that answered."""

    tournament_id: int
    side: str
    bot: str
    latency: float


class _SeasonsMixin:
    """Store methods of seasons and of the season view's per-bot latencies."""

    conn: sqlite3.Connection

    def transaction(self) -> _Transaction: ...  # provided by Store

    def seasons(self) -> list[SeasonRow]:
        """Every season, by name."""
        rows = self.conn.execute(
            "SELECT s.id, s.name, s.created_at, COUNT(r.tournament_id) FROM seasons s"
            " LEFT JOIN season_rounds r ON r.season_id = s.id GROUP BY s.id ORDER BY s.name"
        )
        return [SeasonRow(*r) for r in rows]

    def season(self, name: str) -> SeasonRow | None:
        """The season of that name, or None."""
        return next((s for s in self.seasons() if s.name == name), None)

    def season_rounds(self, season_id: int) -> list[SeasonRound]:
        """A season's rounds in order."""
        rows = self.conn.execute(
            "SELECT r.position, t.id, t.name, t.kind FROM season_rounds r JOIN tournaments t ON t.id = r.tournament_id"
            " WHERE r.season_id = ? ORDER BY r.position",
            (season_id,),
        )
        return [SeasonRound(*r) for r in rows]

    def add_season_rounds(self, name: str, tournament_ids: Sequence[int]) -> SeasonRow:
        """Append tournaments as the next rounds of a season (created if new), in one
        transaction. Raises StoreError, writing nothing, if one is already in it, is
        named twice, or does not exist."""
        if len(set(tournament_ids)) != len(tournament_ids):
            raise StoreError("a tournament is named twice")
        now = time.time()
        with self.transaction():
            known = {r[0] for r in self.conn.execute("SELECT id FROM tournaments")}
            for tid in tournament_ids:
                if tid not in known:
                    raise StoreError(f"no tournament with id {tid}")
            self.conn.execute("INSERT OR IGNORE INTO seasons (name, created_at) VALUES (?, ?)", (name, now))
            season_id = self.conn.execute("SELECT id FROM seasons WHERE name = ?", (name,)).fetchone()[0]
            present = {r[0]: r[1] for r in self.conn.execute(
                "SELECT r.tournament_id, t.name FROM season_rounds r JOIN tournaments t ON t.id = r.tournament_id"
                " WHERE r.season_id = ?", (season_id,))}
            for tid in tournament_ids:
                if tid in present:
                    raise StoreError(f"tournament {present[tid]!r} is already a round of season {name!r}")
            last = self.conn.execute("SELECT COALESCE(MAX(position), 0) FROM season_rounds WHERE season_id = ?",
                                     (season_id,)).fetchone()[0]
            self.conn.executemany(
                "INSERT INTO season_rounds (season_id, tournament_id, position, added_at) VALUES (?, ?, ?, ?)",
                [(season_id, tid, last + k, now) for k, tid in enumerate(tournament_ids, start=1)],
            )
        found = self.season(name)
        assert found is not None
        return found

    def bot_latencies(self, tournament_ids: Sequence[int]) -> Iterator[LatencyRow]:
        """Every timed bot turn of some tournaments: who answered (the attacker on its
        turns, the defender on its) and how long it took, streamed from the cursor."""
        for chunk in _chunks(sorted(set(tournament_ids)), 500):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                "SELECT c.tournament_id, t.role, CASE t.role WHEN 'attacker' THEN a.name ELSE d.name END, t.latency"
                " FROM turns t JOIN conversations c ON c.id = t.conversation_id"
                " JOIN matchups m ON m.id = c.matchup_id JOIN bots a ON a.id = m.attacker_id"
                " JOIN bots d ON d.id = m.defender_id"
                f" WHERE c.tournament_id IN ({marks}) AND t.latency IS NOT NULL",
                chunk,
            )
            for row in rows:
                yield LatencyRow(*row)
