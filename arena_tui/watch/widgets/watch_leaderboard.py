"""The leaderboard of the watch screen: the shared `LeaderboardPane`, recomputed only when
the tournament's verdicts change.

A watched store changes many times a second (the run's batched writes), and the shared
pane recomputes the leaderboard (BLEU, bootstrap) whenever the store changed at all. Here
a cheap fingerprint of the verdicts is read first, and the last standings are kept while
it stands; a recompute is forced now and then for inputs the fingerprint does not see.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import RenderableType

from arena_tui.common.leaderboard_pane import LeaderboardPane
from core.store import Store

# Seconds after which the standings are recomputed even with the same verdicts (utility
# results and labels can move scores without changing a verdict, and conversations that
# finished since are the rates' denominators). Running here, every static pass changes
# verdicts, so the denominators follow the run pass by pass; recomputing on every finished
# conversation would cost the run a bootstrap every poll.
FORCED_RECOMPUTE_S = 30.0


class WatchLeaderboard(LeaderboardPane):
    """`LeaderboardPane` that skips recomputing while the verdicts are unchanged."""

    def __init__(self, store_path: str | Path, tournament_ids: list[int] | None = None, **kwargs: object) -> None:
        super().__init__(store_path, tournament_ids, **kwargs)
        self.computed = 0
        self._fingerprint: tuple | None = None
        self._content: RenderableType | None = None
        self._computed_at = 0.0
        self._shown: RenderableType | None = None

    def compute(self, store: Store, tournament_ids: list[int]) -> RenderableType:
        """The last standings while the verdicts stand; recomputed when they change."""
        fingerprint = (tuple(tournament_ids), store.verdict_fingerprint(tournament_ids))
        now = time.monotonic()
        if self._content is None or fingerprint != self._fingerprint or now - self._computed_at > FORCED_RECOMPUTE_S:
            self._content = super().compute(store, tournament_ids)
            self._fingerprint, self._computed_at = fingerprint, now
            self.computed += 1
        return self._content

    def on_live_pane_updated(self, message: LeaderboardPane.Updated) -> None:
        """Show new standings; the same standings again are not redrawn.

        Textual then calls `LivePane`'s handler (which shows the content) unless the
        default is prevented here."""
        if message.pane is self and message.content is self._shown:
            message.stop()
            message.prevent_default()
            return
        self._shown = message.content
