"""A DataTable that redraws only the cells whose text changed.

Every `update_cell` throws away the table's rendered lines, so the watch panes, redrawn
from the model every second, pass each cell through `set_cell`: unchanged cells cost a
comparison, and a redraw in which nothing changed renders nothing. The comparison is on
`cell_key` (text, base style, justification and spans), not `Text.__eq__`, which ignores
the base style: a cell whose only change is its colour must still be redrawn.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

CellKey = tuple[str, str, str | None, tuple]


def cell_key(text: Text) -> CellKey:
    """What a cell shows: its text, base style, justification and spans."""
    return (text.plain, str(text.style), text.justify, tuple(text.spans))


class ChangedCellsTable(DataTable):
    """`DataTable` plus `put_row` / `set_cell`, which remember what each cell shows."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._shown: dict[tuple[str, str], CellKey] = {}
        self.cell_updates = 0  # cells actually redrawn by `set_cell`

    def clear(self, columns: bool = False) -> ChangedCellsTable:
        """Remove the rows (and the columns if asked) and forget what was shown."""
        self._shown.clear()
        super().clear(columns=columns)
        return self

    def put_row(self, key: str, columns: Sequence[str], cells: Sequence[Text]) -> None:
        """Add a row whose cells are `cells` under the column keys `columns`."""
        self.add_row(*cells, key=key)
        for column, cell in zip(columns, cells, strict=True):
            self._shown[(key, column)] = cell_key(cell)

    def set_cell(self, row: str, column: str, value: Text, update_width: bool = False) -> None:
        """Show `value` in a cell, unless it already shows the same text and styles."""
        key = cell_key(value)
        if self._shown.get((row, column)) != key:
            self._shown[(row, column)] = key
            self.cell_updates += 1
            self.update_cell(row, column, value, update_width=update_width)
