"""The `?` screen: every key of the annotate screen."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from arena_tui.safe import inert_text

KEYS = [
    ("n / p", "next / previous item in the queue"),
    ("s", "skip: leave this item for later, open the next one to do"),
    ("u", "undo your last label (on this item, or the one you just labelled)"),
    ("j / k", "move the turn cursor down / up"),
    ("m", "mark the cursor turn as where the attack landed (sent with the next label)"),
    ("t", "tags and a note for the next label"),
    ("f", "fold / unfold long code blocks"),
    ("/", "full-text search over turns (Enter runs it, Escape clears it); #123 jumps to conversation 123"),
    ("v", "filter the queue: all, to do, done, disputed (ctrl+p: by tournament or matchup)"),
    ("enter / click", "open the item under the queue cursor, or the clicked one"),
    ("a", "show / hide the live agreement and leaderboard panes"),
    ("g", "labelling guidelines"),
    ("R", "dataset report (counts by reason, agreement, diversity, analyzer audit)"),
    ("ctrl+p", "command palette: jump, filters, guidelines, export my labels, dataset report, light and dark themes"),
    ("?", "this help"),
    ("ctrl+q", "quit (every label is already saved)"),
]


class HelpScreen(ModalScreen[None]):
    """The keys, including one per label."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "close")]

    def __init__(self, labels: Sequence[str]) -> None:
        super().__init__()
        self.labels = tuple(labels)

    def compose(self) -> ComposeResult:
        """A two-column table of keys."""
        table = Table(title="Keys", show_header=False, box=None, padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for index, label in enumerate(self.labels):
            table.add_row(str(index + 1), inert_text(f"label this item {label} (saved at once, then the next item opens)"))
        for key, what in KEYS:
            table.add_row(key, what)
        with VerticalScroll(classes="dialog"):
            yield Static(table)
