"""Run status: state, conversations done/planned, throughput, elapsed time and ETA."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widgets import Static

from arena_tui.safe import inert
from arena_tui.watch_follow import WatchModel

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
    """Two lines: the state and the numbers, then a notice (store missing, hints)."""

    DEFAULT_CSS = """
    RunStatus { height: 2; padding: 0 1; }
    """

    def __init__(self, clock: Callable[[], float], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.clock = clock

    def show(self, model: WatchModel, state: str, mode: str, notice: str = "") -> None:
        """Draw the status from the model and the screen's run state."""
        line = Text()
        line.append(f" {state.upper()} ", style=STATE_STYLES.get(state, "reverse"))
        line.append(f"  {mode}", style="dim")
        tournament = model.tournament
        if tournament is not None:
            line.append("  ")
            line.append(inert(tournament.name), style="bold")
            line.append(f" ({inert(tournament.kind)})", style="dim")
            planned, done = model.planned, model.done
            line.append(f"  conversations {done}/{planned}", style="bold")
            if planned:
                line.append(f" {done / planned * 100:3.0f}%")
            if model.incomplete:
                line.append(f"  ✗ {model.incomplete} incomplete", style="bold red")
            rate = model.replies_per_second()
            line.append(f"  replies {model.replies}")
            line.append(f"  {rate:,.1f}/s" if rate is not None else "  –/s")
            started, finished = tournament.started_at, tournament.finished_at
            if started is not None:
                end = finished if finished is not None and state in ("scanning", "finished", "stopped") else self.clock()
                line.append(f"  elapsed {clock_text(end - started)}")
            if state == "running":
                line.append(f"  ETA {clock_text(model.eta_seconds())}")
        second = Text(inert(notice), style="italic yellow" if notice else "dim")
        # Two lines always: no layout pass is needed for new numbers.
        self.update(Text("\n").join([line, second]), layout=False)
