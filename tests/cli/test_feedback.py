"""Team feedback: a team sees only its own conversations; labels only when the tournament shares them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from arena_tui.cli import main
from core.evaluation.pipeline import build_queue, record_label, refresh_verdicts, run_static_stage
from core.evaluation.settings import EvaluationSettings
from core.store import FinishOp, StartOp, Store, TournamentSettings, TurnOp
from tests.core.test_evaluation_pipeline import SAFE, VULNERABLE


def build(path: Path, share: bool) -> list[int]:
    """2 attackers x 2 defenders, one conversation each; a1 vs d1 is vulnerable, the rest labelled defense."""
    store = Store.open(path)
    settings = TournamentSettings(EvaluationSettings(
        annotators=("ann1",), annotators_per_item=1, labels=("attack", "defense"), tags=("malicious_code",),
        audit_fraction=0.0, share_labels_with_teams=share))
    bots = [("a1", "attacker", "python", "x"), ("a2", "attacker", "python", "x"),
            ("d1", "defender", "python", "x"), ("d2", "defender", "python", "x")]
    tid = store.create_tournament(name="t", kind="official", fingerprint="f", seed=1, conversations_per_matchup=1, max_pairs=1,
                                  settings=settings, bots=bots,
                                  conversation_seeds={(a, d): [0] for a in ("a1", "a2") for d in ("d1", "d2")})
    convs = store.conversations(tid)
    ops = []
    for c in convs:
        reply = VULNERABLE if (c.attacker, c.defender) == ("a1", "d1") else SAFE
        ops += [StartOp(c.id, tid, 0.0), TurnOp(c.id, 0, "attacker", f"from {c.attacker}", 0.1, 0.0),
                TurnOp(c.id, 1, "defender", reply, 0.1, 0.0), FinishOp(c.id, tid, "complete", None, None, "max_pairs", 2, 0.0)]
    store.apply(ops)
    run_static_stage(store, tid)
    build_queue(store, tid)
    for a in store.assignments(tid):
        record_label(store, a.conversation_id, "ann1", "defense", note="secret note")
    refresh_verdicts(store, tid)
    store.close()
    return [c.id for c in convs]


def read(folder: Path, name: str) -> list[dict]:
    return [json.loads(line) for line in (folder / name).read_text().splitlines()]


def test_attacker_sees_only_its_attacks_and_defender_only_against_it(tmp_path: Path) -> None:
    """a1 gets its two conversations, d2 the two against it; standings carry intervals; no labels unless shared."""
    db = tmp_path / "a.db"
    build(db, share=False)
    for team, expect in (("a1", {("a1", "d1"), ("a1", "d2")}), ("d2", {("a1", "d2"), ("a2", "d2")})):
        out = tmp_path / team
        result = CliRunner().invoke(main, ["feedback", "--db", str(db), "--team", team, "-o", str(out), "--resamples", "100"])
        assert result.exit_code == 0, result.output
        convs = read(out, "conversations.jsonl")
        assert {(c["attacker"], c["defender"]) for c in convs} == expect
        assert all("labels" not in c for c in convs)
        text = (out / "conversations.jsonl").read_text()
        assert "from a2" not in text if team == "a1" else "from a1" in text
        standings = read(out, "standings.jsonl")
        own = [r for r in standings if r["type"] != "matchup"]
        interval = "score_interval" if team.startswith("a") else "dsr_interval"  # no utility: defenders have no score
        assert [r["name"] for r in own] == [team] and own[0][interval] is not None
        assert all(team in (r["attacker"], r["defender"]) for r in standings if r["type"] == "matchup")
        assert f"# Feedback for {team}" in (out / "summary.md").read_text()
    vulnerable = next(c for c in read(tmp_path / "a1", "conversations.jsonl") if c["defender"] == "d1")
    assert vulnerable["verdict"] == "attack" and vulnerable["findings"]


def test_labels_shared_only_when_configured(tmp_path: Path) -> None:
    """With share_labels_with_teams, the human labels (without annotator names) come along."""
    db = tmp_path / "a.db"
    build(db, share=True)
    out = tmp_path / "fb"
    assert CliRunner().invoke(main, ["feedback", "--db", str(db), "--team", "d2", "-o", str(out), "--resamples", "100"]).exit_code == 0
    convs = read(out, "conversations.jsonl")
    assert all(c["labels"] == [{"label": "defense", "tags": [], "turn": None, "note": "secret note", "adjudication": False}]
               for c in convs)
    assert "ann1" not in (out / "conversations.jsonl").read_text()
    result = CliRunner().invoke(main, ["feedback", "--db", str(db), "--team", "nobody", "-o", str(out)])
    assert result.exit_code == 2 and "no team 'nobody'" in result.output


def test_summary_says_when_the_standing_is_provisional(tmp_path: Path) -> None:
    """A conversation still undecided: the summary's standing is marked provisional; decided, it is not."""
    db = tmp_path / "a.db"
    ids = build(db, share=False)
    out = tmp_path / "a1"
    args = ["feedback", "--db", str(db), "--team", "a1", "-o", str(out), "--resamples", "100"]
    assert CliRunner().invoke(main, args).exit_code == 0
    assert "Provisional" not in (out / "summary.md").read_text()
    with Store.open(db, create=False) as store:
        tid = store.tournament("t").id
        store.save_verdicts(tid, [(cid, None if cid == ids[1] else v.verdict, v.reason, "majority", None)
                                  for cid, v in store.verdicts(tid).items()])
    assert CliRunner().invoke(main, args).exit_code == 0
    summary = (out / "summary.md").read_text()
    assert "Provisional standing: 1 undecided and 0 unfinished conversations" in summary
    assert json.loads((out / "standings.jsonl").read_text().splitlines()[0])["provisional"] is True
