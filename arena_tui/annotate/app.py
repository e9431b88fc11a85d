"""The annotate app: the App only; screens and widgets live in their own modules."""

from __future__ import annotations

from pathlib import Path

from textual.app import App

from arena_tui.annotate.screen import AnnotateScreen


class AnnotateApp(App):
    """Label one annotator's review queue in a store."""

    CSS_PATH = ["../common/common.tcss", "annotate.tcss"]
    TITLE = "Adversarial Arena · annotate"

    def __init__(self, store_path: str | Path, annotator: str) -> None:
        super().__init__()
        self.store_path = Path(store_path)
        self.annotator = annotator

    def on_mount(self) -> None:
        """Open the annotate screen."""
        self.push_screen(AnnotateScreen(self.store_path, self.annotator))
