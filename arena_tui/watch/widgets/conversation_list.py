"""The conversations of one matchup: id (as `label`, `annotate` and the exports name it),
status, turns, reason; select one to pin it."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message

from arena_tui.common.changed_cells import ChangedCellsTable
from arena_tui.common.safe import inert
from arena_tui.watch.model import ConversationState

COLUMNS = ("#", "status", "turns", "reason")
STATUS_STYLES = {"complete": "green", "incomplete": "bold red", "running": "yellow", "pending": "dim"}


class ConversationList(ChangedCellsTable):
    """Rows keyed by conversation id; the cursor survives refreshes."""

    class ConversationChosen(Message):
        """The user selected a conversation to pin in the transcript."""

        def __init__(self, conversation_id: int) -> None:
            super().__init__()
            self.conversation_id = conversation_id

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.matchup_id: int | None = None
        self._ids: tuple[int, ...] = ()

    def on_mount(self) -> None:
        """Add the columns."""
        for label in COLUMNS:
            self.add_column(label, key=label)

    def show(self, matchup_id: int | None, conversations: list[ConversationState]) -> None:
        """List `conversations` (those of `matchup_id`), updating in place when it is the same matchup."""
        ids = tuple(c.id for c in conversations)
        if matchup_id != self.matchup_id or ids != self._ids:
            self.matchup_id, self._ids = matchup_id, ids
            self.clear()
            for conv in conversations:
                self.put_row(str(conv.id), COLUMNS, self._cells(conv))
            return
        for conv in conversations:
            for column, value in zip(COLUMNS, self._cells(conv), strict=True):
                self.set_cell(str(conv.id), column, value)

    @staticmethod
    def _cells(conv: ConversationState) -> list[Text]:
        return [
            Text(str(conv.id), justify="right"),
            Text(conv.status, style=STATUS_STYLES.get(conv.status, "")),
            Text(str(conv.n_turns), justify="right"),
            Text(inert(conv.reason or ""), style="red"),
        ]

    def on_data_table_row_selected(self, event: ChangedCellsTable.RowSelected) -> None:
        """Turn a row selection into `ConversationChosen`."""
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.ConversationChosen(int(event.row_key.value)))
