"""The review queue: one row per assigned conversation, filled in chunks."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from rich.text import Text
from textual import work
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

from arena_tui.messages import DISPUTED, DONE, TO_DO, QueueItem
from arena_tui.safe import inert

# Rows added per event-loop turn: large queues fill without freezing the screen.
FILL_CHUNK = 500

STATUS_STYLES = {TO_DO: "bold", DONE: "green", DISPUTED: "bold magenta"}


def status_cell(status: str) -> Text:
    """The status column's text, coloured by status."""
    return Text(status, style=STATUS_STYLES.get(status, ""))


class QueueTable(DataTable):
    """The visible slice of the annotator's queue (after filter and search).

    It holds only small `QueueItem` tuples; transcripts are fetched when opened. Rows are
    keyed by conversation id so a status change updates one cell.
    """

    DEFAULT_CSS = """
    QueueTable { width: 40; }
    """

    def on_mount(self) -> None:
        """Set up the columns and row cursor."""
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_column("#", key="id")
        self.add_column("matchup", key="matchup")
        self.add_column("status", key="status")

    def show(self, items: Sequence[QueueItem], select: int | None = None) -> None:
        """Replace the rows with `items` (filled in chunks) and put the cursor on `select`."""
        self.clear()
        self._fill(list(items), select)

    @work(exclusive=True, group="queue-fill")
    async def _fill(self, items: list[QueueItem], select: int | None) -> None:
        for start in range(0, len(items), FILL_CHUNK):
            for item in items[start:start + FILL_CHUNK]:
                key = str(item.conversation_id)
                self.add_row(key, inert(item.matchup), status_cell(item.status), key=key)
            await asyncio.sleep(0)
        if select is not None:
            self.select(select)

    def select(self, conversation_id: int) -> None:
        """Move the cursor to a conversation's row, if it is shown."""
        try:
            index = self.get_row_index(str(conversation_id))
        except RowDoesNotExist:  # not in the current view
            return
        self.move_cursor(row=index)

    def set_status(self, conversation_id: int, status: str) -> None:
        """Update one row's status cell, if the row is shown."""
        try:
            self.update_cell(str(conversation_id), "status", status_cell(status))
        except (RowDoesNotExist, CellDoesNotExist):  # not in the current view
            pass
