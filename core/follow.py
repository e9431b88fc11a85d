"""Following a tournament in a store: the reading side of `arena-tui watch` (no UI here).

`TournamentFollower` runs in a thread worker: it polls the store (``PRAGMA data_version``),
reads only rows past the last rowid it saw and returns a `FollowDelta`. It never writes:
it opens the store read-only. A missing, deleted or replaced store is reported as a
`FollowDelta` with a `notice`, never an exception, and following picks up again when a
store (re)appears.

Two modes. Following another process (`live=False`), every count comes from the store:
turns and events past the last rowid, conversation statuses re-read only when the
tournament row changes (a resume resets statuses without events). Running here
(`live=True`), the orchestrator's reporter already sees every turn, finish and bot event,
so the follower reads only the history written before the run (up to `history_upto`),
then nothing but the tournament row and the conversation on screen: the run's counts
come from the reporter, and the watch does not compete with the run for the GIL.

The watch's model (`arena_tui.watch.model.WatchModel`) folds these deltas and the
reporter's events into what its panes show.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from core.evaluation.pipeline import static_results
from core.store import (
    BotRow,
    ConversationRow,
    EventRow,
    FindingRow,
    MatchupRow,
    Store,
    StoreError,
    TournamentRow,
    TurnRow,
)
from core.store.follow import ConversationStatus, TurnMeta
from core.tournament.orchestrator import log_dir_for

# Rows read per poll: a replay of a finished 50,000-turn run catches up in a few polls
# while one poll stays a few milliseconds.
ROWS_PER_POLL = 5000
# Bytes read from the end of a bot log for its last line: a line longer than this is cut.
LOG_TAIL_BYTES = 4096


@dataclass
class FollowDelta:
    """What changed in the store since the previous poll."""

    notice: str | None = None
    reset: bool = False
    tournament: TournamentRow | None = None
    bots: list[BotRow] | None = None
    matchups: list[MatchupRow] | None = None
    conversations: list[ConversationRow] | None = None
    statuses: list[ConversationStatus] | None = None
    turns: list[TurnMeta] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    static: dict[int, tuple[int, int]] | None = None
    watched_id: int | None = None
    watched_turns: list[TurnRow] | None = None
    watched_findings: list[FindingRow] | None = None
    watched_full: bool = False
    log_tails: dict[str, str] | None = None
    more: bool = False
    history_done: bool = False

    @property
    def empty(self) -> bool:
        """True when nothing changed at all."""
        return not (self.notice or self.reset or self.tournament or self.turns or self.events or self.static
                    or self.watched_turns or self.watched_findings is not None or self.log_tails or self.matchups
                    or self.statuses is not None or self.history_done)


def _last_line(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - LOG_TAIL_BYTES))
            data = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    lines = [line for line in data.splitlines() if line.strip()]
    return lines[-1] if lines else ""


class TournamentFollower:
    """Reads a store's changes for one tournament. Call `poll` from one thread only.

    `tournament_name` None follows the newest tournament in the store. `watched_id` (set
    from any thread) is the conversation whose turns the caller wants in full. With
    `live` (the run is in this process) the follower waits for `history_upto` (the turn
    and event rowids before the run) and reads counts only up to it. The UI thread bumps
    the `*_generation` counters to ask for a re-read at the next poll: the watched
    conversation from scratch (it restarted), its findings (a static pass ran), the bot
    log tails (a bot failed); counters, not flags, so a request is never lost to a race.
    """

    def __init__(self, store_path: str | Path, tournament_name: str | None = None, live: bool = False) -> None:
        self.store_path = Path(store_path)
        self.tournament_name = tournament_name
        self.live = live
        self.history_upto: tuple[int, int] | None = None
        self.watched_id: int | None = None
        self.watched_generation = 0
        self.findings_generation = 0
        self.logs_generation = 0
        self._store: Store | None = None
        self._identity: tuple[int, int] | None = None
        self._data_version: int | None = None
        self._tid: int | None = None
        self._tname = ""
        self._turn_rowid = 0
        self._event_rowid = 0
        self._scan_count = -1
        self._sent_watched: tuple[int, int] | None = None
        self._sent_findings = 0
        self._sent_logs = 0
        self._watched_turn_index = -1
        self._bots: list[str] = []
        self._notice: str | None = None
        self._history_done = False
        self._resync = True
        self._tournament_key: tuple[str, float | None] | None = None

    # --- opening ----------------------------------------------------------------------

    def close(self) -> None:
        """Close the read-only connection (idempotent)."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def _forget(self) -> None:
        self.close()
        self._identity = None
        self._data_version = None
        self._tid = None
        self._turn_rowid = self._event_rowid = 0
        self._scan_count = -1
        self._sent_watched = None
        self._watched_turn_index = -1
        self._history_done = False
        self._resync = True
        self._tournament_key = None

    def _file_identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.store_path)
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    def _say(self, notice: str) -> FollowDelta:
        """A delta carrying a notice, sent only when the notice changes."""
        if notice == self._notice:
            return FollowDelta()
        self._notice = notice
        return FollowDelta(notice=notice)

    # --- polling ----------------------------------------------------------------------

    def poll(self) -> FollowDelta:
        """Read what changed since the last poll (never raises for store problems)."""
        identity = self._file_identity()
        if identity is None:
            had = self._store is not None
            self._forget()
            delta = self._say(f"no arena store at {self.store_path} yet: waiting for a run to create it"
                              if not had else f"the store {self.store_path} was deleted: waiting for it to come back")
            delta.reset = had
            return delta
        reset = False
        if self._identity is not None and identity != self._identity:
            self._forget()
            reset = True
        if self._store is None:
            try:
                self._store = Store.open_readonly(self.store_path)
            except StoreError as exc:
                delta = self._say(f"{exc}: waiting")
                delta.reset = reset
                return delta
            self._identity = identity
        try:
            delta = self._read()
        except StoreError as exc:
            self._forget()
            delta = self._say(f"{exc}: waiting")
        except Exception as exc:  # sqlite3 errors: locked, replaced mid-read, corrupted
            self._forget()
            delta = self._say(f"cannot read {self.store_path} ({type(exc).__name__}: {exc}): retrying")
        delta.reset = delta.reset or reset
        return delta

    def _find_tournament(self, store: Store) -> TournamentRow | None:
        if self.tournament_name is not None:
            return store.tournament(self.tournament_name)
        tournaments = store.tournaments()
        return tournaments[-1] if tournaments else None

    def _read(self) -> FollowDelta:
        store = self._store
        assert store is not None
        if self.live and self.history_upto is None:
            return FollowDelta()  # the run has not said where its history ends yet
        version = store.data_version()
        watched = self.watched_id
        want = (watched, self.watched_generation) if watched is not None else None
        if (version == self._data_version and want == self._sent_watched and self._tid is not None
                and self.findings_generation == self._sent_findings and self.logs_generation == self._sent_logs):
            return FollowDelta()
        delta = FollowDelta()
        with store.read_snapshot():
            if self._tid is None:
                tournament = self._find_tournament(store)
                if tournament is None:
                    what = f"tournament {self.tournament_name!r}" if self.tournament_name else "a tournament"
                    return self._say(f"{self.store_path} holds no {what} yet: waiting for a run to start it")
                self._tid, self._tname = tournament.id, tournament.name
                bots = store.bots(tournament.id)
                self._bots = [b.name for b in bots]
                delta.bots = bots
                delta.conversations = store.conversations(tournament.id)
                delta.matchups = store.matchups(tournament.id)
            tid = self._tid
            delta.tournament = store.tournament(self._tname)
            if delta.tournament is None:
                raise StoreError(f"tournament {self._tname!r} is gone from {self.store_path}")
            key = (delta.tournament.status, delta.tournament.started_at)
            if key != self._tournament_key:
                # A (re)started run may have reset statuses without events: re-read them.
                self._tournament_key = key
                self._resync = True
            if not self._history_done:
                upto = self.history_upto or (None, None)
                delta.turns = store.tournament_turn_meta_after(tid, self._turn_rowid, ROWS_PER_POLL, upto[0])
                delta.events = store.tournament_events_after(tid, self._event_rowid, ROWS_PER_POLL, upto[1])
                delta.more = len(delta.turns) == ROWS_PER_POLL or len(delta.events) == ROWS_PER_POLL
                if delta.turns:
                    self._turn_rowid = delta.turns[-1].id
                if delta.events:
                    self._event_rowid = delta.events[-1].id
                if self.live and not delta.more:
                    self._history_done = delta.history_done = True
                    self._resync = True
            if self._resync and not delta.more and (delta.history_done if self.live else True):
                # Statuses of this snapshot, sent only once every event up to it was sent,
                # so the model applies them last and they are final. Running here, only
                # once: afterwards the reporter is ahead of the store's batched writes.
                self._resync = False
                delta.statuses = store.conversation_statuses(tid)
            scans_changed = False
            if not self.live:
                scans = store.scan_count(tid)
                scans_changed = scans != self._scan_count
                if scans_changed:
                    self._scan_count = scans
                    delta.static = static_results(store, delta.tournament)
            elif self.findings_generation != self._sent_findings:
                self._sent_findings = self.findings_generation
                scans_changed = True
            self._read_watched(store, delta, watched, want, scans_changed)
        if not delta.more:
            self._data_version = version
        if self._notice is not None:
            self._notice = None
            delta.notice = ""
        bot_trouble = any(e.kind.startswith("bot_") for e in delta.events) or self.logs_generation != self._sent_logs
        self._sent_logs = self.logs_generation
        if delta.bots or bot_trouble:
            delta.log_tails = self.log_tails(delta.tournament)
        return delta

    def _read_watched(self, store: Store, delta: FollowDelta, watched: int | None, want: tuple[int, int] | None,
                      scans_changed: bool) -> None:
        if watched is None:
            self._sent_watched = None
            return
        delta.watched_id = watched
        if want != self._sent_watched:
            self._sent_watched = want
            turns = store.turns(watched)
            delta.watched_turns = turns
            delta.watched_full = True
            delta.watched_findings = store.findings(watched)
            self._watched_turn_index = turns[-1].turn_index if turns else -1
            return
        if self.live:
            # Counts come from the reporter: look for new turns of this one conversation only.
            # (A restart here is reported by the reporter: the screen bumps `watched_generation`.)
            delta.watched_turns = store.conversation_turns_after(watched, self._watched_turn_index)
        elif any(e.kind == "started" and e.conversation_id == watched for e in delta.events):
            # It restarted (a resume): its turns are replayed under the same indices, reload it.
            delta.watched_turns = store.turns(watched)
            delta.watched_full = True
        elif any(t.conversation_id == watched for t in delta.turns):
            delta.watched_turns = store.conversation_turns_after(watched, self._watched_turn_index)
        if delta.watched_turns:
            self._watched_turn_index = delta.watched_turns[-1].turn_index
        if scans_changed:
            delta.watched_findings = store.findings(watched)

    def log_tails(self, tournament: TournamentRow | None) -> dict[str, str]:
        """The last non-empty line of each bot's log (``<store>.logs/<tournament>/<bot>.log``)."""
        if tournament is None:
            return {}
        folder = log_dir_for(self.store_path, tournament.name)
        return {name: _last_line(folder / f"{name}.log") for name in self._bots}
