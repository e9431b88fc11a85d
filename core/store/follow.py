"""Store methods of followers of a running tournament (the watch screen).

A follower polls ``PRAGMA data_version`` and, when it moved, reads only the rows past the
last rowid it saw, inside one read snapshot (`Store.read_snapshot`) so turns and events
agree with each other.
Turn contents are not read here: the follower asks for the turns of the one conversation
on screen (`Store.turns`), so following a 50,000-turn run moves little data.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

# Upper bound for "rows up to" when there is none (SQLite's largest rowid).
_NO_LIMIT = 2**63 - 1


@dataclass(frozen=True)
class TurnMeta:
    """A stored turn without its content: enough for counts, latencies and activity."""

    id: int
    conversation_id: int
    turn_index: int
    role: str
    latency: float | None
    created_at: float
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass(frozen=True)
class ConversationStatus:
    """Where a conversation stands: its status and, once incomplete, the reason."""

    id: int
    status: str
    reason: str | None


class _FollowMixin:
    """Store methods of followers of a running tournament (the watch screen)."""

    conn: sqlite3.Connection

    def tournament_turn_meta_after(self, tournament_id: int, rowid: int, limit: int = 5000,
                                   upto: int | None = None) -> list[TurnMeta]:
        """Turns of one tournament stored after `rowid` (and at most `upto`), oldest first, without content."""
        rows = self.conn.execute(
            "SELECT t.id, t.conversation_id, t.turn_index, t.role, t.latency, t.created_at, t.prompt_tokens,"
            " t.completion_tokens FROM turns t"
            " JOIN conversations c ON c.id = t.conversation_id"
            " WHERE t.id > ? AND t.id <= ? AND c.tournament_id = ? ORDER BY t.id LIMIT ?",
            (rowid, _NO_LIMIT if upto is None else upto, tournament_id, limit),
        ).fetchall()
        return [TurnMeta(*r) for r in rows]

    def tournament_events_after(self, tournament_id: int, rowid: int, limit: int = 5000,
                                upto: int | None = None) -> list:
        """Events of one tournament logged after `rowid` (and at most `upto`), oldest first (`EventRow`s)."""
        from core.store import EventRow

        rows = self.conn.execute(
            "SELECT id, tournament_id, kind, conversation_id, bot, detail, at FROM events"
            " WHERE id > ? AND id <= ? AND tournament_id = ? ORDER BY id LIMIT ?",
            (rowid, _NO_LIMIT if upto is None else upto, tournament_id, limit),
        ).fetchall()
        return [EventRow(*r) for r in rows]

    def last_rowids(self) -> tuple[int, int]:
        """The newest turn and event rowids of the whole store (0 when empty): a run's history
        boundary, so a follower can tell rows written before a run from rows of the run."""
        turn = self.conn.execute("SELECT MAX(id) FROM turns").fetchone()[0]
        event = self.conn.execute("SELECT MAX(id) FROM events").fetchone()[0]
        return (turn or 0, event or 0)

    def conversation_turns_after(self, conversation_id: int, turn_index: int) -> list:
        """A conversation's turns past `turn_index`, in order (`TurnRow`s)."""
        from core.store import TurnRow

        rows = self.conn.execute(
            "SELECT id, conversation_id, turn_index, role, content, latency, created_at, prompt_tokens,"
            " completion_tokens, finish_reason, technique, converters FROM turns"
            " WHERE conversation_id = ? AND turn_index > ? ORDER BY turn_index",
            (conversation_id, turn_index),
        ).fetchall()
        return [TurnRow(*r) for r in rows]

    def conversation_statuses(self, tournament_id: int) -> list[ConversationStatus]:
        """The status of every conversation of a tournament."""
        rows = self.conn.execute("SELECT id, status, reason FROM conversations WHERE tournament_id = ?", (tournament_id,))
        return [ConversationStatus(*r) for r in rows]

    def scan_count(self, tournament_id: int) -> int:
        """How many conversations of the tournament the static stage has scanned."""
        return self.conn.execute("SELECT COUNT(*) FROM scans WHERE tournament_id = ?", (tournament_id,)).fetchone()[0]

    def scanned_per_matchup(self, tournament_id: int) -> dict[int, int]:
        """Complete conversations scanned by the static stage, per matchup id."""
        return dict(
            self.conn.execute(
                "SELECT c.matchup_id, COUNT(*) FROM scans s JOIN conversations c ON c.id = s.conversation_id"
                " WHERE s.tournament_id = ? AND c.status = 'complete' GROUP BY c.matchup_id",
                (tournament_id,),
            ).fetchall()
        )

    def verdict_fingerprint(self, tournament_ids: Sequence[int]) -> tuple:
        """A cheap summary of the tournaments' stored verdicts (count and id sum per
        verdict): it changes whenever a verdict does, so standings can be kept until then."""
        if not tournament_ids:
            return ()
        marks = ",".join("?" * len(tournament_ids))
        return tuple(self.conn.execute(
            f"SELECT verdict, COUNT(*), TOTAL(conversation_id) FROM verdicts WHERE tournament_id IN ({marks})"
            " GROUP BY verdict ORDER BY verdict",
            list(tournament_ids),
        ).fetchall())
