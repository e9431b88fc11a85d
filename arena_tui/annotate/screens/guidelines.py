"""The `g` screen: the tournament's labelling guidelines as Markdown."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from arena_tui.common.safe import inert

NO_GUIDELINES = "# Guidelines\n\nNo guidelines are configured for this tournament (`evaluation.guidelines`)."


class GuidelinesScreen(ModalScreen[None]):
    """Show the guidelines; Escape or g closes."""

    BINDINGS = [Binding("escape,g,q", "dismiss", "close")]

    def __init__(self, guidelines: str | None) -> None:
        super().__init__()
        self.guidelines = guidelines

    def compose(self) -> ComposeResult:
        """The guidelines, made inert (they are organizer text, but still never raw)."""
        with VerticalScroll(classes="dialog"):
            yield Markdown(inert(self.guidelines) if self.guidelines else NO_GUIDELINES)
