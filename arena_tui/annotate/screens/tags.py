"""The `t` form: tags and a note to send with the next label."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, SelectionList

from arena_tui.common.safe import inert_text


class TagsScreen(ModalScreen[tuple[tuple[str, ...], str] | None]):
    """Pick tags (space toggles) and type a note; Enter in the note keeps them, Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "cancel"), Binding("ctrl+s", "keep", "keep")]

    def __init__(self, tags: Sequence[str], chosen: Sequence[str], note: str) -> None:
        super().__init__()
        self.tags = tuple(tags)
        self.chosen = set(chosen)
        self.note = note

    def compose(self) -> ComposeResult:
        """The tag list and the note box."""
        with Vertical(classes="dialog"):
            yield Label("Tags (space toggles) and a note, sent with the next label. Enter keeps, Escape cancels.")
            yield SelectionList(*((inert_text(tag), tag, tag in self.chosen) for tag in self.tags), id="tags")
            yield Input(self.note, placeholder="note (optional)", id="note")

    def action_keep(self) -> None:
        """Return the chosen tags and the note."""
        tags = tuple(t for t in self.tags if t in self.query_one(SelectionList).selected)
        self.dismiss((tags, self.query_one("#note", Input).value))

    @on(Input.Submitted, "#note")
    def note_submitted(self) -> None:
        """Enter in the note keeps the form."""
        self.action_keep()

    def action_cancel(self) -> None:
        """Close without changing anything."""
        self.dismiss(None)
