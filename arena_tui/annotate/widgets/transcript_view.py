"""A scrollable transcript: one `Static` per turn, drawn by `arena_tui.common.transcript`."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from textual.containers import VerticalScroll
from textual.widgets import Static

from arena_tui.common.transcript import TranscriptOptions, render_turn
from core.store import FindingRow, TurnRow


class TurnBlock(Static):
    """One rendered turn."""


class TranscriptView(VerticalScroll):
    """Shows one conversation; keeps a turn cursor, a marked turn and the fold state.

    Only the turns whose look changes are re-rendered when the cursor moves.
    """

    ALLOW_MAXIMIZE = True  # a pane of its own: `z` zooms it

    DEFAULT_CSS = """
    TranscriptView { height: 1fr; }
    TranscriptView TurnBlock { height: auto; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.turns: list[TurnRow] = []
        self.findings: list[FindingRow] = []
        self.cursor_turn: int | None = None
        self.marked_turn: int | None = None
        self.unfolded = False
        self._blocks: dict[int, TurnBlock] = {}

    def on_mount(self) -> None:
        """Redraw the code in the matching colours when the app theme changes."""
        self.watch(self.app, "theme", lambda _theme: self._redraw(), init=False)

    def options(self) -> TranscriptOptions:
        """The drawing options for the current state."""
        return TranscriptOptions(unfolded=self.unfolded, cursor_turn=self.cursor_turn, marked_turn=self.marked_turn,
                                 dark=self.app.current_theme.dark if self.is_attached else True)

    def show(self, turns: Sequence[TurnRow], findings: Sequence[FindingRow]) -> None:
        """Display a conversation from its first turn; cursor and marks reset."""
        self.turns = list(turns)
        self.findings = list(findings)
        self.cursor_turn = self.turns[0].turn_index if self.turns else None
        self.marked_turn = None
        self.unfolded = False
        self.remove_children()
        options = self.options()
        self._blocks = {t.turn_index: TurnBlock(render_turn(t, self.findings, options)) for t in self.turns}
        self.mount_all(self._blocks.values())
        self.scroll_home(animate=False)

    def clear(self) -> None:
        """Show nothing."""
        self.turns, self.findings = [], []
        self.cursor_turn = self.marked_turn = None
        self._blocks = {}
        self.remove_children()

    def _redraw(self, turn_indexes: Sequence[int] | None = None) -> None:
        options = self.options()
        for turn in self.turns:
            block = self._blocks.get(turn.turn_index)
            if block is not None and (turn_indexes is None or turn.turn_index in turn_indexes):
                block.update(render_turn(turn, self.findings, options))

    def move_cursor(self, step: int) -> None:
        """Move the turn cursor by `step` turns and scroll it into view."""
        if not self.turns:
            return
        indexes = [t.turn_index for t in self.turns]
        position = indexes.index(self.cursor_turn) if self.cursor_turn in indexes else 0
        previous = self.cursor_turn
        self.cursor_turn = indexes[max(0, min(len(indexes) - 1, position + step))]
        self._redraw([i for i in (previous, self.cursor_turn) if i is not None])
        block = self._blocks.get(self.cursor_turn)
        if block is not None:
            self.scroll_to_widget(block, animate=False)

    def toggle_mark(self) -> int | None:
        """Mark (or unmark) the cursor turn as where the attack landed; returns the mark."""
        previous = self.marked_turn
        self.marked_turn = None if self.marked_turn == self.cursor_turn else self.cursor_turn
        self._redraw([i for i in (previous, self.marked_turn) if i is not None])
        return self.marked_turn

    def toggle_fold(self) -> None:
        """Fold or unfold long code blocks."""
        self.unfolded = not self.unfolded
        self._redraw()

    def plain_text(self, width: int = 120) -> str:
        """The transcript as the terminal would show it, without styles (for tests and copying)."""
        console = Console(width=width, record=True, file=_Discard(), color_system=None)
        options = self.options()
        for turn in self.turns:
            console.print(render_turn(turn, self.findings, options))
        return console.export_text()


class _Discard:
    """A write-only sink for a recording console."""

    def write(self, _text: str) -> int:
        return 0

    def flush(self) -> None:
        """Nothing to flush."""
