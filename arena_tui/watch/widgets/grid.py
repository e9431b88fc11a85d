"""The matchup grid: attackers × defenders, each cell with progress, failures and live ASR."""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual.coordinate import Coordinate
from textual.message import Message

from arena_tui.common.changed_cells import ChangedCellsTable
from arena_tui.common.safe import inert
from arena_tui.watch.model import CellState, WatchModel

# Bot names in the grid's headers are cut to fit the width the grid is given, but never
# below this many cells: shorter, names stop being told apart.
MIN_NAME_CELLS = 6
CORNER = "att ╲ def"


def short_name(name: str, cells: int) -> str:
    """A bot name (inert) cut to `cells` terminal cells, with `…` when cut."""
    name = inert(name)
    return name if cell_len(name) <= cells else set_cell_size(name, cells - 1) + "…"


def cell_text(cell: CellState | None) -> Text:
    """`7/10 ✗1 30%`: done of planned, incomplete count (red), static-stage ASR."""
    if cell is None:
        return Text("·", style="dim")
    style = "bold green" if cell.done == cell.planned else ("yellow" if cell.running else "")
    text = Text(f"{cell.done}/{cell.planned}", style=style)
    if cell.incomplete:
        text.append(f" ✗{cell.incomplete}", style="bold red")
    asr = cell.asr
    text.append(" " + ("  –" if asr is None else f"{asr:3.0f}%"), style="magenta" if asr else "dim")
    return text


def name_cells_to_fit(attackers: list[str], defenders: list[str], cell_width: int, width: int, padding: int = 1) -> int:
    """The most cells a bot name may take so the grid is at most `width` cells wide
    (whole names when they fit; never fewer than `MIN_NAME_CELLS`).

    `cell_width`: the widest cell's text; `padding`: the table's padding on each side of a cell."""
    longest = max((cell_len(inert(n)) for n in [*attackers, *defenders]), default=MIN_NAME_CELLS)
    for cells in range(max(longest, MIN_NAME_CELLS), MIN_NAME_CELLS - 1, -1):
        first = max(cell_len(CORNER), *(min(cells, cell_len(inert(a))) for a in attackers)) if attackers else cell_len(CORNER)
        columns = [max(cell_width, min(cells, cell_len(inert(d)))) for d in defenders]
        if first + sum(columns) + 2 * padding * (1 + len(defenders)) <= width:
            return cells
    return MIN_NAME_CELLS


class MatchupGrid(ChangedCellsTable):
    """One row per attacker, one column per defender; select a cell to list its conversations."""

    DEFAULT_CSS = """
    MatchupGrid { height: auto; max-height: 100%; }
    """

    class MatchupChosen(Message):
        """The user selected a cell (by keyboard or mouse)."""

        def __init__(self, matchup_id: int) -> None:
            super().__init__()
            self.matchup_id = matchup_id

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="cell", zebra_stripes=False, **kwargs)
        self._shape: tuple[tuple[str, ...], tuple[str, ...], int] = ((), (), 0)
        self._ids: dict[tuple[int, int], int] = {}
        # The width the screen gives the grid (None: names whole), and the widest cell so far.
        self.fit_width: int | None = None
        self._cell_width = 0

    def refresh_from(self, model: WatchModel) -> None:
        """Redraw every cell from the model (rebuilds the table only when the bots change,
        or when the names must be cut differently to fit)."""
        texts = {(a, d): cell_text(model.cell(a, d)) for a in model.attackers for d in model.defenders}
        self._cell_width = max(self._cell_width, *(t.cell_len for t in texts.values())) if texts else self._cell_width
        name_cells = (name_cells_to_fit(model.attackers, model.defenders, self._cell_width, self.fit_width, self.cell_padding)
                      if self.fit_width is not None else 10_000)
        shape = (tuple(model.attackers), tuple(model.defenders), name_cells)
        if shape != self._shape:
            self._shape = shape
            cursor = self.cursor_coordinate
            self.clear(columns=True)
            self.add_column(Text(CORNER, style="dim"), key="attacker")
            for defender in model.defenders:
                self.add_column(Text(short_name(defender, name_cells), style="bold blue"), key=f"d:{defender}")
            columns = ["attacker", *(f"d:{d}" for d in model.defenders)]
            for attacker in model.attackers:
                self.put_row(f"a:{attacker}", columns, [Text(short_name(attacker, name_cells), style="bold red"),
                                                        *(texts[(attacker, d)] for d in model.defenders)])
            # The cursor starts on a matchup, not on the attackers' names: enter lists a cell at once.
            self.cursor_coordinate = cursor if cursor.column or not model.defenders else Coordinate(cursor.row, 1)
            self._ids = {}
            for r, attacker in enumerate(model.attackers):
                for c, defender in enumerate(model.defenders):
                    cell = model.cell(attacker, defender)
                    if cell is not None:
                        self._ids[(r, c + 1)] = cell.id
            return
        for r, attacker in enumerate(model.attackers):
            for c, defender in enumerate(model.defenders):
                cell = model.cell(attacker, defender)
                if cell is not None and (r, c + 1) not in self._ids:
                    self._ids[(r, c + 1)] = cell.id
                self.set_cell(f"a:{attacker}", f"d:{defender}", texts[(attacker, defender)], update_width=True)

    def on_data_table_cell_selected(self, event: ChangedCellsTable.CellSelected) -> None:
        """Turn a cell selection into `MatchupChosen`."""
        event.stop()
        matchup_id = self._ids.get((event.coordinate.row, event.coordinate.column))
        if matchup_id is not None:
            self.post_message(self.MatchupChosen(matchup_id))
