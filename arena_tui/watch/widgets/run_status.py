"""Run status: state, conversations done/planned, throughput, elapsed time and ETA."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widgets import Static

from arena_tui.common.safe import inert
from arena_tui.watch.model import WatchModel

STATE_STYLES = {
    "waiting": "bold black on yellow",
    "running": "bold black on green",
    "paused": "bold black on yellow",
    "stopping": "bold white on red",
    "stopped": "bold white on red",
    "stalled": "bold white on red",
    "scanning": "bold black on cyan",
    "finished": "bold black on cyan",
    "failed": "bold white on red",
}


def clock_text(seconds: float | None) -> str:
    """`1:02:03` or `2:03`; `–` when unknown."""
    if seconds is None or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class RunStatus(Static):
    """Two lines that never wrap: the state and the numbers, then a notice (store missing,
    hints) or, with nothing to say, the mode. On a narrow terminal the least useful numbers
    are left out first, so the line always fits."""

    DEFAULT_CSS = """
    RunStatus { height: 2; padding: 0 1; }
    """

    def __init__(self, clock: Callable[[], float], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self._shown: tuple[WatchModel, str, str, str] | None = None

    def show(self, model: WatchModel, state: str, mode: str, notice: str = "") -> None:
        """Draw the status from the model and the screen's run state."""
        self._shown = (model, state, mode, notice)
        # Segments of the first line with their priority: on a narrow terminal the lowest
        # go first (the state, the tournament and its progress always stay).
        parts: list[tuple[int, Text]] = [(9, Text(f" {state.upper()} ", style=STATE_STYLES.get(state, "reverse")))]
        tournament = model.tournament
        if tournament is not None:
            parts.append((9, Text(inert(tournament.name), style="bold")))
            parts.append((1, Text(f"({inert(tournament.kind)})", style="dim")))
            planned, done = model.planned, model.done
            progress = Text(f"conversations {done}/{planned}", style="bold")
            if planned:
                progress.append(f" {done / planned * 100:.0f}%", style="")
            parts.append((8, progress))
            if model.incomplete:
                parts.append((8, Text(f"✗ {model.incomplete} incomplete", style="bold red")))
            rate = model.replies_per_second()
            parts.append((3, Text(f"replies {model.replies}")))
            parts.append((5, Text(f"{rate:,.1f}/s" if rate is not None else "–/s")))
            started, finished = tournament.started_at, tournament.finished_at
            if started is not None:
                end = finished if finished is not None and state in ("scanning", "finished", "stopped") else self.clock()
                parts.append((4, Text(f"elapsed {clock_text(end - started)}")))
            if state == "running":
                parts.append((7, Text(f"ETA {clock_text(model.eta_seconds())}")))
        width = self.content_region.width or self.app.size.width - 2
        while len(parts) > 1 and sum(p.cell_len for _, p in parts) + 2 * (len(parts) - 1) > width:
            parts.remove(min(parts, key=lambda part: part[0]))
        line = Text("  ").join(p for _, p in parts)
        second = Text(inert(notice), style="italic yellow") if notice else Text(inert(mode), style="dim")
        status = Text("\n", no_wrap=True, overflow="ellipsis").join([line, second])
        # Two lines always: no layout pass is needed for new numbers.
        self.update(status, layout=False)

    def on_resize(self) -> None:
        """Fit the line to the new width."""
        if self._shown is not None:
            self.show(*self._shown)
