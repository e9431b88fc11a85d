"""The review queue: a virtual list over the annotator's conversation ids.

In the spirit of Toolong's `LogLines`: the widget keeps only the conversation ids (an
8-byte array) and one status byte each; the text of a line (tournament, matchup, turns)
is read from the store a page at a time when it scrolls into view, and kept in a small
LRU. Nothing is laid out per row, so 100,000 items cost what a screenful costs.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from arena_tui.common.safe import inert
from core.store import Store, StoreError
from core.store.annotate import QUEUE_DONE, QUEUE_TO_DO, STATUS_WORDS, QueueRow

# Rows read from the store in one query when a line scrolls into view: a few screens'
# worth, so scrolling reads rarely, yet one page is well under a millisecond.
PAGE_ROWS = 128
# Queue lines kept once read: enough for the pages around the cursor, bounded memory.
ROW_CACHE_SIZE = 2048

STATUS_WIDTH = max(len(word) for word in STATUS_WORDS.values())


class QueueView(ScrollView, can_focus=True):
    """The visible slice of the annotator's queue (after filter and search), one line each.

    Set the content with `set_queue`; `Opened` is posted when a line is chosen (Enter or
    a click). The cursor line follows the open conversation via `select`.
    """

    DEFAULT_CSS = """
    QueueView { height: 1fr; overflow-x: hidden; }
    QueueView > .queue--cursor { background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold; }
    QueueView:blur > .queue--cursor { background: $block-cursor-blurred-background; text-style: none; }
    QueueView > .queue--to-do { text-style: bold; }
    QueueView > .queue--done { color: $success; }
    QueueView > .queue--disputed { color: $warning; text-style: bold; }
    QueueView > .queue--dim { color: $text-muted; }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"queue--cursor", "queue--to-do", "queue--done", "queue--disputed", "queue--dim"}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "up", show=False),
        Binding("down", "cursor(1)", "down", show=False),
        Binding("pageup", "page(-1)", "page up", show=False),
        Binding("pagedown", "page(1)", "page down", show=False),
        Binding("home", "edge(0)", "first", show=False),
        Binding("end", "edge(1)", "last", show=False),
        Binding("enter", "open", "open", show=False),
    ]

    class Opened(Message):
        """The annotator chose a conversation in the queue."""

        def __init__(self, conversation_id: int) -> None:
            super().__init__()
            self.conversation_id = conversation_id

    def __init__(self, store_path: str | Path, annotator: str, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.store_path = Path(store_path)
        self.annotator = annotator
        self.conversation_ids: array[int] = array("q")
        self.statuses = bytearray()
        self.cursor = 0
        self._rows: OrderedDict[int, QueueRow] = OrderedDict()
        self._store: Store | None = None

    def on_unmount(self) -> None:
        """Close the read connection."""
        if self._store is not None:
            self._store.close()
            self._store = None

    # --- content ----------------------------------------------------------------------

    def set_queue(self, conversation_ids: Sequence[int], statuses: bytes | bytearray,
                  select: int | None = None) -> None:
        """Show these conversations (ascending ids) with their statuses; cursor on `select`."""
        self.conversation_ids = array("q", conversation_ids)
        self.statuses = bytearray(statuses)
        self.cursor = 0
        self.virtual_size = Size(0, len(self.conversation_ids))
        if select is None or not self.select(select):
            self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def index_of(self, conversation_id: int) -> int | None:
        """The line of a conversation, or None when it is not shown."""
        ids = self.conversation_ids
        index = bisect_left(ids, conversation_id)
        return index if index < len(ids) and ids[index] == conversation_id else None

    def status_of(self, conversation_id: int) -> int | None:
        """A shown conversation's status code, or None."""
        index = self.index_of(conversation_id)
        return None if index is None else self.statuses[index]

    def set_status(self, conversation_id: int, status: int) -> None:
        """Update one line's status, if it is shown."""
        index = self.index_of(conversation_id)
        if index is not None and self.statuses[index] != status:
            self.statuses[index] = status
            self.refresh_line(index)

    def replace_statuses(self, statuses: bytes | bytearray) -> None:
        """Take fresh statuses for the same conversations (a refresh from the store)."""
        if len(statuses) == len(self.statuses) and statuses != self.statuses:
            self.statuses = bytearray(statuses)
            self.refresh()

    def select(self, conversation_id: int) -> bool:
        """Put the cursor on a conversation's line and scroll it into view; False if not shown."""
        index = self.index_of(conversation_id)
        if index is None:
            return False
        self._move(index)
        return True

    @property
    def cursor_id(self) -> int | None:
        """The conversation under the cursor."""
        return self.conversation_ids[self.cursor] if self.cursor < len(self.conversation_ids) else None

    def forget_rows(self) -> None:
        """Drop cached lines (their text is re-read when next drawn)."""
        self._rows.clear()
        self.refresh()

    # --- cursor -----------------------------------------------------------------------

    def _move(self, index: int) -> None:
        if not self.conversation_ids:
            return
        previous = self.cursor
        self.cursor = max(0, min(len(self.conversation_ids) - 1, index))
        self.refresh_line(previous)
        self.refresh_line(self.cursor)
        height = self.scrollable_content_region.height or 1
        top = round(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def refresh_line(self, index: int) -> None:
        """Redraw one queue line if it is on screen."""
        y = index - round(self.scroll_y)
        if 0 <= y < self.size.height:
            self.refresh_lines(y)

    def action_cursor(self, step: int) -> None:
        """Move the cursor up or down."""
        self._move(self.cursor + step)

    def action_page(self, step: int) -> None:
        """Move the cursor a screen up or down."""
        self._move(self.cursor + step * max(1, self.scrollable_content_region.height - 1))

    def action_edge(self, end: int) -> None:
        """Move the cursor to the first or last line."""
        self._move(len(self.conversation_ids) - 1 if end else 0)

    def action_open(self) -> None:
        """Open the conversation under the cursor."""
        if self.cursor_id is not None:
            self.post_message(self.Opened(self.cursor_id))

    def on_click(self, event: events.Click) -> None:
        """A click opens the clicked line."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = round(self.scroll_y) + offset.y
        if 0 <= index < len(self.conversation_ids):
            self._move(index)
            self.action_open()

    # --- drawing ----------------------------------------------------------------------

    def _row(self, index: int) -> QueueRow | None:
        conversation_id = self.conversation_ids[index]
        row = self._rows.get(conversation_id)
        if row is not None:
            self._rows.move_to_end(conversation_id)
            return row
        start = index - index % PAGE_ROWS
        page = list(self.conversation_ids[start:start + PAGE_ROWS])
        try:
            if self._store is None:
                self._store = Store.open_readonly(self.store_path)
            # One indexed page read on the UI thread, as Toolong reads a line from its file:
            # well under a millisecond, and the line can be drawn at once.
            fetched = self._store.queue_rows(page, self.annotator)
        except StoreError:
            return None
        self._rows.update(fetched)
        while len(self._rows) > ROW_CACHE_SIZE:
            self._rows.popitem(last=False)
        return fetched.get(conversation_id)

    def render_line(self, y: int) -> Strip:
        """One queue line: `#id  attacker vs defender  ·  status`, status always whole."""
        index = round(self.scroll_y) + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if index >= len(self.conversation_ids):
            return Strip.blank(width, base)
        conversation_id = self.conversation_ids[index]
        status = self.statuses[index]
        row = self._row(index)
        id_width = len(str(self.conversation_ids[-1])) + 1
        word = STATUS_WORDS.get(status, "?")
        matchup_width = max(1, width - id_width - STATUS_WIDTH - 3)
        matchup = f"{inert(row.attacker)} vs {inert(row.defender)}" if row else "…"
        # Cut and padded by terminal cells, not characters: wide characters (CJK, emoji)
        # take two cells each and must not push the status word off the line.
        if cell_len(matchup) > matchup_width:
            matchup = set_cell_size(matchup, matchup_width - 1) + "…"
        else:
            matchup = set_cell_size(matchup, matchup_width)
        status_class = {QUEUE_TO_DO: "queue--to-do", QUEUE_DONE: "queue--done"}.get(status, "queue--disputed")
        line = Text(no_wrap=True, end="")
        line.append(f" #{conversation_id:<{id_width - 1}} ", style=self.get_component_rich_style("queue--dim", partial=True))
        line.append(matchup)
        line.append(" ")
        line.append(word.ljust(STATUS_WIDTH), style=self.get_component_rich_style(status_class, partial=True))
        if index == self.cursor:
            line.stylize(self.get_component_rich_style("queue--cursor", partial=True))
        segments = [Segment(s.text, base + s.style if s.style else base) for s in line.render(self.app.console)]
        return Strip(segments).adjust_cell_length(width, base)


def status_word(status: int) -> str:
    """The word the queue shows for a status code."""
    return STATUS_WORDS.get(status, "?")
