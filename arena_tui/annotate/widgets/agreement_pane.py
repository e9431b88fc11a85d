"""Live agreement among the annotators: Fleiss' κ, Krippendorff's α with intervals,
pairwise Cohen's κ as a small heat map, and this annotator's agreement with the majority."""

from __future__ import annotations

import math
from pathlib import Path

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from arena_tui.common.live_pane import LivePane
from arena_tui.common.safe import inert
from core.evaluation.agreement import Estimate
from core.evaluation.pipeline import agreement, judge_trusts
from core.store import Store

# Bootstrap resamples for the live intervals: 200 keeps a recompute on 100,000 labels
# within a second or two in the worker while the interval ends move by about ±0.02.
LIVE_RESAMPLES = 200


def estimate_text(estimate: Estimate, digits: int = 2) -> str:
    """`0.41 [0.33,0.49]`, or `n/a` when undefined."""
    if math.isnan(estimate.value):
        return "n/a"
    return f"{estimate.value:.{digits}f} [{estimate.low:.{digits}f},{estimate.high:.{digits}f}]"


def kappa_style(value: float | None) -> str:
    """Heat-map colour of a κ: red poor, yellow fair/moderate, green substantial (Landis & Koch)."""
    if value is None or math.isnan(value):
        return "dim"
    if value < 0.2:
        return "bold white on red"
    if value < 0.6:
        return "black on yellow"
    return "black on green"


class AgreementPane(LivePane):
    """Agreement over each followed tournament's current labels, recomputed as labels arrive."""

    def __init__(self, store_path: str | Path, tournament_ids: list[int] | None = None, annotator: str | None = None,
                 **kwargs: object) -> None:
        super().__init__(store_path, tournament_ids, **kwargs)
        self.annotator = annotator
        self.border_title = "agreement"

    def compute(self, store: Store, tournament_ids: list[int]) -> RenderableType:
        """One block per tournament: κ and α with intervals, the Cohen heat map, my agreement."""
        names = {t.id: t.name for t in store.tournaments()}
        parts: list[RenderableType] = []
        for tid in tournament_ids:
            report = agreement(store, tid, resamples=LIVE_RESAMPLES)
            title = Text(inert(names.get(tid, str(tid))), style="bold")
            title.append(f"  {report.items} items, {report.labels} labels", style="dim")
            parts.append(title)
            parts.append(Text(f"Fleiss κ  {estimate_text(report.fleiss_kappa)}"))
            parts.append(Text(f"Kripp. α  {estimate_text(report.krippendorff_alpha)}"))
            mine = report.per_annotator.get(self.annotator) if self.annotator else None
            if mine is not None and mine.compared:
                agree = mine.agreement
                parts.append(Text(f"you/maj.  {agree.value:.0%} [{agree.low:.0%}, {agree.high:.0%}]"
                                  f" of {mine.compared}"))
            cohen = report.cohen
            if len(cohen.annotators) >= 2:
                table = Table(box=None, padding=(0, 1), show_edge=False, title="Cohen κ", title_justify="left")
                table.add_column("")
                for name in cohen.annotators:
                    table.add_column(Text(inert(str(name))[:6]), justify="right")
                for i, name in enumerate(cohen.annotators):
                    cells: list[Text] = []
                    for j in range(len(cohen.annotators)):
                        kappa = cohen.kappa[i][j]
                        value = None if kappa is None else kappa.value
                        shown = "·" if value is None or math.isnan(value) else f"{value:.2f}"
                        cells.append(Text(shown, style=kappa_style(value)))
                    table.add_row(Text(inert(str(name))[:8], style="bold" if name == self.annotator else ""), *cells)
                parts.append(table)
            for trust in judge_trusts(store, tid, resamples=LIVE_RESAMPLES):
                # A judge against the human verdicts (its labels never count as human ones).
                line = Text(f"judge {inert(trust.judge)[:12]}", style="bold")
                if not trust.items:
                    line.append("  no item with a human verdict yet", style="dim")
                else:
                    line.append(f"  κ {estimate_text(trust.kappa)} on {trust.items}")
                    for label, per in trust.per_label.items():
                        if per.judged:
                            line.append(f"\n  P({inert(str(label))[:10]}) {estimate_text(per.precision)}"
                                        f" {per.correct}/{per.judged}")
                parts.append(line)
        if not parts:
            parts.append(Text("no tournament to follow", style="dim"))
        return Group(*parts)
