"""A live transcript: turns appear as they are stored, a partial reply streams below them.

Built around the shared renderer (`arena_tui.transcript`): one `Static` per stored turn,
rendered once; the partial reply is a plain inert line that is replaced as it grows.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widget import MountError
from textual.widgets import Static

from arena_tui.safe import inert, inert_text
from arena_tui.transcript import TranscriptOptions, render_turn
from core.store import FindingRow, TurnRow

# Characters of a partial reply shown while it streams; the stored turn replaces it.
PARTIAL_CHARS = 4000


class LiveTurn(Static):
    """One rendered, stored turn."""


class LiveTranscript(VerticalScroll):
    """Shows one conversation and appends its turns as they arrive; sticks to the end
    while the user has not scrolled up."""

    DEFAULT_CSS = """
    LiveTranscript { height: 1fr; }
    LiveTranscript > Static { height: auto; }
    LiveTranscript > #live-title { dock: top; background: $boost; padding: 0 1; }
    LiveTranscript > #live-partial { color: $text-muted; padding: 0 2; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.conversation_id: int | None = None
        self.turns: dict[int, TurnRow] = {}
        self.findings: list[FindingRow] = []
        self.partial_turn: int | None = None
        self._blocks: dict[int, LiveTurn] = {}

    def compose(self):  # noqa: ANN201 - ComposeResult
        """The title line and the partial-reply line; turns are mounted between them."""
        yield Static(Text("no conversation yet", style="dim"), id="live-title")
        yield Static("", id="live-partial")

    def options(self) -> TranscriptOptions:
        """Drawing options: the app theme decides the code colours."""
        return TranscriptOptions(dark=self.app.current_theme.dark if self.is_attached else True)

    def set_title(self, title: Text) -> None:
        """The line above the turns (matchup, index, status, mode)."""
        self.query_one("#live-title", Static).update(title)

    def show(self, conversation_id: int, turns: Sequence[TurnRow], findings: Sequence[FindingRow]) -> None:
        """Display a conversation from scratch."""
        self.conversation_id = conversation_id
        self.turns = {}
        self.findings = list(findings)
        for block in self._blocks.values():
            block.remove()
        self._blocks = {}
        self.set_partial(None, "")
        self.append(turns)
        self.scroll_end(animate=False)

    def append(self, turns: Sequence[TurnRow]) -> None:
        """Add (or replace) turns of the displayed conversation."""
        if not self.is_mounted:
            return
        follow = self.scroll_y >= self.max_scroll_y - 1
        options = self.options()
        partial = self.query_one("#live-partial", Static)
        for turn in turns:
            self.turns[turn.turn_index] = turn
            renderable = render_turn(turn, self.findings, options)
            if turn.turn_index in self._blocks:
                self._blocks[turn.turn_index].update(renderable)
            else:
                block = LiveTurn(renderable)
                try:
                    self.mount(block, before=partial)
                except MountError:  # the app is shutting down
                    return
                self._blocks[turn.turn_index] = block
            if self.partial_turn is not None and turn.turn_index >= self.partial_turn:
                self.set_partial(None, "")
        if follow and turns:
            self.call_after_refresh(self.scroll_end, animate=False)

    def set_findings(self, findings: Sequence[FindingRow]) -> None:
        """New static-stage findings for the displayed conversation: redraw its turns."""
        if list(findings) == self.findings:
            return
        self.findings = list(findings)
        options = self.options()
        for index, block in self._blocks.items():
            block.update(render_turn(self.turns[index], self.findings, options))

    def set_partial(self, turn_index: int | None, content: str) -> None:
        """Show a reply as it streams (`turn_index` None clears it)."""
        self.partial_turn = turn_index
        partial = self.query_one("#live-partial", Static)
        if turn_index is None:
            partial.update("")
            return
        text = Text(f"turn {turn_index + 1} · typing… ", style="bold italic")
        text.append_text(inert_text(content[-PARTIAL_CHARS:]))
        partial.update(text)

    def clear_view(self, message: str) -> None:
        """Show no conversation, only `message`."""
        self.conversation_id = None
        self.turns = {}
        for block in self._blocks.values():
            block.remove()
        self._blocks = {}
        self.set_partial(None, "")
        self.set_title(Text(inert(message), style="dim"))
