"""The reporter that bridges the orchestrator to the watch screen.

One implementation of `core.reporter.Reporter` (the headless progress bar is another).
The orchestrator calls it on the event loop the app runs on; it only posts small
messages. Counts and transcripts are read from the store, the source of truth: the
reporter adds what the store never holds (partial replies) and run lifecycle.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.message import Message

from arena_tui.watch_messages import PartialReply, RunProgress, RunStarted, TurnStored
from core.reporter import ConversationRef, NullReporter, TournamentInfo

# Progress is posted at most this often: the screen redraws a few times a second anyway,
# and a message per reply would cost the tournament time at thousands of replies/s.
PROGRESS_INTERVAL_S = 0.25


class TuiReporter(NullReporter):
    """Posts watch messages to `post` (a screen's or app's `post_message`)."""

    def __init__(self, post: Callable[[Message], object], clock: Callable[[], float] = time.monotonic) -> None:
        self.post = post
        self.clock = clock
        self.replies = 0
        self._last_progress = 0.0
        # Conversation whose partial replies are shown; others are dropped here, cheaply.
        self.watched_id: int | None = None

    def tournament_started(self, info: TournamentInfo) -> None:
        """Tell the screen which tournament is running."""
        self.post(RunStarted(info))

    def turn(self, conv: ConversationRef, turn_index: int, role: str, content: str, latency: float) -> None:
        """Count the reply; end the partial of the watched conversation; post progress, throttled."""
        self.replies += 1
        if conv.id == self.watched_id:
            self.post(TurnStored(conv.id, turn_index))
        now = self.clock()
        if now - self._last_progress >= PROGRESS_INTERVAL_S:
            self._last_progress = now
            self.post(RunProgress(self.replies))

    def partial(self, conv: ConversationRef, turn_index: int, content: str) -> None:
        """Forward a partial reply of the watched conversation."""
        if conv.id == self.watched_id:
            self.post(PartialReply(conv.id, turn_index, content))
