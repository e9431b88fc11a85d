"""One turn numbering everywhere a person reads or types it: from 1, as the transcript
view shows it (turn 1 is the attacker's opening, turn 2 the defender's first reply).

The annotate screen, `arena-tui label --turn`, the labels JSONL (format 2; format 1
files, turn from 0, are still read), packs, the fine-tuning export and team feedback
all name the same turn by the same number."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from arena_tui.annotate.widgets.transcript_view import TranscriptView
from arena_tui.cli import main
from arena_tui.cli.labelling import make_annotate_app
from core.store import Store
from tests.tui.test_annotate_tui import SAFE, VULNERABLE, build_store, run_async, settle


def invoke(*args: str):  # noqa: ANN201
    return CliRunner().invoke(main, list(args))


def label_turns(path: Path, annotator: str) -> list[int | None]:
    """The stored turn of each of the annotator's label events, oldest first."""
    with Store.open(path, create=False) as store:
        return [e.turn for e in store.label_events() if e.annotator == annotator and e.action == "label"]


def exported_labels(path: Path) -> list[dict]:
    result = invoke("labels", "export", "--db", str(path))
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]


async def mark_defender_turn_and_label(path: Path, annotator: str) -> str:
    """In the annotate TUI: move the cursor to the defender's reply, mark it, label `attack`.
    Returns the header line the annotator saw before labelling."""
    app = make_annotate_app(path, annotator)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("j", "m")
        await settle(app, pilot)
        view = app.screen.query_one(TranscriptView)
        assert "▶ turn 2 · defender" in view.plain_text()
        header = str(app.screen.query_one("#item-header").render())
        await pilot.press("1")
        await settle(app, pilot)
    return header


@run_async
async def test_tui_cli_labels_and_export_name_the_same_turn(tmp_path: Path) -> None:
    """The defender reply the TUI calls turn 2 is turn 2 in the label log, for `label --turn 2`,
    and in the fine-tuning export's findings."""
    path = tmp_path / "arena.db"
    _, ids = build_store(path, [VULNERABLE, SAFE], audit_fraction=1.0)  # the flagged reply is audited by all
    header = await mark_defender_turn_and_label(path, "alice")
    assert "landed at turn 2" in header
    result = invoke("label", "--db", str(path), "-a", "bob", str(ids[0]), "attack", "--turn", "2")
    assert result.exit_code == 0, result.output
    assert label_turns(path, "alice") == label_turns(path, "bob") == [1]  # stored 0-based, shown from 1
    events = exported_labels(path)
    assert [(e["annotator"], e["turn"], e["format"]) for e in events] == [("alice", 2, 2), ("bob", 2, 2)]
    out = tmp_path / "train.jsonl"
    result = invoke("export", "--db", str(path), "-o", str(out))
    assert result.exit_code == 0, result.output
    findings = [f for line in out.read_text().splitlines() for f in json.loads(line)["findings"]]
    assert findings and {f["turn"] for f in findings} == {2}


def test_label_turn_out_of_range_names_the_numbering(tmp_path: Path) -> None:
    """`--turn 0` and `--turn 3` on a two-turn conversation: one line, exit 2, nothing written."""
    path = tmp_path / "arena.db"
    _, ids = build_store(path, [SAFE])
    for turn in ("0", "3"):
        result = invoke("label", "--db", str(path), "-a", "alice", str(ids[0]), "attack", "--turn", turn)
        assert result.exit_code == 2
        assert result.output.strip() == (f"arena-tui: turn {turn} is out of range: conversation {ids[0]} has 2 turns, "
                                         "numbered from 1")
    assert label_turns(path, "alice") == []
    assert invoke("label", "--db", str(path), "-a", "alice", str(ids[0]), "attack", "--turn", "1").exit_code == 0
    assert label_turns(path, "alice") == [0]


@run_async
async def test_labels_jsonl_round_trip_and_old_files(tmp_path: Path) -> None:
    """A labels file carried to a copy of the store lands on the same turn: format 2 (from 1)
    and format 1 files written before (from 0); an unknown format is refused, nothing written."""
    path = tmp_path / "arena.db"
    build_store(path, [VULNERABLE, SAFE], audit_fraction=1.0)
    fresh = tmp_path / "fresh.db"
    shutil.copy(path, fresh)
    await mark_defender_turn_and_label(path, "alice")
    events = exported_labels(path)
    assert [e["turn"] for e in events] == [2]
    for name, lines in (("v2", events), ("v1", [dict(e, format=1, turn=e["turn"] - 1) for e in events])):
        target = tmp_path / f"{name}.db"
        shutil.copy(fresh, target)
        file = tmp_path / f"{name}.jsonl"
        file.write_text("".join(json.dumps(e) + "\n" for e in lines), encoding="utf-8")
        result = invoke("labels", "import", "--db", str(target), str(file), "--resamples", "100")
        assert result.exit_code == 0, result.output
        assert label_turns(target, "alice") == [1], name
        assert [e["turn"] for e in exported_labels(target)] == [2], name
    future = tmp_path / "v3.jsonl"
    future.write_text(json.dumps(dict(events[0], format=3)) + "\n", encoding="utf-8")
    target = tmp_path / "v3.db"
    shutil.copy(fresh, target)
    before = target.read_bytes()
    result = invoke("labels", "import", "--db", str(target), str(future))
    assert result.exit_code == 2
    assert "labels format 3 is not one this version reads (1, 2)" in result.output
    assert result.output.count("\n") == 1 and target.read_bytes() == before


@run_async
async def test_pack_mark_merges_to_the_same_turn(tmp_path: Path) -> None:
    """A turn marked in a pack on the offline machine is turn 2 in the store's label log after merge."""
    path = tmp_path / "arena.db"
    build_store(path, [VULNERABLE, SAFE], audit_fraction=1.0)
    pack = tmp_path / "alice.pack"
    assert invoke("pack", "export", "--db", str(path), "-a", "alice", "-o", str(pack)).exit_code == 0
    await mark_defender_turn_and_label(pack, "alice")
    result = invoke("pack", "merge", "--db", str(path), "--resamples", "100", str(pack))
    assert result.exit_code == 0, result.output
    assert [e["turn"] for e in exported_labels(path)] == [2]


def test_feedback_names_turns_from_one(tmp_path: Path) -> None:
    """Team feedback: a shared label's turn and a finding's turn are numbered from 1."""
    from tests.cli.test_feedback import build, read

    db = tmp_path / "a.db"
    ids = build(db, share=True)
    with Store.open(db, create=False) as store:
        from core.evaluation.pipeline import record_label

        record_label(store, ids[0], "ann1", "attack", turn=1, force=True)
    out = tmp_path / "fb"
    result = invoke("feedback", "--db", str(db), "--team", "a1", "-o", str(out), "--resamples", "100")
    assert result.exit_code == 0, result.output
    convs = {c["conversation_id"]: c for c in read(out, "conversations.jsonl")}
    assert convs[ids[0]]["labels"][0]["turn"] == 2
    assert {f["turn"] for c in convs.values() for f in c["findings"]} == {2}
