"""The reporter interface the engine talks to while it runs a tournament.

The engine owns the interface; displays implement it. The headless CLI prints a progress
bar and a summary table (arena_tui/cli/headless.py); the TUI updates its screens. Every
method is called on the event loop that runs the tournament and must return quickly.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class ConversationRef:
    """Which conversation an event is about."""

    id: int
    attacker: str
    defender: str
    idx: int
    seed: int


@dataclass(frozen=True)
class TournamentInfo:
    """Sent once when a run starts."""

    id: int
    name: str
    kind: str
    attackers: tuple[str, ...]
    defenders: tuple[str, ...]
    planned: int
    already_done: int
    to_play: int
    resumed: bool


@dataclass
class BotStats:
    """Health of one bot during a run."""

    name: str
    side: str
    version: str | None = None
    replies: int = 0
    latencies: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    restarts: int = 0
    gave_up: str | None = None
    last_error: str = ""
    retries: int = 0
    # Tokens the bot reported (LLM usage); replies that reported none add nothing.
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def tokens(self) -> int:
        """Prompt plus completion tokens reported so far."""
        return self.prompt_tokens + self.completion_tokens

    def count_tokens(self, prompt: int | None, completion: int | None) -> None:
        """Add one reply's usage."""
        self.prompt_tokens += prompt or 0
        self.completion_tokens += completion or 0

    def latency_quantile(self, q: float) -> float | None:
        """The q-quantile of reply latency in seconds, or None before any reply: the
        median for q = 0.5, otherwise the nearest rank."""
        if not self.latencies:
            return None
        if q == 0.5:
            return statistics.median(self.latencies)
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class RunSummary:
    """What a run did; returned by `run_tournament` and sent to the reporter at the end."""

    tournament_id: int
    name: str
    planned: int
    complete: int
    incomplete: int
    pending: int
    incomplete_reasons: dict[str, int]
    played_now: int
    replies: int
    elapsed: float
    stopped: bool
    bots: dict[str, BotStats]
    # Bots whose token budget was spent: their conversations not started stay pending.
    budget_spent: tuple[str, ...] = ()
    # CPU seconds the store writes took (in the store writer's thread), of this process's.
    store_cpu: float = 0.0

    @property
    def replies_per_second(self) -> float:
        """Bot replies per second over this run."""
        return self.replies / self.elapsed if self.elapsed > 0 else 0.0


class Reporter(Protocol):
    """What the orchestrator tells a display while it runs."""

    def tournament_started(self, info: TournamentInfo) -> None: ...

    def conversation_started(self, conv: ConversationRef) -> None: ...

    def turn(self, conv: ConversationRef, turn_index: int, role: str, content: str, latency: float) -> None: ...

    def partial(self, conv: ConversationRef, turn_index: int, content: str) -> None: ...

    def usage(self, conv: ConversationRef, turn_index: int, role: str, prompt_tokens: int | None,
              completion_tokens: int | None) -> None: ...

    def conversation_finished(self, conv: ConversationRef, status: str, reason: str | None, detail: str | None) -> None: ...

    def bot_event(self, bot: str, kind: str, detail: str) -> None: ...

    def tournament_finished(self, summary: RunSummary) -> None: ...


class NullReporter:
    """A reporter that ignores everything; subclass it and override what you need."""

    def tournament_started(self, info: TournamentInfo) -> None:
        """A run is starting."""

    def conversation_started(self, conv: ConversationRef) -> None:
        """A conversation is starting (or restarting)."""

    def turn(self, conv: ConversationRef, turn_index: int, role: str, content: str, latency: float) -> None:
        """A turn was produced (it is queued for the store)."""

    def partial(self, conv: ConversationRef, turn_index: int, content: str) -> None:
        """A bot streamed part of a reply (not stored)."""

    def usage(self, conv: ConversationRef, turn_index: int, role: str, prompt_tokens: int | None,
              completion_tokens: int | None) -> None:
        """The turn just reported (`turn`) cost these tokens, as its bot said (LLM usage);
        not called for replies that report none."""

    def conversation_finished(self, conv: ConversationRef, status: str, reason: str | None, detail: str | None) -> None:
        """A conversation ended: complete, or incomplete with a reason."""

    def bot_event(self, bot: str, kind: str, detail: str) -> None:
        """A bot failed, restarted or was given up."""

    def tournament_finished(self, summary: RunSummary) -> None:
        """The run ended (finished or stopped)."""
