"""The `?` screen: every key of a screen (annotate or watch)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from arena_tui.common.safe import inert_text

# Moving between panes: the same keys in both apps (`arena_tui.common.pane`).
PANE_KEYS = [
    ("tab / shift+tab", "next / previous pane"),
    ("z", "zoom the pane with the focus to the whole screen; z or escape brings the layout back"),
]

ANNOTATE_KEYS = [
    ("n / p", "next / previous item in the queue"),
    ("s", "skip: leave this item for later, open the next one to do"),
    ("u", "undo your last label (on this item, or the one you just labelled)"),
    ("j / k", "move the turn cursor down / up"),
    ("m", "mark the cursor turn as where the attack landed (sent with the next label)"),
    ("t", "tags and a note for the next label"),
    ("w", "write a safe reply in place of the defender reply under the cursor (for preference pairs)"),
    ("f", "fold / unfold long code blocks"),
    ("/", "full-text search over turns (Enter runs it, Escape clears it); #123 jumps to conversation 123"),
    ("v", "filter the queue: all, to do, done, disputed (ctrl+p: by tournament or matchup)"),
    ("enter / click", "open the item under the queue cursor, or the clicked one"),
    ("c / x / l", "go to the queue / the transcript / the live agreement and leaderboard panes (zoomed)"),
    *PANE_KEYS,
    ("a", "show / hide the live agreement and leaderboard panes"),
    ("g", "labelling guidelines"),
    ("R", "dataset report (counts by reason, agreement, diversity, analyzer audit)"),
    ("ctrl+p", "command palette: jump, filters, guidelines, export my labels, dataset report, light and dark themes"),
    ("?", "this help"),
    ("q / ctrl+q", "quit (every label is already saved)"),
]

WATCH_KEYS = [
    ("space", "running here: pause / resume (replies already asked for still arrive)"),
    ("s", "running here: stop gracefully (the store stays resumable)"),
    ("r", "running here, after a stop: resume"),
    ("g / c / x / l / h", "go to the grid / the cell's conversations / the transcript / the standings / bot health; "
                          "a pane the terminal has no room for opens zoomed"),
    *PANE_KEYS,
    ("arrows, enter", "in the grid: pick a cell and list its conversations; in the list: pin a conversation"),
    ("f", "pin the conversation on screen, or follow the newest again"),
    ("escape", "follow the newest conversation (or leave the zoom)"),
    ("b", "standings: leaderboard from the stored verdicts, or the static stage's live ASR"),
    ("ctrl+p", "command palette (themes, keys, quit)"),
    ("?", "this help"),
    ("q / ctrl+q", "quit (a run here is stopped gracefully first)"),
]


class HelpScreen(ModalScreen[None]):
    """The keys of the screen it was opened from."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "close")]

    def __init__(self, keys: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = tuple(keys)

    def compose(self) -> ComposeResult:
        """A two-column table of keys (descriptions may hold label names: inert)."""
        table = Table(title="Keys", show_header=False, box=None, padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for key, what in self.keys:
            table.add_row(inert_text(key), inert_text(what))
        with VerticalScroll(classes="dialog"):
            yield Static(table)
