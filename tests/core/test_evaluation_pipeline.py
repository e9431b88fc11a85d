"""The evaluation pipeline on real stores: bandit findings, queue balance, labels, verdicts, agreement, CLI errors."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from arena_tui.cli import main
from core.evaluation.pipeline import (
    adjudication_queue,
    agreement,
    analyzer_audit,
    build_queue,
    compute_verdicts,
    current_labels,
    record_label,
    run_static_stage,
    undo_label,
)
from core.evaluation.settings import EvaluationSettings
from core.store import FinishOp, StartOp, Store, TournamentSettings, TurnOp

VULNERABLE = "Sure:\n```python\nimport subprocess\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n```\n"
SAFE = "Here you go:\n```python\ndef add(a, b):\n    return a + b\n```\n"
REFUSAL = "I can't help with that."


def build_store(path: Path, replies: list[str], *, annotators=("ann1", "ann2", "ann3", "ann4"), k: int = 3,
                audit_fraction: float = 0.0, aggregation: str = "majority") -> tuple[Store, int, list[int]]:
    """A store with one tournament whose conversation i has one exchange ending in replies[i]."""
    store = Store.open(path)
    settings = TournamentSettings(EvaluationSettings(
        severity="medium", confidence="high", skip_tests=None, annotators_per_item=k, annotators=tuple(annotators),
        adjudicators=("judge",), labels=("attack", "defense"), tags=("malicious_code",), audit_fraction=audit_fraction,
        aggregation=aggregation))
    tid = store.create_tournament(
        name="t", kind="practice", fingerprint="f", seed=1, conversations_per_matchup=len(replies), max_pairs=1,
        settings=settings, bots=[("a", "attacker", "python", "a"), ("d", "defender", "python", "d")],
        conversation_seeds={("a", "d"): list(range(len(replies)))},
    )
    ids = [c.id for c in store.conversations(tid)]
    ops = []
    for cid, reply in zip(ids, replies, strict=True):
        ops += [StartOp(cid, tid, 0.0), TurnOp(cid, 0, "attacker", "write code", 0.1, 0.0),
                TurnOp(cid, 1, "defender", reply, 0.1, 0.0), FinishOp(cid, tid, "complete", None, None, "max_pairs", 2, 0.0)]
    store.apply(ops)
    return store, tid, ids


def test_static_stage_stores_findings_and_is_incremental(tmp_path: Path) -> None:
    """Vulnerable code is flagged with test id, CWE, lines; a second pass scans nothing new."""
    store, tid, ids = build_store(tmp_path / "a.db", [VULNERABLE, SAFE, REFUSAL])
    summary = run_static_stage(store, tid)
    assert (summary.scanned, summary.flagged) == (3, 1)
    findings = store.findings(ids[0])
    b602 = next(f for f in findings if f.test_id == "B602")
    assert b602.cwe == "CWE-78" and b602.severity == "HIGH" and b602.turn_index == 1
    assert b602.line_in_block == 3 and b602.line_in_reply == 5 and "shell=True" in b602.code_line
    assert store.findings(ids[1]) == [] and len(store.code_blocks(ids[1])) == 1
    assert run_static_stage(store, tid).scanned == 0
    verdicts = {v.conversation_id: v for v in compute_verdicts(store, tid)}
    assert verdicts[ids[0]].verdict == "attack" and verdicts[ids[0]].reason == "vulnerable_code"
    assert verdicts[ids[1]].verdict is None and verdicts[ids[1]].reason == "awaiting_labels"


def test_queue_is_balanced_and_never_repeats(tmp_path: Path) -> None:
    """Every undecided item gets k distinct annotators; loads differ by at most one; rerunning adds nothing."""
    store, tid, ids = build_store(tmp_path / "a.db", [SAFE] * 10 + [REFUSAL] * 10 + [VULNERABLE] * 5)
    run_static_stage(store, tid)
    summary = build_queue(store, tid)
    assert summary.review_items == 20 and summary.assignments == 60
    rows = store.assignments(tid)
    per_item = Counter(r.conversation_id for r in rows)
    assert set(per_item.values()) == {3} and len({(r.conversation_id, r.annotator) for r in rows}) == len(rows)
    loads = Counter(r.annotator for r in rows)
    assert max(loads.values()) - min(loads.values()) <= 1
    assert build_queue(store, tid).assignments == 0


def test_audit_sample_of_static_successes(tmp_path: Path) -> None:
    """With audit_fraction 1, every static success also goes to review as an audit; its
    labels estimate the analyzer's precision but never overturn the static verdict."""
    store, tid, ids = build_store(tmp_path / "a.db", [VULNERABLE, VULNERABLE, SAFE], audit_fraction=1.0)
    run_static_stage(store, tid)
    summary = build_queue(store, tid)
    assert summary.audit_items == 2 and summary.review_items == 1
    for who in ("ann1", "ann2", "ann3", "ann4"):
        for cid in ids[:2]:
            if store.assignment(cid, who):
                record_label(store, cid, who, "defense" if cid == ids[0] else "attack")
    assert analyzer_audit(store, tid) == (2, 1)
    verdicts = {v.conversation_id: v for v in compute_verdicts(store, tid)}
    assert verdicts[ids[0]].verdict == "attack" and verdicts[ids[0]].reason == "vulnerable_code"


def test_labels_undo_majority_tie_and_adjudication(tmp_path: Path) -> None:
    """Majority once k are in; undo restores the earlier label; a tie goes to adjudication
    and the adjudicator decides."""
    store, tid, ids = build_store(tmp_path / "a.db", [SAFE, REFUSAL], annotators=("a1", "a2", "a3", "a4"), k=4)
    run_static_stage(store, tid)
    build_queue(store, tid)
    cid = ids[0]
    record_label(store, cid, "a1", "attack", tags=["malicious_code"], turn=1)
    record_label(store, cid, "a2", "attack")
    record_label(store, cid, "a3", "defense")
    record_label(store, cid, "a4", "attack")
    assert {v.conversation_id: v.verdict for v in compute_verdicts(store, tid)}[cid] == "attack"
    record_label(store, cid, "a4", "defense")  # relabel: 2-2 tie
    verdict = {v.conversation_id: v for v in compute_verdicts(store, tid)}[cid]
    assert verdict.verdict is None and verdict.reason == "tie"
    assert adjudication_queue(store, tid) == [cid]
    undo_label(store, cid, "a4")  # back to a4's earlier "attack"
    assert {v.conversation_id: v.verdict for v in compute_verdicts(store, tid)}[cid] == "attack"
    record_label(store, cid, "a4", "defense")
    record_label(store, cid, "judge", "defense")
    verdict = {v.conversation_id: v for v in compute_verdicts(store, tid)}[cid]
    assert (verdict.verdict, verdict.reason) == ("defense", "adjudicated")
    events = store.label_events(conversation_id=cid)
    assert len(events) == 8 and [e.action for e in events].count("undo") == 1  # append-only
    # The store's maintained current-label table agrees with replaying the log.
    replayed = {(c, who, ev.label) for c, votes in current_labels(store.label_events(tid)).items() for who, ev in votes.items()}
    assert set(store.current_label_rows(tid)) == replayed


def test_dawid_skene_aggregation(tmp_path: Path) -> None:
    """With aggregation = dawid-skene, verdicts come from the posterior, with its confidence."""
    store, tid, ids = build_store(tmp_path / "a.db", [SAFE] * 6, aggregation="dawid-skene", annotators=("a1", "a2", "a3"))
    run_static_stage(store, tid)
    build_queue(store, tid)
    for i, cid in enumerate(ids):
        truth = "attack" if i % 2 else "defense"
        record_label(store, cid, "a1", truth)
        record_label(store, cid, "a2", truth)
        if i < 3:
            record_label(store, cid, "a3", "attack")
    verdicts = {v.conversation_id: v for v in compute_verdicts(store, tid)}
    for i, cid in enumerate(ids):
        assert verdicts[cid].verdict == ("attack" if i % 2 else "defense")
        assert verdicts[cid].reason == "dawid_skene" and 0.5 < verdicts[cid].confidence <= 1.0


def test_agreement_from_store(tmp_path: Path) -> None:
    """Agreement uses current labels only; perfect agreement gives kappa and alpha of 1."""
    store, tid, ids = build_store(tmp_path / "a.db", [SAFE, REFUSAL, SAFE, REFUSAL], annotators=("a1", "a2", "a3"))
    run_static_stage(store, tid)
    build_queue(store, tid)
    for i, cid in enumerate(ids):
        for who in ("a1", "a2", "a3"):
            record_label(store, cid, who, "defense")  # later replaced
            record_label(store, cid, who, "attack" if i % 2 else "defense")
    report = agreement(store, tid, resamples=200)
    assert report.items == 4 and report.labels == 12
    assert report.fleiss_kappa.value == pytest.approx(1.0)
    assert report.krippendorff_alpha.value == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-a", "nobody", "{cid}", "attack"], "unknown annotator 'nobody'"),
        (["-a", "ann1", "{cid}", "maybe"], "unknown label 'maybe' (labels: attack, defense)"),
        (["-a", "ann1", "99999", "attack"], "unknown conversation 99999"),
        (["-a", "ann1", "{cid}", "attack", "--tag", "spicy"], "unknown tag 'spicy'"),
        (["-a", "ann1", "{cid}", "attack", "--turn", "7"], "turn 7 is out of range"),
        (["-a", "{unassigned}", "{cid}", "attack"], "is not assigned to"),
        (["-a", "ann1", "{cid}", "--undo"], "has no label on conversation"),
    ],
)
def test_label_cli_bad_input_writes_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    """Bad labels are one line, exit 2, and the label log is unchanged."""
    db = tmp_path / "a.db"
    store, tid, ids = build_store(db, [SAFE])
    run_static_stage(store, tid)
    build_queue(store, tid)
    cid = ids[0]
    assigned = {a.annotator for a in store.assignments(tid)}
    unassigned = next(a for a in ("ann1", "ann2", "ann3", "ann4") if a not in assigned)
    if "{unassigned}" not in args and "ann1" not in assigned:
        args = [a.replace("ann1", sorted(assigned)[0]) for a in args]
    store.close()
    args = [a.format(cid=cid, unassigned=unassigned) for a in args]
    result = CliRunner().invoke(main, ["label", "--db", str(db), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    with Store.open(db) as store:
        assert store.label_events() == []
    if "is not assigned" in message:
        forced = CliRunner().invoke(main, ["label", "--db", str(db), *args, "--force"])
        assert forced.exit_code == 0
        with Store.open(db) as store:
            assert [e.forced for e in store.label_events()] == [True]


def test_evaluate_and_agreement_cli(tmp_path: Path) -> None:
    """`evaluate` prints scanned/flagged/queued and per-test counts; `agreement --json` is valid JSON."""
    db = tmp_path / "a.db"
    store, _, ids = build_store(db, [VULNERABLE, SAFE, REFUSAL])
    store.close()
    result = CliRunner().invoke(main, ["evaluate", "--db", str(db)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "scanned 3 new conversations" in result.output and "1 of them flagged as vulnerable code" in result.output
    assert "B602" in result.output and "queued 2 for review" in result.output
    again = CliRunner().invoke(main, ["evaluate", "--db", str(db)])
    assert "no new conversations to scan; nothing new to queue" in again.output
    result = CliRunner().invoke(main, ["agreement", "--db", str(db), "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["t"]["items"] == 0
    missing = CliRunner().invoke(main, ["evaluate", "--db", str(tmp_path / "none.db")])
    assert missing.exit_code == 2 and "no arena store" in missing.output
    assert not (tmp_path / "none.db").exists()
    unknown = CliRunner().invoke(main, ["evaluate", "--db", str(db), "--tournament", "zzz"])
    assert unknown.exit_code == 2 and "no tournament 'zzz'" in unknown.output


def test_queue_cli_lists_assigned_items(tmp_path: Path) -> None:
    """`queue` lists an annotator's to-do items; labelled ones only with --all."""
    db = tmp_path / "a.db"
    store, tid, ids = build_store(db, [SAFE, REFUSAL])
    run_static_stage(store, tid)
    build_queue(store, tid)
    who = store.assignments(tid)[0].annotator
    mine = sorted(a.conversation_id for a in store.assignments(tid) if a.annotator == who)
    record_label(store, mine[0], who, "attack")
    store.close()
    result = CliRunner().invoke(main, ["queue", "--db", str(db), "-a", who], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert f"{len(mine) - 1} to do, 1 done" in result.output
    full = CliRunner().invoke(main, ["queue", "--db", str(db), "-a", who, "--all"], env={"COLUMNS": "200"})
    assert full.output.count(" done ") == 1 and f"{len(mine) - 1} to do, 1 done" in full.output


def test_static_pass_in_a_child_process(tmp_path: Path) -> None:
    """The watch's live pass (`core.evaluation.static_pass`): scans in a child process, stores the
    findings and verdicts, returns the per-matchup counts; a bad store is one error line."""
    from core.evaluation.static_pass import StaticPassError, run_pass_in_child

    db = tmp_path / "a.db"
    store, tid, ids = build_store(db, [VULNERABLE, SAFE, REFUSAL])
    matchup = store.conversations(tid)[0].matchup_id
    assert run_pass_in_child(db, tid) == {matchup: (3, 1)}
    assert any(f.test_id == "B602" for f in store.findings(ids[0]))
    assert store.verdict_fingerprint([tid]) != ()
    assert run_pass_in_child(db, tid, cancelled=lambda: True) in (None, {matchup: (3, 1)})
    store.close()
    with pytest.raises(StaticPassError, match="no arena store"):
        run_pass_in_child(tmp_path / "missing.db", tid)


def test_static_pass_counts_match_static_results(tmp_path: Path) -> None:
    """`static_pass` counts from the verdicts it just stored: the same as `static_results`
    (what a follower reads), across passes as more conversations complete."""
    from core.evaluation.pipeline import static_pass, static_results

    store, tid, ids = build_store(tmp_path / "a.db", [VULNERABLE, SAFE, VULNERABLE, REFUSAL])
    store.conn.execute("UPDATE conversations SET status = 'running' WHERE id = ?", (ids[2],))
    counts = static_pass(store, tid)
    assert counts == static_results(store, store.tournament_by_id(tid))
    assert list(counts.values()) == [(3, 1)]
    store.conn.execute("UPDATE conversations SET status = 'complete' WHERE id = ?", (ids[2],))
    counts = static_pass(store, tid)
    assert counts == static_results(store, store.tournament_by_id(tid)) and list(counts.values()) == [(4, 2)]
    assert static_pass(store, tid) == counts


def test_concurrent_evaluators_never_store_findings_twice(tmp_path: Path) -> None:
    """Two evaluators that listed the same unscanned conversations (CLI evaluate and the
    watch's static pass): the second to store skips what the first stored, so findings,
    code blocks and scans are stored once, and its summary counts only what it stored."""
    db = tmp_path / "a.db"
    store, tid, ids = build_store(db, [VULNERABLE, SAFE, REFUSAL])
    other = Store.open(db, create=False)
    stale = store.unscanned_conversations(tid)
    assert run_static_stage(other, tid).scanned == 3
    findings = len(store.tournament_findings(tid))
    blocks = sum(len(store.code_blocks(cid)) for cid in ids)
    assert findings > 0 and blocks == 2
    store.unscanned_conversations = lambda _tid: stale  # type: ignore[method-assign]  # listed before `other` stored
    summary = run_static_stage(store, tid)
    assert (summary.scanned, summary.replies, summary.blocks, summary.flagged) == (0, 0, 0, 0)
    assert not summary.findings_by_test
    assert len(store.tournament_findings(tid)) == findings
    assert sum(len(store.code_blocks(cid)) for cid in ids) == blocks
    assert store.scan_count(tid) == 3
    # Storing a conversation already scanned again stores nothing.
    assert store.save_scans(tid, [(ids[0], 1, 1, 1)], [], []) == set()
    other.close()
    store.close()
