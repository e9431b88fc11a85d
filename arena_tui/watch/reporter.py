"""The reporter that bridges the orchestrator to the watch screen.

One implementation of `core.tournament.reporter.Reporter` (the headless progress bar is another).
The orchestrator calls it on the event loop the app runs on, for every turn, finish and
bot event, before the store has them (writes are batched). It does the least it can
per call. Until the screen has read the store's history (`attach` not yet called), it
appends a small frozen record (`arena_tui.watch.model.LiveEvent`) to `pending`, which the
screen drains and folds into its model. Once attached, it folds each event into the
model at once (same thread, so no lock): no record per event, so a fast run leaves the
garbage collector no queue of them to walk. Either way the screen redraws from the model
on its timer, so a run here takes its counts, progress and bot health from here and the
store is read only for the conversation on screen. It posts messages only for what needs
an immediate reaction: the run's start, partial replies of the watched conversation and
the end of one of its turns.
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
    WatchModel,
)
from core.tournament.reporter import ConversationRef, NullReporter, TournamentInfo


class TuiReporter(NullReporter):
    """Posts watch messages to `post` (a screen's or app's `post_message`) and feeds the run's events to a model.

    Before `attach`, `pending` holds the run's events, oldest first (`LiveStarted`,
    `LiveTurn`, `LiveFinished`, `LiveBotEvent`, `LiveUsage`). After it, events go straight
    into the model, and `events`, `bot_trouble` and `restarted` say what happened since
    the screen last looked (`take_flags`).
    """

    def __init__(self, post: Callable[[Message], object]) -> None:
        self.post = post
        self.pending: list[LiveEvent] = []
        self.model: WatchModel | None = None
        self._clock: Callable[[], float] | None = None
        # Conversation whose partial replies are shown; others are dropped here, cheaply.
        self.watched_id: int | None = None
        # What happened since `take_flags`: events folded, a bot in trouble, the watched
        # conversation started again.
        self.events = 0
        self.bot_trouble = False
        self.restarted = False
        # While the run is busy the screen asks for no `TurnStored`: the follower's regular
        # poll brings the watched conversation's turns, with one redraw for several.
        self.quiet = False

    def attach(self, model: WatchModel) -> None:
        """Fold every later event into `model` at once (call after draining `pending`)."""
        self.model = model
        self._clock = model.clock

    def take(self) -> list[LiveEvent]:
        """The events queued since the last call, oldest first."""
        events, self.pending = self.pending, []
        return events

    def take_flags(self) -> tuple[int, bool, bool]:
        """(events folded in, a bot failed, the watched conversation restarted) since the last call."""
        flags = (self.events, self.bot_trouble, self.restarted)
        self.events, self.bot_trouble, self.restarted = 0, False, False
        return flags

    def tournament_started(self, info: TournamentInfo) -> None:
        """Tell the screen which tournament is running."""
        self.post(RunStarted(info))

    def conversation_started(self, conv: ConversationRef) -> None:
        """A conversation started (or restarted)."""
        model = self.model
        if model is None:
            self.pending.append(LiveStarted(conv.id))
            return
        self.events += 1
        model.live_started(conv.id, self._clock())
        if conv.id == self.watched_id:
            self.restarted = True

    def turn(self, conv: ConversationRef, turn_index: int, role: str, content: str, latency: float) -> None:
        """Count the turn; end the partial of the watched conversation."""
        model = self.model
        if model is None:
            self.pending.append(LiveTurn(conv.id, turn_index, role, latency))
        else:
            self.events += 1
            model.live_turn(conv.id, turn_index, role, latency, self._clock())
        if conv.id == self.watched_id and not self.quiet:
            self.post(TurnStored(conv.id, turn_index))

    def conversation_finished(self, conv: ConversationRef, status: str, reason: str | None, detail: str | None) -> None:
        """A conversation ended."""
        model = self.model
        if model is None:
            self.pending.append(LiveFinished(conv.id, status, reason))
            return
        self.events += 1
        model.live_finished(conv.id, status, reason, self._clock())

    def bot_event(self, bot: str, kind: str, detail: str) -> None:
        """A bot failure, restart, retry or give-up."""
        model = self.model
        if model is None:
            self.pending.append(LiveBotEvent(bot, kind, detail))
            return
        self.events += 1
        self.bot_trouble = True
        model.live_bot_event(bot, kind, detail)

    def usage(self, conv: ConversationRef, turn_index: int, role: str, prompt_tokens: int | None,
              completion_tokens: int | None) -> None:
        """The tokens a turn cost (bot health counts them)."""
        bot = conv.attacker if role == "attacker" else conv.defender
        model = self.model
        if model is None:
            self.pending.append(LiveUsage(bot, prompt_tokens or 0, completion_tokens or 0))
            return
        self.events += 1
        model.live_usage(bot, prompt_tokens or 0, completion_tokens or 0)

    def partial(self, conv: ConversationRef, turn_index: int, content: str) -> None:
        """Forward a partial reply of the watched conversation."""
        if conv.id == self.watched_id:
            self.post(PartialReply(conv.id, turn_index, content))
