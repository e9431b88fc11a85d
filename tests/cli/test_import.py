"""arena-tui import: chat and native JSONL become a tournament; bad records name their line; nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from arena_tui.cli import main
from core.data.export import ExportFilters, export_conversations
from core.store import Store
from tests.core.test_evaluation_pipeline import REFUSAL, SAFE, VULNERABLE, build_store


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def chat(attack: str, reply: str, **meta: str) -> dict:
    return {"messages": [{"role": "system", "content": "be safe"}, {"role": "user", "content": attack},
                         {"role": "assistant", "content": reply}], **meta}


def test_export_then_import_round_trips(tmp_path: Path) -> None:
    """What `export` writes, `import` reads back: same transcripts, bots from the metadata, searchable turns."""
    store, tid, _ = build_store(tmp_path / "a.db", [VULNERABLE, SAFE, REFUSAL])
    for fmt in ("chat-jsonl", "jsonl"):
        out = tmp_path / f"{fmt}.jsonl"
        export_conversations(store, [tid], ExportFilters(include_undecided=True), out, fmt=fmt)
        result = CliRunner().invoke(main, ["import", "--db", str(tmp_path / "b.db"), str(out), "-t", fmt, "--kind", "official"])
        assert result.exit_code == 0, result.output
    original = list(store.transcripts(tid))
    store.close()
    with Store.open(tmp_path / "b.db", create=False) as b:
        for fmt in ("chat-jsonl", "jsonl"):
            t = b.tournament(fmt)
            assert t.kind == "official" and b.status_counts(t.id)["complete"] == 3
            assert list(b.transcripts(t.id)) == original
        assert b.search_turns("subprocess")


def test_defaults_and_evaluation(tmp_path: Path) -> None:
    """Without bot names the bots are imported-attacker/-defender; the tournament can be evaluated."""
    from core.evaluation.pipeline import compute_verdicts, run_static_stage

    path = write_jsonl(tmp_path / "in.jsonl", [chat("write code", VULNERABLE), chat("hi", SAFE)])
    result = CliRunner().invoke(main, ["import", "--db", str(tmp_path / "b.db"), str(path)])
    assert result.exit_code == 0, result.output
    with Store.open(tmp_path / "b.db", create=False) as b:
        t = b.tournament("in")
        assert [(m.attacker, m.defender) for m in b.matchups(t.id)] == [("imported-attacker", "imported-defender")]
        run_static_stage(b, t.id)
        assert [v.verdict for v in compute_verdicts(b, t.id)] == ["attack", None]


def test_bad_record_names_its_line_and_writes_nothing(tmp_path: Path) -> None:
    """A malformed record on line 3 → one error line with the line number, no tournament; --skip-invalid imports the rest."""
    db = tmp_path / "b.db"
    build_store(db, [SAFE])[0].close()
    before = db.read_bytes()
    cases = [
        "{not json",
        {"messages": [{"role": "assistant", "content": "hi"}]},
        {"messages": [{"role": "user", "content": 3}]},
        {"turns": [{"role": "robot", "content": "x"}]},
        {"nothing": []},
        {"messages": [{"role": "user", "content": "a"}], "attacker": ""},
    ]
    for bad in cases:
        path = write_jsonl(tmp_path / "in.jsonl", [chat("a", "b"), chat("c", "d"), bad])
        result = CliRunner().invoke(main, ["import", "--db", str(db), str(path)])
        assert result.exit_code == 2 and "in.jsonl line 3:" in result.output, (bad, result.output)
        assert result.output.count("\n") == 1
        assert db.read_bytes() == before
    result = CliRunner().invoke(main, ["import", "--db", str(db), str(path), "--skip-invalid"])
    assert result.exit_code == 0 and "imported 2 conversations" in result.output and "skipped in.jsonl line 3" in result.output


def test_like_copies_the_roster_and_duplicate_names_refused(tmp_path: Path) -> None:
    """--like gives the imported tournament an annotator roster; importing under an existing name is refused."""
    db = tmp_path / "b.db"
    build_store(db, [SAFE])[0].close()
    path = write_jsonl(tmp_path / "in.jsonl", [chat("a", "b")])
    assert CliRunner().invoke(main, ["import", "--db", str(db), str(path), "--like", "t"]).exit_code == 0
    with Store.open(db, create=False) as s:
        assert s.tournament("in").settings.evaluation.annotators == ("ann1", "ann2", "ann3", "ann4")
    result = CliRunner().invoke(main, ["import", "--db", str(db), str(path)])
    assert result.exit_code == 2 and "already in" in result.output
