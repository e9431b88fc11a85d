"""The dataset report screen (annotate's `R`) shows attack success by technique ×
defender, with hostile defender names shown as written."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from textual.app import App
from textual.widgets import Static

from arena_tui.annotate.screens.report import ReportScreen
from tests.core.test_techniques import build
from tests.tui.test_annotate_tui import run_async, settle


@run_async
async def test_report_screen_has_the_technique_table(tmp_path: Path) -> None:
    """Opened on a store whose replies named techniques, the report screen fills in a table
    with one row per technique (and converters) and a column per defender; a defender
    named like markup is shown literally."""
    build(tmp_path / "arena.db", {"guard": "[bold]guard[/]"}).close()
    app = App()
    async with app.run_test(size=(160, 50)) as pilot:
        await app.push_screen(ReportScreen(tmp_path / "arena.db", resamples=50))
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ReportScreen) and screen.report is not None
        console = Console(width=200, record=True, file=io.StringIO())
        console.print(screen.query_one("#report-tables", Static).content)
        shown = console.export_text()
    assert "Attack success by technique × defender" in shown
    header = next(line for line in shown.splitlines() if "all defenders" in line)
    assert "[bold]guard[/]" in header and "naive" in header
    row = next(line for line in shown.splitlines() if "direct + base64" in line)
    cells = [cell.strip() for cell in row.split("│")[2:5]]
    assert cells == ["66.7 % (20.8–93.9) n=3", "50.0 % (9.5–90.5) n=2", "100.0 % (20.7–100.0) n=1"]
    assert next(line for line in shown.splitlines() if "crescendo + leetspeak + base64" in line).count("n=2") == 2


def test_transcript_headers_name_the_technique(tmp_path: Path) -> None:
    """The one transcript renderer (watch and annotate) puts the technique with its
    converters in a turn's header when the reply named one, and nothing otherwise."""
    from arena_tui.common.transcript import TranscriptOptions, turn_header

    with build(tmp_path / "arena.db") as store:
        conversation = store.conversations(store.tournaments()[0].id)[0]
        turns = store.turns(conversation.id)
    headers = [turn_header(t, TranscriptOptions()).plain for t in turns]
    assert headers[0] == "  turn 1 · attacker · 0.10 s · direct + base64"
    assert headers[1] == "  turn 2 · defender · 0.10 s · output-check"
    plain = replace(turns[0], technique=None, converters=None)
    assert turn_header(plain, TranscriptOptions()).plain == "  turn 1 · attacker · 0.10 s"
