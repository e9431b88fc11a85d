"""A live transcript: turns appear as they are stored, a partial reply streams below them.

Built around the shared renderer (`arena_tui.common.transcript`). Three widgets, never more: the
title, one body holding every stored turn (a `Group` of rendered turns), and the partial
reply, a plain inert line replaced as it grows. A new conversation or a new turn updates
the body instead of mounting widgets: mounting a widget per turn cost a fast run a layout
pass and several milliseconds per turn (see `benchmarks/bench_watch.py`).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from arena_tui.common.safe import inert, inert_text
from arena_tui.common.transcript import TranscriptOptions, render_turn
from core.store import FindingRow, TurnRow
from core.turns import turn_number

# Characters of a partial reply shown while it streams; the stored turn replaces it.
PARTIAL_CHARS = 4000


class LiveTranscript(VerticalScroll):
    """Shows one conversation and appends its turns as they arrive; sticks to the end
    while the user has not scrolled up."""

    ALLOW_MAXIMIZE = True  # a pane of its own: `z` zooms it

    DEFAULT_CSS = """
    LiveTranscript { height: 1fr; }
    LiveTranscript > Static { height: auto; }
    LiveTranscript > #live-title { dock: top; height: 1; background: $boost; padding: 0 1; }
    LiveTranscript > #live-partial { color: $text-muted; padding: 0 2; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.conversation_id: int | None = None
        self.turns: dict[int, TurnRow] = {}
        self.findings: list[FindingRow] = []
        self.partial_turn: int | None = None
        self._title: Text | None = None

    def compose(self):  # noqa: ANN201 - ComposeResult
        """The title line, the stored turns and the partial-reply line."""
        yield Static(Text("no conversation yet", style="dim"), id="live-title")
        yield Static("", id="live-body")
        yield Static("", id="live-partial")

    def options(self) -> TranscriptOptions:
        """Drawing options: the app theme decides the code colours."""
        return TranscriptOptions(dark=self.app.current_theme.dark if self.is_attached else True)

    def set_title(self, title: Text) -> None:
        """The line above the turns (matchup, index, status, mode); unchanged titles are not redrawn."""
        if title != self._title:
            self._title = title
            self.query_one("#live-title", Static).update(title, layout=False)  # one line, always

    def show(self, conversation_id: int, turns: Sequence[TurnRow], findings: Sequence[FindingRow]) -> None:
        """Display a conversation from scratch."""
        self.conversation_id = conversation_id
        self.turns = {}
        self.findings = list(findings)
        self.set_partial(None, "")
        self.append(turns)
        self.scroll_end(animate=False)

    def append(self, turns: Sequence[TurnRow]) -> None:
        """Add (or replace) turns of the displayed conversation."""
        if not self.is_mounted:
            return
        follow = self.scroll_y >= self.max_scroll_y - 1
        for turn in turns:
            self.turns[turn.turn_index] = turn
        if self.partial_turn is not None and any(t.turn_index >= self.partial_turn for t in turns):
            self.set_partial(None, "")
        self._draw_body()
        if follow and turns:
            self.call_after_refresh(self.scroll_end, animate=False)

    def set_findings(self, findings: Sequence[FindingRow]) -> None:
        """New static-stage findings for the displayed conversation: redraw its turns."""
        if list(findings) == self.findings:
            return
        self.findings = list(findings)
        self._draw_body()

    def _draw_body(self) -> None:
        options = self.options()
        rendered = [render_turn(self.turns[i], self.findings, options) for i in sorted(self.turns)]
        self.query_one("#live-body", Static).update(Group(*rendered))

    def set_partial(self, turn_index: int | None, content: str) -> None:
        """Show a reply as it streams (`turn_index` None clears it)."""
        previous, self.partial_turn = self.partial_turn, turn_index
        partial = self.query_one("#live-partial", Static)
        if turn_index is None:
            if previous is not None:
                partial.update("")
            return
        text = Text(f"turn {turn_number(turn_index)} · typing… ", style="bold italic")
        text.append_text(inert_text(content[-PARTIAL_CHARS:]))
        partial.update(text)

    def clear_view(self, message: str) -> None:
        """Show no conversation, only `message`."""
        self.conversation_id = None
        self.turns = {}
        self._draw_body()
        self.set_partial(None, "")
        self.set_title(Text(inert(message), style="dim"))
