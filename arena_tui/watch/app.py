"""The watch app: the App only; the screen and widgets live in their own modules."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual.app import App
from textual.binding import Binding

from arena_tui.watch.screen import InProcessRun, WatchScreen


class WatchApp(App):
    """Watch a tournament live: run it in this process, or follow a store another process writes."""

    CSS_PATH = ["../common/common.tcss", "watch.tcss"]
    TITLE = "Adversarial Arena · watch"
    BINDINGS = [Binding("ctrl+q", "quit_watch", "quit", show=False, priority=True)]

    def __init__(self, store_path: str | Path, tournament: str | None = None, run: InProcessRun | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.store_path = Path(store_path)
        self.tournament = tournament
        self.run_spec = run
        self.clock = clock

    def on_mount(self) -> None:
        """Open the watch screen."""
        self.push_screen(WatchScreen(self.store_path, self.tournament, self.run_spec, self.clock))

    def action_quit_watch(self) -> None:
        """Quit through the screen, so a run here is stopped gracefully first."""
        screen = self.screen
        if isinstance(screen, WatchScreen):
            screen.action_quit_watch()
        else:
            self.exit()
