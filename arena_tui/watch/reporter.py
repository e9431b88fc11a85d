"""The reporter that bridges the orchestrator to the watch screen.

One implementation of `core.tournament.reporter.Reporter` (the headless progress bar is another).
The orchestrator calls it on the event loop the app runs on, for every turn, finish and
bot event, before the store has them (writes are batched). It does the least it can
per call: it appends a small frozen record (`arena_tui.watch.model.LiveEvent`) to
`pending`, which the screen drains on its redraw timer (same thread, so no lock) and
folds into its model; so a run here takes its counts, progress and bot health from here
and the store is read only for the conversation on screen. It posts messages only for what needs an immediate reaction:
the run's start, partial replies of the watched conversation and the end of one of its
turns.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.message import Message

from arena_tui.watch.messages import PartialReply, RunStarted, TurnStored
from arena_tui.watch.model import (
    LiveBotEvent,
    LiveEvent,
    LiveFinished,
    LiveStarted,
    LiveTurn,
    LiveUsage,
)
from core.tournament.reporter import ConversationRef, NullReporter, TournamentInfo


class TuiReporter(NullReporter):
    """Posts watch messages to `post` (a screen's or app's `post_message`) and queues run events.

    `pending` holds the run's events, oldest first (`LiveStarted`, `LiveTurn`,
    `LiveFinished`, `LiveBotEvent`); the screen stamps each batch with the time it folds it.
    """

    def __init__(self, post: Callable[[Message], object]) -> None:
        self.post = post
        self.pending: list[LiveEvent] = []
        # Conversation whose partial replies are shown; others are dropped here, cheaply.
        self.watched_id: int | None = None

    def take(self) -> list[LiveEvent]:
        """The events queued since the last call, oldest first."""
        events, self.pending = self.pending, []
        return events

    def tournament_started(self, info: TournamentInfo) -> None:
        """Tell the screen which tournament is running."""
        self.post(RunStarted(info))

    def conversation_started(self, conv: ConversationRef) -> None:
        """Queue the start (or restart) of a conversation."""
        self.pending.append(LiveStarted(conv.id))

    def turn(self, conv: ConversationRef, turn_index: int, role: str, content: str, latency: float) -> None:
        """Queue the turn; end the partial of the watched conversation."""
        self.pending.append(LiveTurn(conv.id, turn_index, role, latency))
        if conv.id == self.watched_id:
            self.post(TurnStored(conv.id, turn_index))

    def conversation_finished(self, conv: ConversationRef, status: str, reason: str | None, detail: str | None) -> None:
        """Queue the end of a conversation."""
        self.pending.append(LiveFinished(conv.id, status, reason))

    def bot_event(self, bot: str, kind: str, detail: str) -> None:
        """Queue a bot failure, restart, retry or give-up."""
        self.pending.append(LiveBotEvent(bot, kind, detail))

    def usage(self, conv: ConversationRef, turn_index: int, role: str, prompt_tokens: int | None,
              completion_tokens: int | None) -> None:
        """Queue the tokens a turn cost (bot health counts them)."""
        self.pending.append(LiveUsage(conv.attacker if role == "attacker" else conv.defender,
                                      prompt_tokens or 0, completion_tokens or 0))

    def partial(self, conv: ConversationRef, turn_index: int, content: str) -> None:
        """Forward a partial reply of the watched conversation."""
        if conv.id == self.watched_id:
            self.post(PartialReply(conv.id, turn_index, content))
