"""The watch's model: folds the follower's deltas (`core.follow.FollowDelta`) and the
orchestrator's reporter events into what the panes show (grid cells, conversation
statuses, bot health, throughput), so the screen only renders it. No Textual here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from core.follow import FollowDelta
from core.store import EventRow, TournamentRow
from core.tournament.reporter import BotStats

FINISHED = ("complete", "incomplete")


# --- the in-process reporter's events (`arena_tui.watch.reporter.TuiReporter` queues them) ---


@dataclass(frozen=True, slots=True)
class LiveStarted:
    """A conversation started (or started again)."""

    conversation_id: int


@dataclass(frozen=True, slots=True)
class LiveTurn:
    """A conversation got a turn (its content is not kept: the store has it)."""

    conversation_id: int
    turn_index: int
    role: str
    latency: float


@dataclass(frozen=True, slots=True)
class LiveFinished:
    """A conversation ended: complete, or incomplete with a reason."""

    conversation_id: int
    status: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class LiveBotEvent:
    """A bot failed (`kind`: the failure reason), restarted or was given up."""

    bot: str
    kind: str
    detail: str


@dataclass(frozen=True, slots=True)
class LiveUsage:
    """The tokens a bot's turn cost (LLM usage), for bot health."""

    bot: str
    prompt_tokens: int
    completion_tokens: int


LiveEvent = LiveStarted | LiveTurn | LiveFinished | LiveBotEvent | LiveUsage


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
            self.bots = {b.name: BotHealth(b.name, b.side, b.version) for b in delta.bots}
            self.attackers = [b.name for b in delta.bots if b.side == "attacker"]
            self.defenders = [b.name for b in delta.bots if b.side == "defender"]
        if delta.matchups is not None:
            for m in delta.matchups:
                if m.id not in self.cells:
                    cell = self.cells[m.id] = CellState(m.id, m.attacker, m.defender, m.planned)
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
            if turn.prompt_tokens is not None or turn.completion_tokens is not None:
                self._turn_tokens(turn.conversation_id, turn.role, turn.prompt_tokens, turn.completion_tokens)
        if delta.statuses is not None:
            for row in delta.statuses:
                conv = self.conversations.get(row.id)
                if conv is not None:
                    self._set_status(conv, row.status, row.reason)
        if delta.log_tails:
            for name, line in delta.log_tails.items():
                if name in self.bots:
                    self.bots[name].log_line = line

    def apply_static(self, static: dict[int, tuple[int, int]]) -> None:
        """Static-stage results per matchup id: (scanned, attack successes)."""
        for mid, (scanned, flagged) in static.items():
            if mid in self.cells:
                self.cells[mid].scanned, self.cells[mid].flagged = scanned, flagged

    def apply_live(self, events: list[LiveEvent], watched: int | None = None) -> tuple[bool, bool]:
        """Fold queued reporter events (see `TuiReporter`). Returns (a bot failed,
        conversation `watched` was started again: its transcript must be reloaded).

        The reporter queues events only until the follower has read the history; then it
        calls the `live_*` methods itself, one per event, with no event object in between
        (a run here reports tens of thousands of events a second: the queued objects were
        the watch's largest source of garbage-collector work)."""
        at = self.clock()
        bot_trouble = restarted = False
        for event in events:
            kind = type(event)
            if kind is LiveTurn:
                self.live_turn(event.conversation_id, event.turn_index, event.role, event.latency, at)
            elif kind is LiveStarted:
                self.live_started(event.conversation_id, at)
                restarted = restarted or event.conversation_id == watched
            elif kind is LiveFinished:
                self.live_finished(event.conversation_id, event.status, event.reason, at)
            elif kind is LiveBotEvent:
                self._bot_event(event.bot, event.kind, event.detail)
                bot_trouble = True
            else:  # LiveUsage
                self.live_usage(event.bot, event.prompt_tokens, event.completion_tokens)
        self._wrote(at)
        return bot_trouble, restarted

    # The in-process run's events, one call each (the reporter's hot path: a turn costs
    # two dict lookups). The newest activity is the last conversation started or given a turn.

    def live_turn(self, conversation_id: int, turn_index: int, role: str, latency: float, at: float) -> None:
        """A conversation got a turn (counted once per index)."""
        conv = self.conversations.get(conversation_id)
        if conv is not None:
            self._count_turn(conv, turn_index, role, latency)
            conv.last_activity = at
            self.newest_conversation = conversation_id

    def live_started(self, conversation_id: int, at: float) -> None:
        """A conversation started (or started again)."""
        conv = self.conversations.get(conversation_id)
        if conv is not None:
            self._set_status(conv, "running", None)
            conv.last_activity = at
            self.newest_conversation = conversation_id

    def live_finished(self, conversation_id: int, status: str, reason: str | None, at: float) -> None:
        """A conversation ended (not the newest activity: that is a start or a turn)."""
        conv = self.conversations.get(conversation_id)
        if conv is not None:
            self._set_status(conv, status, reason)
            conv.last_activity = at

    def live_bot_event(self, bot: str, kind: str, detail: str) -> None:
        """A bot failed (`kind`: the failure reason), restarted, retried or was given up."""
        self._bot_event(bot, kind, detail)

    def live_usage(self, bot: str, prompt_tokens: int, completion_tokens: int) -> None:
        """The tokens a bot's turn cost."""
        health = self.bots.get(bot)
        if health is not None:
            health.count_tokens(prompt_tokens, completion_tokens)

    def live_wrote(self, at: float) -> None:
        """The run reported something at `at` (the screen notes it once per redraw)."""
        self._wrote(at)

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
        elif kind == "retry":
            bot.retries += 1
        elif kind == "budget_spent":
            bot.last_error = detail or kind
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

    def _turn_tokens(self, conversation_id: int, role: str, prompt: int | None, completion: int | None) -> None:
        conv = self.conversations.get(conversation_id)
        if conv is not None:
            bot = self.bots.get(conv.attacker if role == "attacker" else conv.defender)
            if bot is not None:
                bot.count_tokens(prompt, completion)

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
        timeout = t.settings.timeout or DEFAULT_TIMEOUT_S
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
