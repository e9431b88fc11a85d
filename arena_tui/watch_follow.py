"""Following a tournament in a store: the reading side of `arena-tui watch`, with no Textual.

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

`WatchModel` lives on the UI side: it folds deltas and reporter events into what the
panes show (grid cells, conversation statuses, bot health, throughput), so the screen
only renders it.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.evaluation import static_results
from core.orchestrator import log_dir_for
from core.reporter import BotStats
from core.store import (
    ConversationRow,
    EventRow,
    FindingRow,
    Store,
    StoreError,
    TournamentRow,
    TurnRow,
)
from core.store.follow import TurnMeta

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
    bots: list[dict[str, Any]] | None = None
    matchups: list[dict[str, Any]] | None = None
    conversations: list[ConversationRow] | None = None
    statuses: list[tuple[int, str, str | None]] | None = None
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
                self._bots = [b["name"] for b in bots]
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


# --- the UI-side model -------------------------------------------------------------------

FINISHED = ("complete", "incomplete")


@dataclass
class ConversationState:
    """What the panes show of one conversation."""

    id: int
    matchup_id: int
    attacker: str
    defender: str
    idx: int
    status: str
    reason: str | None
    n_turns: int = 0
    last_activity: float = 0.0


# Bot health latencies are over this many recent replies per bot: current behaviour is
# what a health pane is for, and a long run must not sort an ever-growing list per redraw.
LATENCY_WINDOW = 1000


@dataclass
class BotHealth(BotStats):
    """Health of one bot as seen from the store: the run's `BotStats` (latencies over the
    last `LATENCY_WINDOW` replies) plus the last line of its log."""

    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))
    log_line: str = ""

    @property
    def timeouts(self) -> int:
        """Replies that missed the deadline."""
        return self.failures.get("timeout", 0)

    @property
    def crashes(self) -> int:
        """Every failure that is not a timeout: crashes, protocol errors, oversize replies."""
        return sum(n for kind, n in self.failures.items() if kind != "timeout")

    @property
    def failing(self) -> bool:
        """True when the bot has failed at least once or was given up."""
        return bool(self.failures or self.gave_up)


@dataclass
class CellState:
    """One matchup of the grid."""

    id: int
    attacker: str
    defender: str
    planned: int
    complete: int = 0
    incomplete: int = 0
    running: int = 0
    scanned: int = 0
    flagged: int = 0

    @property
    def done(self) -> int:
        """Conversations finished, complete or not."""
        return self.complete + self.incomplete

    @property
    def asr(self) -> float | None:
        """Live attack-success rate from the static stage over scanned complete conversations."""
        return self.flagged / self.scanned * 100 if self.scanned else None


# A running tournament with no write for this many turn timeouts has lost its runner: a
# live run writes at least a timeout event per timeout, and bot restarts are bounded.
STALE_TIMEOUTS = 3
# ... and never sooner than this, so a run with a tiny timeout is not called dead between batches.
STALE_MIN_S = 15.0
# The turn timeout assumed for a store that does not record one (the config default).
DEFAULT_TIMEOUT_S = 45.0

# How far back the throughput is measured: long enough to smooth batching, short enough
# to follow a slowdown.
RATE_WINDOW_S = 10.0


class WatchModel:
    """Everything the watch panes show, folded from `FollowDelta`s and reporter events (UI thread only).

    Grid counts follow conversation statuses as they change (no per-matchup query), so a
    status set twice from two sources is counted once. What the panes ask for on every
    redraw is indexed as it is folded in, never scanned: cells by (attacker, defender),
    conversations by matchup, and the turns of finished conversations as running totals.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.clear()

    def clear(self) -> None:
        """Forget everything (the store was replaced or deleted)."""
        self.tournament: TournamentRow | None = None
        self.cells: dict[int, CellState] = {}
        self._cells_by_pair: dict[tuple[str, str], CellState] = {}
        self._by_matchup: dict[int, list[ConversationState]] = {}
        # Finished conversations and their turns, kept as statuses and turn counts change.
        self._n_finished = 0
        self._finished_turns = 0
        self.attackers: list[str] = []
        self.defenders: list[str] = []
        self.conversations: dict[int, ConversationState] = {}
        self.bots: dict[str, BotHealth] = {}
        self.replies = 0
        self.newest_conversation: int | None = None
        # Newest stored timestamp seen (turn, event or run start): how long the runner has been silent.
        self.last_write_at: float | None = None
        self._rate_samples: deque[tuple[float, int]] = deque()

    def apply(self, delta: FollowDelta) -> None:
        """Fold one delta in."""
        if delta.reset:
            self.clear()
        if delta.tournament is not None:
            self.tournament = delta.tournament
            self._wrote(delta.tournament.started_at)
        if delta.bots is not None:
            self.bots = {b["name"]: BotHealth(b["name"], b["side"], b["version"]) for b in delta.bots}
            self.attackers = [b["name"] for b in delta.bots if b["side"] == "attacker"]
            self.defenders = [b["name"] for b in delta.bots if b["side"] == "defender"]
        if delta.matchups is not None:
            for m in delta.matchups:
                if m["id"] not in self.cells:
                    cell = self.cells[m["id"]] = CellState(m["id"], m["attacker"], m["defender"], m["planned"])
                    self._cells_by_pair[(cell.attacker, cell.defender)] = cell
        if delta.conversations is not None:
            # Turns are counted as they are read (the follower replays them from the start).
            added: set[int] = set()
            for c in delta.conversations:
                conv = self.conversations.get(c.id)
                if conv is None:
                    conv = self.conversations[c.id] = ConversationState(
                        c.id, c.matchup_id, c.attacker, c.defender, c.idx, "pending", None)
                    self._by_matchup.setdefault(c.matchup_id, []).append(conv)
                    added.add(c.matchup_id)
                self._set_status(conv, c.status, c.reason)
            for matchup_id in added:
                self._by_matchup[matchup_id].sort(key=lambda conv: conv.idx)
        if delta.static is not None:
            self.apply_static(delta.static)
        for event in delta.events:
            self._event(event)
        for turn in delta.turns:
            self._turn(turn.conversation_id, turn.turn_index, turn.role, turn.latency, turn.created_at)
        if delta.statuses is not None:
            for cid, status, reason in delta.statuses:
                conv = self.conversations.get(cid)
                if conv is not None:
                    self._set_status(conv, status, reason)
        if delta.log_tails:
            for name, line in delta.log_tails.items():
                if name in self.bots:
                    self.bots[name].log_line = line

    def apply_static(self, static: dict[int, tuple[int, int]]) -> None:
        """Static-stage results per matchup id: (scanned, attack successes)."""
        for mid, (scanned, flagged) in static.items():
            if mid in self.cells:
                self.cells[mid].scanned, self.cells[mid].flagged = scanned, flagged

    def apply_live(self, events: list[tuple], watched: int | None = None) -> tuple[bool, bool]:
        """Fold the in-process reporter's events (see `TuiReporter`). Returns (a bot failed,
        conversation `watched` was started again: its transcript must be reloaded).

        A run here reports tens of thousands of events a second, so this loop is the
        watch's hottest code: the batch gets one timestamp (now: the newest conversation is
        the last one started or given a turn), and a turn costs two dict lookups."""
        at = self.clock()
        bot_trouble = restarted = False
        conversations = self.conversations
        last: ConversationState | None = None
        for event in events:
            kind = event[0]
            conv = conversations.get(event[1]) if kind != "bot" else None
            if kind == "turn":
                if conv is not None:
                    self._count_turn(conv, event[2], event[3], event[4])
            elif kind == "started":
                if conv is not None:
                    self._set_status(conv, "running", None)
                if event[1] == watched:
                    restarted = True
            elif kind == "finished":
                if conv is not None:
                    self._set_status(conv, event[2], event[3])
                    conv.last_activity = at
                continue  # the newest activity is a start or a turn
            else:
                self._bot_event(*event[1:])
                bot_trouble = True
            if conv is not None:
                conv.last_activity = at
                last = conv
        if last is not None:
            self.newest_conversation = last.id
        self._wrote(at)
        return bot_trouble, restarted

    def sample(self) -> None:
        """Note the reply count now, for the throughput (called on a timer)."""
        now = self.clock()
        self._rate_samples.append((now, self.replies))
        while len(self._rate_samples) > 2 and now - self._rate_samples[1][0] > RATE_WINDOW_S:
            self._rate_samples.popleft()

    def _wrote(self, at: float | None) -> None:
        if at is not None and (self.last_write_at is None or at > self.last_write_at):
            self.last_write_at = at

    def _set_status(self, conv: ConversationState, status: str, reason: str | None) -> None:
        conv.reason = reason
        if status == conv.status:
            return
        cell = self.cells.get(conv.matchup_id)
        if cell is not None:
            for name, step in ((conv.status, -1), (status, 1)):
                if name in ("complete", "incomplete", "running"):
                    setattr(cell, name, getattr(cell, name) + step)
        was_finished, finished = conv.status in FINISHED, status in FINISHED
        if was_finished != finished:
            step = 1 if finished else -1
            self._n_finished += step
            self._finished_turns += step * conv.n_turns
        conv.status = status

    def _event(self, event: EventRow) -> None:
        self._wrote(event.at)
        if event.kind.startswith("bot_"):
            self._bot_event(event.bot, event.kind[4:], event.detail)
        elif event.kind == "started":
            self._started(event.conversation_id, event.at)
        elif event.kind in ("complete", "incomplete"):
            self._finished(event.conversation_id, event.kind, event.detail, event.at)

    def _bot_event(self, name: str | None, kind: str, detail: str | None) -> None:
        bot = self.bots.get(name or "")
        if bot is None:
            return
        if kind == "restart":
            bot.restarts += 1
        elif kind == "gave_up":
            bot.gave_up = detail or "given up"
            bot.last_error = detail or ""
        else:
            bot.failures[kind] = bot.failures.get(kind, 0) + 1
            bot.last_error = detail or kind

    def _started(self, conversation_id: int | None, at: float) -> None:
        conv = self.conversations.get(conversation_id or -1)
        if conv is None:
            return
        # A restarted conversation (resume) replays its turns under the same indices,
        # so its turn count is kept: it only grows past what was seen.
        self._set_status(conv, "running", None)
        conv.last_activity = at
        self._touch(conv)

    def _finished(self, conversation_id: int | None, status: str, reason: str | None, at: float) -> None:
        conv = self.conversations.get(conversation_id or -1)
        if conv is None:
            return
        self._set_status(conv, status, reason)
        conv.last_activity = at

    def _turn(self, conversation_id: int, turn_index: int, role: str, latency: float | None, at: float) -> None:
        self._wrote(at)
        conv = self.conversations.get(conversation_id)
        if conv is None:
            return
        self._count_turn(conv, turn_index, role, latency)
        conv.last_activity = at
        self._touch(conv)

    def _count_turn(self, conv: ConversationState, turn_index: int, role: str, latency: float | None) -> None:
        if turn_index + 1 > conv.n_turns:
            # Replies = distinct turns stored: a resumed conversation's redone turns count once.
            grown = turn_index + 1 - conv.n_turns
            self.replies += grown
            conv.n_turns = turn_index + 1
            if conv.status in FINISHED:  # following: a batch's finish may come before its turns
                self._finished_turns += grown
        bot = self.bots.get(conv.attacker if role == "attacker" else conv.defender)
        if bot is not None:
            bot.replies += 1
            if latency is not None:
                bot.latencies.append(latency)

    def _touch(self, conv: ConversationState) -> None:
        newest = self.conversations.get(self.newest_conversation or -1)
        if newest is None or conv.last_activity >= newest.last_activity:
            self.newest_conversation = conv.id

    def stale_seconds(self, now: float) -> float | None:
        """Seconds without a write while the stored tournament says it is running, past
        `STALE_TIMEOUTS` × its turn timeout (a runner killed with kill -9); else None."""
        t = self.tournament
        if t is None or t.status != "running" or self.last_write_at is None:
            return None
        timeout = float(t.settings.get("timeout") or DEFAULT_TIMEOUT_S)
        silent = now - self.last_write_at
        return silent if silent > max(STALE_MIN_S, STALE_TIMEOUTS * timeout) else None

    # --- derived numbers ----------------------------------------------------------------

    @property
    def planned(self) -> int:
        """Conversations planned in the tournament."""
        return sum(c.planned for c in self.cells.values())

    @property
    def done(self) -> int:
        """Conversations finished (complete or incomplete)."""
        return sum(c.done for c in self.cells.values())

    @property
    def incomplete(self) -> int:
        """Conversations that failed."""
        return sum(c.incomplete for c in self.cells.values())

    def cell(self, attacker: str, defender: str) -> CellState | None:
        """The grid cell of a matchup, by bot names."""
        return self._cells_by_pair.get((attacker, defender))

    def replies_per_second(self) -> float | None:
        """Throughput: live over the last few seconds, or the run's average once it ended."""
        t = self.tournament
        if t is not None and t.status in ("finished", "stopped") and t.started_at and t.finished_at:
            span = t.finished_at - t.started_at
            return self.replies / span if span > 0 else None
        if len(self._rate_samples) < 2:
            return None
        (t0, n0), (t1, n1) = self._rate_samples[0], self._rate_samples[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else None

    def conversations_per_second(self) -> float | None:
        """Finished conversations per second, from the reply rate and the turns per conversation."""
        rate = self.replies_per_second()
        if not rate or not self._n_finished:
            return None
        mean_turns = self._finished_turns / self._n_finished
        return rate / mean_turns if mean_turns else None

    def eta_seconds(self) -> float | None:
        """Seconds until every planned conversation is done, at the current pace."""
        remaining = self.planned - self.done
        if remaining <= 0:
            return 0.0
        pace = self.conversations_per_second()
        return remaining / pace if pace else None

    def matchup_conversations(self, matchup_id: int) -> list[ConversationState]:
        """The conversations of one matchup, by index (the model's own list: do not modify it)."""
        return self._by_matchup.get(matchup_id, [])
