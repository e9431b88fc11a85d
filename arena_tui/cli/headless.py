"""The headless display: a rich progress bar while a tournament runs, a summary after.

One implementation of `core.tournament.reporter.Reporter`; the TUI is another.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from arena_tui.common.safe import inert, inert_text
from core.tournament.reporter import ConversationRef, NullReporter, RunSummary, TournamentInfo


class HeadlessReporter(NullReporter):
    """Progress bar on stderr-like console; bot failures printed as they happen."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[incomplete]} incomplete"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self.task: TaskID | None = None
        self.incomplete = 0

    def tournament_started(self, info: TournamentInfo) -> None:
        """Print what will run and start the bar."""
        what = "Resuming" if info.resumed else "Running"
        self.console.print(
            inert_text(
                f"{what} {info.kind} tournament {info.name!r}: {len(info.attackers)} attackers × "
                f"{len(info.defenders)} defenders, {info.planned} conversations"
                + (f" ({info.already_done} already done)" if info.already_done else "")
            )
        )
        self.progress.start()
        self.task = self.progress.add_task("conversations", total=info.planned, completed=info.already_done, incomplete=0)

    def conversation_finished(self, conv: ConversationRef, status: str, reason: str | None, detail: str | None) -> None:
        """Advance the bar."""
        if status == "incomplete":
            self.incomplete += 1
        if self.task is not None:
            self.progress.update(self.task, advance=1, incomplete=self.incomplete)

    def bot_event(self, bot: str, kind: str, detail: str) -> None:
        """Show bot failures above the bar."""
        style = "red" if kind == "gave_up" else "yellow"
        self.progress.console.print(inert_text(f"bot {bot}: {kind}: {detail}", style=style, max_line=300))

    def tournament_finished(self, summary: RunSummary) -> None:
        """Stop the bar and print the summary tables."""
        self.progress.stop()
        print_summary(self.console, summary)


def print_summary(console: Console, summary: RunSummary) -> None:
    """Tables: conversations by outcome, and each bot's health."""
    state = "stopped (resume with --resume)" if summary.stopped else "finished"
    console.print(
        inert_text(
            f"Tournament {summary.name!r} {state}: {summary.complete} complete, {summary.incomplete} incomplete, "
            f"{summary.pending} unfinished of {summary.planned}; {summary.replies} replies in "
            f"{summary.elapsed:.1f}s ({summary.replies_per_second:.0f}/s)"
        )
    )
    if summary.incomplete_reasons:
        reasons = ", ".join(f"{inert(r or '?')}: {n}" for r, n in summary.incomplete_reasons.items())
        console.print(inert_text(f"Incomplete by reason: {reasons}"))
    if summary.budget_spent:
        console.print(inert_text(f"Token budget spent: {', '.join(summary.budget_spent)}; their conversations not "
                                 "started yet are pending (raise token_budget and --resume to play them)"))
    table = Table(title="Bots", title_justify="left", pad_edge=False)
    tokens = any(stats.tokens for stats in summary.bots.values())
    columns = ["bot", "side", "replies", "p50 s", "p95 s", "failures", "restarts", "retries"]
    columns += ["tokens in/out"] if tokens else []
    for column in [*columns, "last error"]:
        numeric = column in ("replies", "p50 s", "p95 s", "restarts", "retries", "tokens in/out")
        table.add_column(column, justify="right" if numeric else "left", no_wrap=column != "last error",
                         overflow="ellipsis")
    for stats in summary.bots.values():
        median, p95 = stats.latency_quantile(0.5), stats.latency_quantile(0.95)
        failures = ", ".join(f"{k} {v}" for k, v in sorted(stats.failures.items()))
        last = stats.gave_up or stats.last_error
        table.add_row(
            inert_text(stats.name),
            stats.side[:3],
            str(stats.replies),
            f"{median:.3f}" if median is not None else "-",
            f"{p95:.3f}" if p95 is not None else "-",
            inert_text(failures or "-"),
            str(stats.restarts),
            str(stats.retries),
            *([f"{stats.prompt_tokens}/{stats.completion_tokens}"] if tokens else []),
            inert_text(last or "", style="red" if stats.gave_up else "", max_line=120),
        )
    console.print(table)
