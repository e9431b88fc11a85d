"""The dataset report screen: Fig. 4 as horizontal bars, agreement, diversity and the analyzer audit.

The report is computed in a worker (it reads the whole store and bootstraps intervals)
and shown when it arrives; the screen never blocks the app.
"""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from arena_tui.common.safe import inert_text
from core.data.report import DatasetReport, fmt_estimate, fmt_number

# Width of the longest bar of the Fig. 4 chart, in cells.
BAR_WIDTH = 40
REASONS = (("vulnerable_code", "vulnerable code", "red"), ("malicious_assistance", "malicious assistance", "magenta"),
           ("defended", "defended", "green"), ("undecided", "undecided", "grey50"))


def fig4_chart(report: DatasetReport) -> Text:
    """Attack successes by reason per tournament, as horizontal bars scaled to the largest count."""
    largest = max((getattr(c, key) for c in report.counts for key, _, _ in REASONS), default=0) or 1
    chart = Text()
    for counts in report.counts:
        chart.append_text(inert_text(f"{counts.tournament} ({counts.kind}, {counts.complete} complete)\n", style="bold"))
        for key, label, colour in REASONS:
            n = getattr(counts, key)
            chart.append(f"  {label:<22}")
            chart.append("█" * max(int(round(n / largest * BAR_WIDTH)), 1 if n else 0), style=colour)
            chart.append(f" {n}\n")
    return chart


def _tables(report: DatasetReport) -> list[Table]:
    agreement = Table(title="Agreement (Table 1, 95 % bootstrap intervals)", title_justify="left")
    for column in ("tournament", "scope", "items", "Fleiss' κ", "Krippendorff's α"):
        agreement.add_column(column)
    for row in report.agreement:
        agreement.add_row(inert_text(row.tournament), "overall", str(row.items), fmt_estimate(row.fleiss_kappa), fmt_estimate(row.krippendorff_alpha))
        for label, (kappa, alpha) in row.per_label.items():
            agreement.add_row("", inert_text(f"{label} vs rest"), "", fmt_estimate(kappa), fmt_estimate(alpha))
    diversity = Table(title=f"Semantic diversity (Table 2; {report.embedding})", title_justify="left")
    for column in ("level", "groups", "texts", "within", "between"):
        diversity.add_column(column)
    for row in report.diversity:
        diversity.add_row(row.level, str(row.groups), str(row.texts), fmt_number(row.within), fmt_number(row.between))
    audit = Table(title="Analyzer audit (static-stage precision, Wilson 95 %)", title_justify="left")
    for column in ("tournament", "audited", "confirmed", "precision", "interval"):
        audit.add_column(column)
    for row in report.audit:
        audit.add_row(inert_text(row.tournament), str(row.judged), str(row.confirmed),
                      "–" if row.precision is None else f"{row.precision:.1f} %", f"{row.interval.lo:.1f}–{row.interval.hi:.1f} %")
    tables = [agreement, diversity, audit]
    if report.judges:
        judges = Table(title="Judges against the human verdicts (95 % intervals)", title_justify="left")
        for column in ("tournament", "judge", "items", "Cohen's κ", "precision", "recall"):
            judges.add_column(column)
        for row in report.judges:
            t = row.trust
            judges.add_row(inert_text(row.tournament), inert_text(t.judge), str(t.items), fmt_estimate(t.kappa),
                           inert_text("\n".join(f"{label} {fmt_estimate(v.precision)}" for label, v in t.per_label.items())),
                           inert_text("\n".join(f"{label} {fmt_estimate(v.recall)}" for label, v in t.per_label.items())))
        tables.append(judges)
    return tables


class ReportScreen(Screen[None]):
    """The dataset report of a store (all tournaments), computed in a worker."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "close"), Binding("r", "refresh_report", "recompute")]

    class Ready(Message):
        """The report was computed."""

        def __init__(self, report: DatasetReport) -> None:
            super().__init__()
            self.report = report

    class Failed(Message):
        """The report could not be computed (one line)."""

        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(self, store_path: str | Path, *, resamples: int = 1000) -> None:
        super().__init__()
        self.store_path = Path(store_path)
        self.resamples = resamples
        self.report: DatasetReport | None = None

    def compose(self) -> ComposeResult:
        """Header, the scrolling report, footer."""
        yield Header()
        with VerticalScroll():
            yield Static("Computing the dataset report…", id="report-status")
            yield Static(id="report-fig4")
            yield Static(id="report-tables")
        yield Footer()

    def on_mount(self) -> None:
        """Start computing."""
        self.action_refresh_report()

    def action_refresh_report(self) -> None:
        """Recompute the report in a worker."""
        self._compute()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _compute(self) -> None:
        from core.data.report import build_report
        from core.store import Store, StoreError

        try:
            with Store.open_readonly(self.store_path) as store:
                report = build_report(store, [t.id for t in store.tournaments()], resamples=self.resamples)
        except (StoreError, ValueError, OSError) as exc:
            self.post_message(self.Failed(str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
            return
        self.post_message(self.Ready(report))

    def on_report_screen_ready(self, message: Ready) -> None:
        """Show the computed report."""
        self.report = message.report
        self.query_one("#report-status", Static).update(Text("Attack successes by reason (Fig. 4)", style="bold underline"))
        self.query_one("#report-fig4", Static).update(fig4_chart(message.report))
        from rich.console import Group

        self.query_one("#report-tables", Static).update(Group(*_tables(message.report)))

    def on_report_screen_failed(self, message: Failed) -> None:
        """Show why the report is missing."""
        self.query_one("#report-status", Static).update(inert_text(f"Cannot compute the report: {message.error}", style="red"))
