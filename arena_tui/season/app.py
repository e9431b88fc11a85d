"""The season app: the App only; the screen and its widgets live in their own modules."""

from __future__ import annotations

from pathlib import Path

from textual.app import App

from arena_tui.season.screen import SeasonScreen
from core.evaluation.intervals import DEFAULT_N_BOOT


class SeasonApp(App):
    """Look at a season: its standings per round, ratings, tables and charts."""

    CSS_PATH = ["../common/common.tcss", "season.tcss"]
    TITLE = "Adversarial Arena · season"

    def __init__(self, store_path: str | Path, season: str, *, n_boot: int = DEFAULT_N_BOOT) -> None:
        super().__init__()
        self.store_path = Path(store_path)
        self.season = season
        self.n_boot = n_boot

    def on_mount(self) -> None:
        """Open the season screen."""
        self.push_screen(SeasonScreen(self.store_path, self.season, n_boot=self.n_boot))


def make_season_app(store_path: str | Path, season: str, *, n_boot: int = DEFAULT_N_BOOT) -> SeasonApp:
    """The one factory of the season app (the CLI and the tests use it)."""
    return SeasonApp(store_path, season, n_boot=n_boot)
