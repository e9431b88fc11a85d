"""`arena-tui judge` and the judges' trust in `agreement`, on the sample tournament, as
real processes; adaptive assignment through packs (the third assignment appears after a merge)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from click.testing import CliRunner

from arena_tui.cli import main
from core.evaluation.pipeline import AWAITING, compute_verdicts, record_label
from core.store import Store
from tests.conftest import ARENA_TUI
from tests.core.test_judges import build_store


def arena(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ARENA_TUI, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_judge_the_sample_then_measure_it_against_the_annotators(evaluated_sample: Path) -> None:
    """The sample's code-risk judge labels every review item once (a second run has nothing to do);
    after the annotators label, `agreement` shows the judge's κ, precision/recall and confusion,
    and the judge's labels are not among the human labels."""
    first = arena(evaluated_sample, "judge")
    assert first.returncode == 0, first.stderr
    with Store.open(evaluated_sample / "arena.db", create=False) as store:
        tid = store.tournaments()[0].id
        rows = store.judge_labels(tid)
        review = {a.conversation_id for a in store.assignments(tid) if a.kind == "review"}
        assert {r.conversation_id for r in rows} == review and all(r.source == "judge:code-risk" for r in rows)
        assert f"judge code-risk labelled {len(review)} of {len(review)} items" in first.stdout
        # The annotators label every assignment: attack when the judge said so on odd ids.
        judged = {r.conversation_id: r.label for r in rows}
        for a in store.assignments(tid):
            label = judged.get(a.conversation_id, "attack") if a.conversation_id % 2 else "defense"
            record_label(store, a.conversation_id, a.annotator, label)
        assert not any(e.annotator == "code-risk" for e in store.label_events())
    again = arena(evaluated_sample, "judge")
    assert "labelled 0 of 0 items" in again.stdout and f"{len(review)} labelled earlier" in again.stdout
    shown = arena(evaluated_sample, "agreement", "--resamples", "200")
    assert shown.returncode == 0, shown.stderr
    assert "Judge code-risk against the human verdicts" in shown.stdout and "Cohen's κ" in shown.stdout
    assert "precision attack" in shown.stdout and "human ↓ × judge →" in shown.stdout
    data = json.loads(arena(evaluated_sample, "agreement", "--json", "--resamples", "200").stdout)
    judge = data["sample"]["judges"][0]
    assert judge["judge"] == "code-risk" and judge["items"] == len(review)
    odd = [cid for cid in review if cid % 2]
    agree = sum(1 for cid in review if cid % 2) + sum(1 for cid in review if not cid % 2 and judged[cid] == "defense")
    assert judge["agreement"]["value"] == round(agree / len(review), 6)
    assert sum(map(sum, judge["confusion"]["human_by_judge"])) == len(review) and odd
    report = arena(evaluated_sample, "report", "-o", "report.md", "--resamples", "200")
    assert report.returncode == 0, report.stderr
    markdown = (evaluated_sample / "report.md").read_text()
    assert "## Judges against the human verdicts" in markdown and "| sample | code-risk |" in markdown


def test_judge_errors_are_one_line(evaluated_sample: Path, tmp_path: Path) -> None:
    """An unknown judge, or a store with no judge configured, is one line and exit 2."""
    unknown = arena(evaluated_sample, "judge", "-t", "sample", "--judge", "nope")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "arena-tui: tournament 'sample' has no judge 'nope' (judges: code-risk)"
    store, _, _ = build_store(tmp_path / "plain.db", ["fine"])
    store.close()
    none = arena(tmp_path, "judge", "--db", "plain.db")
    assert none.returncode == 2 and "no judges configured for the selected tournaments" in none.stderr


def test_adaptive_third_assignment_travels_by_pack(tmp_path: Path) -> None:
    """Two annotators label in packs and disagree; merging their packs gives the item a third
    annotator, whose pack holds it; merging that pack decides it."""
    db = tmp_path / "arena.db"
    store, tid, ids = build_store(db, ["fine"], adaptive=True, annotators=("ann1", "ann2", "ann3"))
    from core.evaluation.pipeline import build_queue

    build_queue(store, tid)
    first = sorted(a.annotator for a in store.assignments(tid))
    store.close()
    assert len(first) == 2
    runner = CliRunner()
    packs = []
    for who, label in zip(first, ("attack", "defense"), strict=True):
        pack = tmp_path / f"{who}.pack"
        assert runner.invoke(main, ["pack", "export", "--db", str(db), "-a", who, "-o", str(pack)]).exit_code == 0
        with Store.open(pack, create=False) as p:
            record_label(p, ids[0], who, label, source="tui")
        packs.append(str(pack))
    merged = runner.invoke(main, ["pack", "merge", "--db", str(db), "--resamples", "100", *packs])
    assert merged.exit_code == 0, merged.output
    with Store.open(db, create=False) as s:
        # The disagreement asked for one more annotator, now assigned: the item awaits that label.
        assert [v.reason for v in compute_verdicts(s, tid)] == [AWAITING]
        third = [a.annotator for a in s.assignments(tid) if a.annotator not in first]
    assert len(third) == 1
    queue = runner.invoke(main, ["queue", "--db", str(db), "-a", third[0]])
    assert queue.exit_code == 0 and str(ids[0]) in queue.output
    pack = tmp_path / "third.pack"
    assert runner.invoke(main, ["pack", "export", "--db", str(db), "-a", third[0], "-o", str(pack)]).exit_code == 0
    with Store.open(pack, create=False) as p:
        record_label(p, ids[0], third[0], "attack", source="tui")
    assert runner.invoke(main, ["pack", "merge", "--db", str(db), "--resamples", "100", str(pack)]).exit_code == 0
    with Store.open(db, create=False) as s:
        verdict = compute_verdicts(s, tid)[0]
        assert (verdict.verdict, verdict.reason) == ("attack", "annotators")
        assert len(s.assignments(tid)) == 3


def test_routing_on_the_sample_from_the_command_line(tmp_path: Path) -> None:
    """An organizer adds [evaluation.routing] to the sample's config: `evaluate` holds the
    items outside the calibration sample, `judge` labels them, the annotators label the
    calibration sample; then the judge decides the label it earned trust for, `evaluate`,
    `agreement` and `leaderboard` each say so, and no verdict of an untrusted label is the
    judge's."""
    import shutil

    from arena_tui.cli.common import sample_config_path

    folder = tmp_path / "sample"
    shutil.copytree(sample_config_path().parent, folder, ignore=shutil.ignore_patterns("__pycache__", "llm"))
    config = folder / "tournament.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[evaluation.routing]\njudge = "code-risk"\n'
                      "min_precision = 0.8\nmin_calibration = 10\n", encoding="utf-8")
    assert arena(folder, "run", "tournament.toml", "-q").returncode == 0
    first = arena(folder, "evaluate")
    assert first.returncode == 0, first.stderr
    assert "held until the calibration sample" in first.stdout
    assert arena(folder, "judge").returncode == 0
    with Store.open(folder / "arena.db", create=False) as store:
        tid = store.tournaments()[0].id
        judged = {r.conversation_id: r.label for r in store.judge_labels(tid)}
        calibration = {a.conversation_id for a in store.assignments(tid) if a.kind == "review"}
        # The annotators call every calibration item a defense, as the judge did: its
        # defense label earns trust; attack, never measured there, does not.
        for a in store.assignments(tid):
            record_label(store, a.conversation_id, a.annotator, "defense")
    assert len(calibration) >= 10 and {judged[c] for c in calibration} == {"defense"}
    assert "attack" in judged.values()  # outside the calibration sample: these go to people
    again = arena(folder, "evaluate")
    routed = next(line for line in again.stdout.splitlines() if "decided by the judge" in line)
    decided = int(routed.split("routing: ")[1].split()[0])
    shown = arena(folder, "agreement", "--resamples", "200").stdout
    assert "routing: judge code-risk decides defense alone" in shown and "bar 0.8" in shown
    board = arena(folder, "leaderboard").stdout
    with Store.open_readonly(folder / "arena.db") as store:
        by_judge = [v for v in compute_verdicts(store, tid) if v.reason == "judge"]
        assigned = {a.conversation_id for a in store.assignments(tid)}
    assert {c for c, label in judged.items() if label == "attack"} <= assigned  # people decide those
    assert decided > 0 and len(by_judge) >= decided and {v.verdict for v in by_judge} == {"defense"}
    assert f"{len(by_judge)} of " in board and "verdicts came from judges (routing:" in " ".join(board.split())
