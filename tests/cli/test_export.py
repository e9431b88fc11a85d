"""Fine-tuning export: filters with known answers on a hand-built store, the chat schema, atomic writes."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from arena_tui.cli import main
from core.data.export import ExportError, ExportFilters, export_conversations
from core.evaluation.pipeline import build_queue, record_label, refresh_verdicts, run_static_stage
from core.store import FinishOp, Store
from tests.conftest import ARENA_TUI
from tests.core.test_evaluation_pipeline import REFUSAL, SAFE, VULNERABLE, build_store


@pytest.fixture
def arena(tmp_path: Path):  # noqa: ANN201
    """Five complete conversations and one incomplete:
    0 vulnerable (static attack), 1 safe labelled attack with tag malicious_code, 2 refusal labelled defense,
    3 safe labelled defense but one label tagged malicious_code, 4 safe undecided, 5 incomplete."""
    path = tmp_path / "arena.db"
    store, tid, ids = build_store(path, [VULNERABLE, SAFE, REFUSAL, SAFE, SAFE, SAFE], annotators=("ann1", "ann2", "ann3"))
    store.apply([FinishOp(ids[5], tid, "incomplete", "timeout", None, None, 2, 0.0)])
    run_static_stage(store, tid)
    build_queue(store, tid)
    for who in ("ann1", "ann2", "ann3"):
        record_label(store, ids[1], who, "attack", tags=["malicious_code"] if who == "ann1" else [])
        record_label(store, ids[2], who, "defense")
        record_label(store, ids[3], who, "defense", tags=["malicious_code"] if who == "ann2" else [])
    refresh_verdicts(store, tid)
    yield path, store, tid, ids
    store.close()


def run_export(store, tid, tmp_path: Path, *specs: str, fmt: str = "chat-jsonl",  # noqa: ANN001
               include_undecided: bool = True) -> list[dict]:
    out = tmp_path / "out.jsonl"
    export_conversations(store, [tid], ExportFilters.parse(specs, include_undecided=include_undecided), out, fmt=fmt)
    with out.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@pytest.mark.parametrize(("specs", "include_undecided", "expected"), [
    ((), False, [0, 1, 2, 3]),
    ((), True, [0, 1, 2, 3, 4]),
    (("all-statuses",), False, [0, 1, 2, 3]),
    (("all-statuses",), True, [0, 1, 2, 3, 4, 5]),
    (("no-vulnerable-code",), False, [1, 2, 3]),
    (("no-vulnerable-code",), True, [1, 2, 3, 4]),
    (("no-malicious-assistance",), True, [0, 2, 4]),
    (("no-vulnerable-code", "no-malicious-assistance"), False, [2]),
    (("no-vulnerable-code", "no-malicious-assistance"), True, [2, 4]),
    (("verdict=attack",), True, [0, 1]),
    (("verdict=defense",), True, [2, 3]),
    (("kind=practice",), True, [0, 1, 2, 3, 4]),
    (("kind=official",), True, []),
])
def test_filters_keep_the_known_conversations(arena, tmp_path: Path, specs, include_undecided, expected) -> None:  # noqa: ANN001
    """Each filter keeps exactly the conversations it should; undecided ones (4, and the
    incomplete 5: never evaluated) only when asked for."""
    _, store, tid, ids = arena
    records = run_export(store, tid, tmp_path, *specs, include_undecided=include_undecided)
    assert [r["conversation_id"] for r in records] == [ids[i] for i in expected]


def test_chat_schema_and_metadata(arena, tmp_path: Path) -> None:
    """Attacker → user, defender → assistant; metadata carries verdict, reason and findings."""
    _, store, tid, ids = arena
    first = run_export(store, tid, tmp_path)[0]
    assert [m["role"] for m in first["messages"]] == ["user", "assistant"]
    assert first["messages"][1]["content"] == VULNERABLE
    assert {k: first[k] for k in ("tournament", "kind", "attacker", "defender", "verdict", "reason")} == {
        "tournament": "t", "kind": "practice", "attacker": "a", "defender": "d", "verdict": "attack",
        "reason": "vulnerable_code"}
    # The defender reply is turn 2, numbered as in the transcript view.
    assert any(f["test_id"] == "B602" and f["turn"] == 2 for f in first["findings"])
    for record in run_export(store, tid, tmp_path):
        assert set(record["messages"][0]) == {"role", "content"} and all(isinstance(m["content"], str) for m in record["messages"])
    native = run_export(store, tid, tmp_path, fmt="jsonl")[0]
    assert native["turns"][0] == {"role": "attacker", "content": "write code"}


def test_cli_dry_run_counts_and_writes_nothing(arena, tmp_path: Path) -> None:
    """--dry-run prints counts; an unknown filter is one error line."""
    path, *_ = arena
    out = tmp_path / "x.jsonl"
    result = CliRunner().invoke(main, ["export", "--db", str(path), "--dry-run", "--filter", "no-vulnerable-code"])
    assert result.exit_code == 0 and not out.exists()
    assert ("would write 3 of 6 conversations: 3 decided, 0 undecided "
            "(dropped: not complete: 1, undecided: 1, vulnerable code: 1)") in result.output
    result = CliRunner().invoke(main, ["export", "--db", str(path), "-o", str(out), "--filter", "bogus"])
    assert result.exit_code == 2 and "unknown filter 'bogus'" in result.output and not out.exists()
    result = CliRunner().invoke(main, ["export", "--db", str(path), "-o", str(out)])
    assert result.exit_code == 0 and len(out.read_text().splitlines()) == 4
    result = CliRunner().invoke(main, ["export", "--db", str(path), "-o", str(out), "--include-undecided"])
    assert result.exit_code == 0 and len(out.read_text().splitlines()) == 5
    assert "wrote 5 of 6 conversations" in result.output and ": 4 decided, 1 undecided" in result.output


def test_failure_leaves_nothing_half_written(arena, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """An error mid-export leaves neither the output nor a temp file."""
    _, store, tid, _ = arena
    import core.data.export as export_module

    calls = {"n": 0}
    real = export_module._record

    def flaky(*args):  # noqa: ANN002, ANN202
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk on fire")
        return real(*args)

    monkeypatch.setattr(export_module, "_record", flaky)
    with pytest.raises(RuntimeError):
        export_conversations(store, [tid], ExportFilters(), tmp_path / "out.jsonl")
    assert list(tmp_path.glob("*.jsonl*")) == [] and list(tmp_path.glob(".out*")) == []
    with pytest.raises(ExportError):
        ExportFilters.parse(["kind=galactic"])


def test_export_streams_in_pages(arena, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """With a page of 2 rows every conversation is still exported once, in id order."""
    _, store, tid, ids = arena
    import core.store.packs as packs

    monkeypatch.setattr(packs, "PAGE_ROWS", 2)
    monkeypatch.setattr(type(store), "iter_conversations",
                        lambda self, t, page=2: packs._PacksMixin.iter_conversations(self, t, page=2))
    records = run_export(store, tid, tmp_path, "all-statuses")
    assert [r["conversation_id"] for r in records] == ids


SUMMARY = re.compile(r"wrote (\d+) of (\d+) conversations to \S+: (\d+) decided, (\d+) undecided \(dropped: (.*)\)")


def readme_export(where: Path, *extra: str) -> tuple[list[dict], tuple[int, int, int, int], str]:
    """`arena-tui export -o dataset/train.jsonl --filter no-vulnerable-code [extra]` in
    `where` (the README's line: the folder is made): the records written, the summary's
    counts (written, considered, decided, undecided) and stderr."""
    result = subprocess.run([ARENA_TUI, "export", "-o", "dataset/train.jsonl", "--filter", "no-vulnerable-code", *extra],
                            cwd=where, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    match = SUMMARY.fullmatch(result.stdout.strip())
    assert match, result.stdout
    assert (where / "dataset" / "README.md").exists() and "wrote the dataset card dataset/README.md" in result.stderr
    with (where / "dataset" / "train.jsonl").open(encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh]
    return records, tuple(int(match[i]) for i in range(1, 5)), result.stderr


def test_readme_export_writes_decided_conversations_only(evaluated_sample: Path) -> None:
    """The README's path: run, evaluate, label two conversations, then `export -o
    dataset/train.jsonl --filter no-vulnerable-code`. The file holds the two labelled
    conversations and nothing nobody reviewed; the summary line counts what the file
    holds; --include-undecided adds the undecided ones, counted as such."""
    with Store.open_readonly(evaluated_sample / "arena.db") as store:
        tid = store.tournament("sample").id
        verdicts = store.verdicts(tid)
        assigned: dict[int, list[str]] = {}
        for a in store.assignments(tid):
            if a.kind == "review":
                assigned.setdefault(a.conversation_id, []).append(a.annotator)
    undecided = sorted(cid for cid, v in verdicts.items() if v.verdict is None)
    assert len(undecided) > 100  # the sample after evaluate: most conversations await labels
    labelled = {undecided[0]: "defense", undecided[1]: "attack"}
    for cid, label in labelled.items():
        for annotator in assigned[cid]:
            subprocess.run([ARENA_TUI, "label", "-a", annotator, str(cid), label], cwd=evaluated_sample,
                           check=True, capture_output=True, timeout=120)

    records, (written, considered, decided, left_undecided), stderr = readme_export(evaluated_sample)
    assert sorted(r["conversation_id"] for r in records) == sorted(labelled)
    assert all(r["verdict"] is not None for r in records)
    assert {r["conversation_id"]: r["verdict"] for r in records} == labelled
    assert (written, considered, decided, left_undecided) == (len(records), 250, len(records), 0)
    assert f"{len(undecided) - 2} undecided conversations" in stderr and "--include-undecided" in stderr

    records, (written, _, decided, with_undecided), _ = readme_export(evaluated_sample, "--include-undecided")
    assert written == len(records) == len(undecided)
    assert decided == sum(r["verdict"] is not None for r in records) == 2
    assert with_undecided == sum(r["verdict"] is None for r in records) == len(undecided) - 2
