"""The season's charts, drawn once for the screen and for the report's image files.

Each chart is a function of a `SeasonSummary` and a size in terminal cells that returns
a Rich renderable: the season screen shows it in a `ChartView` (built in a worker
thread, never on the event loop), and `arena-tui report` writes the same renderable as
an SVG file through Rich's SVG export, so the pictures in a shared report are the ones
on screen.

Line and bar charts are drawn by plotext through textual-plotext's `Plot`: one figure
object per chart (plotext's module-level functions share one global figure, which two
worker threads would trample), built to an ANSI string. textual-plotext's own
`PlotextPlot` widget is not used: it builds the figure inside `render()`, on the event
loop, at every refresh. The pairwise agreement heat-map is a Rich grid of coloured
cells with the κ printed in each: a terminal heat-map that can be read, not only seen.

Team and annotator names are hostile text: they reach plotext as plain strings (drawn
cell by cell, never parsed as markup) and Rich only as `Text` (`inert_text`); plotext's
output is parsed by `Text.from_ansi`, which keeps only colours and styles.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from arena_tui.common.safe import inert, inert_text

if TYPE_CHECKING:
    from core.season.summary import SeasonSummary

# plotext's theme without background colours: charts take the screen's (or the SVG's).
PLOT_THEME = "clear"
# Names on an axis or in a legend longer than this are cut (with "…").
LABEL_MAX = 18
# Series colours (RGB, readable on dark and light backgrounds), in team order; plotext's
# "clear" theme draws every series in the default colour otherwise.
PALETTE = ((230, 85, 13), (49, 130, 189), (49, 163, 84), (158, 154, 200), (214, 39, 40), (140, 86, 75),
           (227, 119, 194), (188, 189, 34), (23, 190, 207), (127, 127, 127))
# Line marker: quadrant blocks ("hd") are in common monospace fonts, so the SVG export
# lines up as on screen (braille dots are not, and drift in an SVG viewer).
MARKER = "hd"


@dataclass(frozen=True)
class Chart:
    """A named chart: `draw(summary, width, height)` returns what to show."""

    key: str
    title: str
    draw: Callable[[SeasonSummary, int, int], RenderableType]


def _label(name: str) -> str:
    """A name as plotext gets it: inert (no control characters), short."""
    text = inert(name)
    return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 1] + "…"


def _plot(width: int, height: int):  # noqa: ANN202 - textual_plotext.Plot
    from textual_plotext import Plot

    plot = Plot()
    plot.plotsize(max(width, 20), max(height, 6))
    plot.theme(PLOT_THEME)
    return plot


def _ansi(plot) -> Text:  # noqa: ANN001
    text = Text.from_ansi(plot.build(), no_wrap=True)
    text.rstrip_end(0)
    while text.plain.endswith("\n"):  # plotext ends its figure with an empty line
        text.right_crop(1)
    return text


def _legend(entries: list[tuple[str, tuple[int, int, int]]], width: int) -> Text:
    """A legend under a chart, entries never split across lines (plotext's own legend
    sits on the plot and hides what is drawn in its top-left corner)."""
    legend = Text(no_wrap=True, overflow="ellipsis")
    used = 0
    for name, (r, g, b) in entries:
        size = len(name) + 4  # mark, space, name, two spaces
        if used and used + size - 2 > width:
            legend.append("\n")
            used = 0
        legend.append("■ ", style=f"rgb({r},{g},{b})")
        legend.append(name + "  ")
        used += size
    return legend


def _legend_rows(entries: list[tuple[str, tuple[int, int, int]]], width: int) -> int:
    """Lines the legend takes at `width` cells."""
    return _legend(entries, width).plain.count("\n") + 1


def _with_legend(plot, entries: list[tuple[str, tuple[int, int, int]]], width: int) -> RenderableType:  # noqa: ANN001
    return Group(_ansi(plot), _legend(entries, width))


def _empty(message: str) -> Text:
    return Text(message, style="dim")


def progression(side: str) -> Callable[[SeasonSummary, int, int], RenderableType]:
    """Each team's official score per round (the rate, ASR or DSR, for a side whose
    scores are missing in some round), one line per team."""

    def draw(summary: SeasonSummary, width: int, height: int) -> RenderableType:
        teams = summary.attackers if side == "attacker" else summary.defenders
        use_score = all(r is None or r.score is not None for t in teams for r in t.rounds)
        what = "score" if use_score else ("ASR %" if side == "attacker" else "DSR %")
        legend_rows = _legend_rows([(_label(t.name), PALETTE[0]) for t in teams], width)
        plot = _plot(width, height - legend_rows)
        entries = []
        for k, team in enumerate(teams):
            points = [(k + 1, r.score if use_score else r.rate) for k, r in enumerate(team.rounds) if r is not None]
            points = [(x, y) for x, y in points if y is not None]
            if not points:
                continue
            colour = PALETTE[k % len(PALETTE)]
            plot.plot([x for x, _ in points], [y for _, y in points], marker=MARKER, color=colour)
            entries.append((_label(team.name), colour))
        if not entries:
            return _empty(f"no {side} has a {what} yet")
        positions = list(range(1, len(summary.rounds) + 1))
        # Rounds by number: plotext places long tick labels differently from one process to
        # the next (set order under hash randomisation); the names are in the screen's
        # status line and the tables.
        plot.xticks(positions, [str(r.position) for r in summary.rounds])
        plot.xlabel("round")
        plot.xlim(0.8, len(summary.rounds) + 0.2)
        plot.title(f"{side}s: {what} per round")
        return _with_legend(plot, entries, width)

    return draw


def successes_by_reason(summary: SeasonSummary, width: int, height: int) -> RenderableType:
    """Attack successes per round by reason (the paper's Fig. 4): vulnerable code (the
    static stage) and malicious assistance (the annotators), stacked."""
    counts = summary.report.counts
    if not counts:
        return _empty("no round evaluated yet")
    entries = [("vulnerable code (static stage)", PALETTE[0]), ("malicious assistance (annotators)", PALETTE[1])]
    plot = _plot(width, height - _legend_rows(entries, width))
    plot.stacked_bar([_label(c.tournament) for c in counts],
                     [[c.vulnerable_code for c in counts], [c.malicious_assistance for c in counts]],
                     color=[PALETTE[0], PALETTE[1]])
    plot.title("attack successes by reason per round (Fig. 4)")
    return _with_legend(plot, entries, width)


def latency(summary: SeasonSummary, width: int, height: int) -> RenderableType:
    """Mean response time of every bot over the season, one bar each."""
    if not summary.latency:
        return _empty("no timed turn yet")
    totals: dict[tuple[str, str], tuple[float, int]] = {}
    for s in summary.latency:
        seconds, turns = totals.get((s.side, s.bot), (0.0, 0))
        totals[(s.side, s.bot)] = (seconds + s.mean * s.turns, turns + s.turns)
    keys = sorted(totals, key=lambda k: (k[0], k[1]), reverse=True)
    plot = _plot(width, height)
    plot.bar([f"{_label(bot)} ({side[0]})" for side, bot in keys], [totals[k][0] / totals[k][1] for k in keys],
             orientation="h", width=0.6, color=PALETTE[1])
    plot.title("mean response time (s); a attacker, d defender")
    return _ansi(plot)


# Heat-map colours, from no agreement (or worse) to perfect agreement.
_HEAT = ("#7f1d1d", "#9a3412", "#a16207", "#4d7c0f", "#15803d")


def agreement_heatmap(summary: SeasonSummary, width: int = 0, height: int = 0) -> RenderableType:
    """Pairwise Cohen's κ of the annotators over the season's labels, as a grid of cells
    coloured by κ (≤ 0 red .. 1 green) with the value and the shared items."""
    matrix = summary.pairwise
    if matrix is None:
        return _empty("nobody has labelled yet: no agreement to show")
    names = [str(a) for a in matrix.annotators]
    table = Table(title="pairwise Cohen's κ over the season (shared items)", title_justify="left",
                  box=None, padding=(0, 1), show_edge=False)
    table.add_column("")
    for name in names:
        table.add_column(inert_text(_label(name)), justify="center")
    for i, row in enumerate(matrix.kappa):
        cells: list[Text] = [inert_text(_label(names[i]))]
        for j, estimate in enumerate(row):
            if estimate is None or estimate.value != estimate.value:
                cells.append(Text("·" if i == j else "n/a", style="dim"))
                continue
            shade = _HEAT[min(len(_HEAT) - 1, max(0, int(estimate.value * len(_HEAT))))]
            cells.append(Text(f" {estimate.value:+.2f} ({matrix.shared[i][j]}) ", style=f"bold white on {shade}"))
        table.add_row(*cells)
    legend = Text.assemble("κ: ", *((f" {low:.1f}+ ", f"white on {colour}")
                                    for low, colour in zip((-1.0, 0.2, 0.4, 0.6, 0.8), _HEAT, strict=True)))
    return Group(table, Text(""), legend)


CHARTS: tuple[Chart, ...] = (
    Chart("attackers", "attackers per round", progression("attacker")),
    Chart("defenders", "defenders per round", progression("defender")),
    Chart("reasons", "successes by reason (Fig. 4)", successes_by_reason),
    Chart("agreement", "pairwise agreement", agreement_heatmap),
    Chart("latency", "response times", latency),
)


# plotext keeps some state at module level: charts are drawn one at a time (a few ms each).
_PLOT_LOCK = threading.Lock()


def draw_chart(chart: Chart, summary: SeasonSummary, width: int, height: int) -> RenderableType:
    """Draw `chart` at a size; safe to call from any thread."""
    with _PLOT_LOCK:
        return chart.draw(summary, width, height)


def chart(key: str) -> Chart:
    """The chart of that key; KeyError if none."""
    for c in CHARTS:
        if c.key == key:
            return c
    raise KeyError(key)


def chart_svg(renderable: RenderableType, width: int, title: str) -> str:
    """`renderable` as an SVG image of a terminal `width` cells wide (Rich's export)."""
    import io

    from rich.console import Console

    console = Console(record=True, width=width, file=io.StringIO(), color_system="truecolor", force_terminal=True)
    console.print(renderable)
    return console.export_svg(title=inert(title))


# Size of a chart in a report's image, in terminal cells: wide enough for ten teams'
# legend, tall enough to tell rounds apart.
REPORT_CHART_SIZE = (100, 28)


def write_chart_files(summary: SeasonSummary, markdown: Path) -> list[tuple[Chart, Path]]:
    """Write every chart as an SVG file next to the report `markdown` (``report.md`` gives
    ``report.attackers.svg`` ...), each through a temporary file renamed at the end; the
    charts and the files written, in order."""
    from core.data.export import atomic_writer

    width, height = REPORT_CHART_SIZE
    written = []
    for c in CHARTS:
        path = markdown.with_name(f"{markdown.stem}.{c.key}.svg")
        svg = chart_svg(draw_chart(c, summary, width, height), width, c.title)
        with atomic_writer(path) as fh:
            fh.write(svg)
        written.append((c, path))
    return written


def charts_markdown(written: list[tuple[Chart, Path]]) -> str:
    """The report's section linking the chart images (relative to the markdown)."""
    lines = ["", "## Charts", ""]
    for c, path in written:
        lines += [f"![{c.title}]({path.name})", ""]
    return "\n".join(lines)
