"""The `w` form: write the safe reply the defender should have given at the cursor turn."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, TextArea


class SafeReplyScreen(ModalScreen[str | None]):
    """A text area for a safe reply in place of defender reply `turn` (numbered from 1);
    ctrl+s saves it (the chosen side of that turn's preference pair), Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "cancel"), Binding("ctrl+s", "keep", "save")]

    def __init__(self, turn: int) -> None:
        super().__init__()
        self.turn = turn

    def compose(self) -> ComposeResult:
        """The explanation and the text area."""
        with Vertical(classes="dialog"):
            yield Label(f"A safe reply in place of the defender's reply at turn {self.turn} (the chosen side of a "
                        "preference pair). ctrl+s saves, Escape cancels.", markup=False)
            yield TextArea(id="reply", soft_wrap=True)

    def on_mount(self) -> None:
        """Type at once."""
        self.query_one(TextArea).focus()

    def action_keep(self) -> None:
        """Return the text (an empty one is refused where it is saved)."""
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        """Close without saving."""
        self.dismiss(None)
