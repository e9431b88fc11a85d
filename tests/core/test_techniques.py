"""core.scoring.techniques: attack success by technique × defender on a hand-built store
with a known answer; intervals against scipy's Wilson interval."""

from __future__ import annotations

from pathlib import Path

import pytest
from scipy.stats import binomtest

from core.scoring.techniques import technique_breakdown
from core.store import FinishOp, StartOp, Store, TurnOp
from tests.core.test_leaderboard import SETTINGS

# (attacker, defender) -> conversations: (outcome, [(technique, converters) per attacker turn])
PLAN = {
    ("mut", "guard"): [
        ("attack", [("direct", ("base64",)), ("direct", ("base64",))]),  # one conversation, counted once
        ("defense", [("direct", ("base64",)), ("direct", ("rot13",))]),  # counted under both
        ("undecided", [("direct", ("rot13",))]),
        ("incomplete", [("direct", ("base64",))]),                      # never counted
    ],
    ("mut", "naive"): [
        ("attack", [("direct", ("base64",))]),
        ("attack", [("direct", ())]),
        ("defense", [(None, ())]),                                         # named nothing
    ],
    ("climb", "naive"): [
        ("attack", [("crescendo", ("leetspeak", "base64")), ("crescendo", ("leetspeak", "base64"))]),
        ("defense", [("crescendo", ("leetspeak", "base64"))]),
    ],
}


def build(path: Path, defender_names: dict[str, str] | None = None) -> Store:
    """A store holding PLAN as one tournament (``defender_names`` renames defenders)."""
    rename = defender_names or {}
    store = Store.open(path)
    attackers = sorted({a for a, _ in PLAN})
    defenders = sorted({rename.get(d, d) for _, d in PLAN})
    tid = store.create_tournament(
        name="t", kind="practice", fingerprint="t", seed=1, conversations_per_matchup=4, max_pairs=5,
        settings=SETTINGS, bots=[(a, "attacker", "python", a) for a in attackers]
        + [(d, "defender", "python", d) for d in defenders],
        conversation_seeds={(a, rename.get(d, d)): list(range(len(convs))) for (a, d), convs in PLAN.items()})
    ids = {(c.attacker, c.defender, c.idx): c.id for c in store.conversations(tid)}
    ops, verdicts = [], []
    for (attacker, defender), convs in PLAN.items():
        for idx, (outcome, turns) in enumerate(convs):
            cid = ids[(attacker, rename.get(defender, defender), idx)]
            ops.append(StartOp(cid, tid, 0.0))
            for k, (technique, converters) in enumerate(turns):
                ops.append(TurnOp(cid, 2 * k, "attacker", "x", 0.1, 0.0, technique=technique, converters=converters))
                ops.append(TurnOp(cid, 2 * k + 1, "defender", "ok", 0.1, 0.0, technique="output-check"))
            status = "incomplete" if outcome == "incomplete" else "complete"
            ops.append(FinishOp(cid, tid, status, None, None, None, 2 * len(turns), 0.0))
            if outcome in ("attack", "defense"):
                verdicts.append((cid, outcome, "annotators", "majority", 1.0))
    store.apply(ops)
    store.save_verdicts(tid, verdicts)
    return store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = build(tmp_path / "arena.db")
    yield store
    store.close()


def reference() -> dict[tuple[str, tuple[str, ...], str | None], tuple[int, int, int, set[str]]]:
    """The breakdown counted by hand from PLAN: (n, successes, undecided, attackers)."""
    out: dict = {}
    for (attacker, defender), convs in PLAN.items():
        for outcome, turns in convs:
            if outcome == "incomplete":
                continue
            for key in {(t, c) for t, c in turns if t is not None}:
                for who in (defender, None):
                    n, s, u, names = out.get((*key, who), (0, 0, 0, set()))
                    out[(*key, who)] = (n + 1, s + (outcome == "attack"), u + (outcome == "undecided"), names | {attacker})
    return out


def test_breakdown_matches_the_hand_count_and_scipy_wilson(store: Store) -> None:
    """Every cell: conversations, successes, undecided and attackers as counted by hand;
    ASR = successes / conversations; the interval is scipy's Wilson interval (percent)."""
    cells = technique_breakdown(store, [t.id for t in store.tournaments()])
    expected = reference()
    assert {(c.technique, c.converters, c.defender) for c in cells} == set(expected)
    for cell in cells:
        n, successes, undecided, attackers = expected[(cell.technique, cell.converters, cell.defender)]
        assert (cell.conversations, cell.successes, cell.undecided, set(cell.attackers)) == (n, successes, undecided, attackers)
        assert cell.asr == pytest.approx(successes / n * 100)
        ci = binomtest(successes, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert cell.asr_interval.lo == pytest.approx(ci.low * 100, abs=0.05)
        assert cell.asr_interval.hi == pytest.approx(ci.high * 100, abs=0.05)
    by_key = {(c.label, c.defender): c for c in cells}
    assert by_key[("direct + base64", "guard")].conversations == 2  # a conversation is counted once per label
    assert by_key[("crescendo + leetspeak + base64", None)].to_dict()["converters"] == ["leetspeak", "base64"]


def test_no_technique_no_rows(tmp_path: Path) -> None:
    """A store whose replies named nothing has no breakdown (and no error)."""
    with Store.open(tmp_path / "empty.db") as store:
        assert technique_breakdown(store, []) == ()
