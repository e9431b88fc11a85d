"""The matchup grid: attackers × defenders, each cell with progress, failures and live ASR."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message

from arena_tui.safe import inert
from arena_tui.watch_follow import CellState, WatchModel
from arena_tui.widgets.changed_cells import ChangedCellsTable

# Characters of a bot name in the grid's headers: five defenders fit beside the bot health.
NAME_CHARS = 12


def short_name(name: str) -> str:
    """A bot name cut to `NAME_CHARS` for the grid headers (inert)."""
    name = inert(name)
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


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
        self._shape: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
        self._ids: dict[tuple[int, int], int] = {}

    def refresh_from(self, model: WatchModel) -> None:
        """Redraw every cell from the model (rebuilds the table only when the bots change)."""
        shape = (tuple(model.attackers), tuple(model.defenders))
        if shape != self._shape:
            self._shape = shape
            self.clear(columns=True)
            self.add_column(Text("att ╲ def", style="dim"), key="attacker")
            for defender in model.defenders:
                self.add_column(Text(short_name(defender), style="bold blue"), key=f"d:{defender}")
            columns = ["attacker", *(f"d:{d}" for d in model.defenders)]
            for attacker in model.attackers:
                self.put_row(f"a:{attacker}", columns, [Text(short_name(attacker), style="bold red"),
                                                        *(cell_text(model.cell(attacker, d)) for d in model.defenders)])
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
                self.set_cell(f"a:{attacker}", f"d:{defender}", cell_text(cell), update_width=True)

    def on_data_table_cell_selected(self, event: ChangedCellsTable.CellSelected) -> None:
        """Turn a cell selection into `MatchupChosen`."""
        event.stop()
        matchup_id = self._ids.get((event.coordinate.row, event.coordinate.column))
        if matchup_id is not None:
            self.post_message(self.MatchupChosen(matchup_id))
