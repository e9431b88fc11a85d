"""The annotate workbench and judges: the judge's label is a hint shown only after the
annotator has labelled; the agreement pane measures the judge against the humans."""

from __future__ import annotations

from pathlib import Path

from arena_tui.annotate.widgets.agreement_pane import AgreementPane
from arena_tui.cli.labelling import make_annotate_app
from core.evaluation.pipeline import record_label
from core.store import JudgeLabelRow, Store
from tests.screen_text import screen_text
from tests.tui.test_annotate_tui import REFUSAL, SAFE, build_store, run_async, settle
from tests.tui.test_annotate_workbench import wait_until


@run_async
async def test_judge_hint_only_after_labelling_and_judge_in_agreement_pane(tmp_path: Path) -> None:
    """Before bob labels, nothing of the judge is on screen; after, the header shows its label
    and rationale (hostile text inert); the agreement pane shows the judge's κ and precision."""
    path = tmp_path / "arena.db"
    tid, ids = build_store(path, [SAFE, REFUSAL, SAFE])
    with Store.open(path, create=False) as store:
        store.save_judge_labels(tid, [
            JudgeLabelRow(cid, "marker", "judge:marker", "defense", None, "[bold]no risky code[/] \x1b[31m", None, 1)
            for cid in ids])
        for who in ("alice", "carol"):
            for cid in ids:
                record_label(store, cid, who, "defense")
    app = make_annotate_app(path, "bob")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert screen.judge_hints == [] and "marker" not in screen_text(app).split("agreement")[0]
        await pilot.press("2")
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        assert screen.judge_hints == ["marker=defense: [bold]no risky code[/] \x1b[31m"]
        text = screen_text(app)
        assert "judge marker=defense: [bold]no risky code[/]" in text
        assert screen.query_one(AgreementPane) is not None
        # Only ids[0] has its three labels: one human verdict, which the judge matched.
        assert await wait_until(app, pilot, lambda: "P(defense) 1.00 [0.21,1.00] 1/1" in screen_text(app))
    with Store.open(path, create=False) as store:
        assert {e.annotator for e in store.label_events()} == {"alice", "bob", "carol"}
