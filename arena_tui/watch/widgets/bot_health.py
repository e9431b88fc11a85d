"""Bot health: per bot, replies, latency (median, p95), timeouts, crashes, restarts, retries,
tokens (LLM usage), last error."""

from __future__ import annotations

from rich.text import Text

from arena_tui.common.changed_cells import ChangedCellsTable
from arena_tui.common.safe import inert
from arena_tui.watch.model import BotHealth, WatchModel

# Characters of the last error line shown in the table; the rest is in the bot's log.
ERROR_CHARS = 120
COLUMNS = ("bot", "replies", "p50 s", "p95 s", "t/o", "crash", "rst", "retry", "tokens", "last error or log line")


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _tokens(n: int) -> str:
    """Token counts at a glance: 950, 12.3k, 4.56M."""
    if n < 10_000:
        return str(n) if n else "–"
    if n < 10_000_000:
        return f"{n / 1000:.1f}k"
    return f"{n / 1_000_000:.2f}M"


def health_row(bot: BotHealth) -> list[Text]:
    """The cells of one bot's row; a failing bot is drawn in red, a given-up one reversed."""
    side_style = "red" if bot.side == "attacker" else "blue"
    name_style = "bold white on red" if bot.gave_up else ("bold red reverse" if bot.failing else f"bold {side_style}")
    error = bot.last_error or bot.log_line
    first_line = error.strip().splitlines()[-1] if error.strip() else ""
    return [
        Text(("A " if bot.side == "attacker" else "D ") + inert(bot.name), style=name_style),
        Text(str(bot.replies), justify="right"),
        Text(_seconds(bot.latency_quantile(0.5)), justify="right"),
        Text(_seconds(bot.latency_quantile(0.95)), justify="right"),
        Text(str(bot.timeouts), justify="right", style="bold red" if bot.timeouts else "dim"),
        Text(str(bot.crashes), justify="right", style="bold red" if bot.crashes else "dim"),
        Text(str(bot.restarts), justify="right", style="bold yellow" if bot.restarts else "dim"),
        Text(str(bot.retries), justify="right", style="yellow" if bot.retries else "dim"),
        Text(_tokens(bot.tokens), justify="right", style="" if bot.tokens else "dim"),
        Text(inert(first_line[:ERROR_CHARS], max_line=ERROR_CHARS), style="red" if bot.last_error else "dim"),
    ]


class BotHealthTable(ChangedCellsTable):
    """One row per bot; failing bots stand out in red."""

    DEFAULT_CSS = """
    BotHealthTable { height: auto; max-height: 100%; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._bots: tuple[str, ...] = ()

    def on_mount(self) -> None:
        """Add the columns."""
        for label in COLUMNS:
            self.add_column(label, key=label)

    def refresh_from(self, model: WatchModel) -> None:
        """Redraw every bot's row from the model."""
        names = tuple(model.bots)
        if names != self._bots:
            self._bots = names
            self.clear()
            for name, bot in model.bots.items():
                self.put_row(name, COLUMNS, health_row(bot))
            return
        for name, bot in model.bots.items():
            for column, value in zip(COLUMNS, health_row(bot), strict=True):
                self.set_cell(name, column, value)
