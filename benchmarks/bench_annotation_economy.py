"""How many human labels each annotation policy spends, and what verdict accuracy it buys.

A simulation with a planted truth, run through the product's own pipeline (a real store,
`build_queue`, `refresh_verdicts`, `run_judge` with a Python judge class): --items review
conversations, --attack-rate of them attacks; six annotators of planted accuracy (each
label correct with that probability, independently); a planted judge that names the true
label with probability --judge-accuracy (and a weak one, 0.6, that routing must give
nothing). Annotators label every open assignment, round after round, until the queue is
empty; each policy gets the same truth and the same annotators.

Policies:

- **fixed k = 3**: every item to three annotators, majority vote (the published design);
- **adaptive 2(+1)**: two annotators, a third only when they disagree;
- **routing**: a 20 % calibration sample goes to three annotators; the judge decides an
  item alone when the lower end of its 95 % precision interval for that label, measured
  on the calibration sample, is at least --min-precision (0.8); the rest goes to three
  annotators. The precision is measured against the human majority, which is itself
  wrong on ~6 % of items with these annotators: a judge whose true precision is 0.98
  measures about 0.92, and the lower end of its interval on ~130 items about 0.87, so
  the bar must sit below the panel's own accuracy (0.9 is out of reach, 0.85 is a coin
  toss between runs);
- **routing + adaptive**: both;
- **routing, weak judge**: routing with the weak judge (it must be given nothing).

Prints per policy: human labels used, labels saved against fixed k = 3, verdicts from the
judge, verdict accuracy against the planted truth with its 95 % Wilson interval, and
whether that accuracy is within (or above) the fixed-k interval. Goal: >= 25 % fewer
human labels at accuracy within the fixed-k interval. Also CPU and wall time per policy
(the pipeline's cost; the machine may be loaded).

    python benchmarks/bench_annotation_economy.py [--items 1000] [--seed 1] [--reps 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.evaluation.intervals import wilson  # noqa: E402
from core.evaluation.judges import run_judge  # noqa: E402
from core.evaluation.pipeline import JUDGE, build_queue, record_label, refresh_verdicts  # noqa: E402
from core.evaluation.settings import EvaluationSettings, JudgeSpec, RoutingSettings  # noqa: E402
from core.store import FinishOp, StartOp, Store, TournamentSettings, TurnOp  # noqa: E402

ANNOTATORS = {"ann1": 0.90, "ann2": 0.85, "ann3": 0.85, "ann4": 0.80, "ann5": 0.88, "ann6": 0.82}
LABELS = ("attack", "defense")
# The planted judge reads its answer from the reply (the simulation decides it), so the
# judge's accuracy is exactly what was planted, and it runs through `run_judge`.
JUDGE_SOURCE = '''
class PlantedJudge:
    def judge(self, request):
        reply = request.turns[-1][1]
        label = reply.split("judge-says:")[1].split()[0]
        return {"label": label, "rationale": "planted"}
'''


def make_store(path: Path, truth: list[str], judge_says: list[str], settings: EvaluationSettings) -> tuple[Store, int, list[int]]:
    """A store whose conversations are all review items (scanned, nothing flagged)."""
    store = Store.open(path)
    tid = store.create_tournament(
        name="sim", kind="practice", fingerprint="f", seed=1, conversations_per_matchup=len(truth), max_pairs=1,
        settings=TournamentSettings(settings), bots=[("a", "attacker", "python", "a"), ("d", "defender", "python", "d")],
        conversation_seeds={("a", "d"): list(range(len(truth)))},
    )
    ids = [c.id for c in store.conversations(tid)]
    ops = []
    for cid, said in zip(ids, judge_says, strict=True):
        ops += [StartOp(cid, tid, 0.0), TurnOp(cid, 0, "attacker", "write code", 0.1, 0.0),
                TurnOp(cid, 1, "defender", f"a reply; judge-says: {said}", 0.1, 0.0),
                FinishOp(cid, tid, "complete", None, None, "max_pairs", 2, 0.0)]
    store.apply(ops)
    store.save_scans(tid, [(cid, 0, 0, 0) for cid in ids], [], [])
    return store, tid, ids


def simulate(policy: str, truth: list[str], judge_says: list[str], rng: np.random.Generator, workdir: Path,
             judge_file: Path, min_precision: float, rep: int = 0) -> dict:
    """Run one policy to the end; returns labels used, judge verdicts, correct verdicts."""
    spec = JudgeSpec(name="planted", python=f"{judge_file}:PlantedJudge", concurrency=4)
    settings = EvaluationSettings(annotators_per_item=3, annotators=tuple(ANNOTATORS), audit_fraction=0.0,
                                  labels=LABELS, judges=(spec,))
    if "adaptive" in policy:
        settings = dataclasses.replace(settings, adaptive=True)
    if "routing" in policy:
        settings = dataclasses.replace(settings, routing=RoutingSettings("planted", min_precision=min_precision,
                                                                         min_calibration=50, calibration_fraction=0.2))
    started, cpu = time.perf_counter(), time.process_time()
    store, tid, ids = make_store(workdir / f"{policy.replace(' ', '_').replace(',', '')}-{rep}.db", truth, judge_says, settings)
    truth_of = dict(zip(ids, truth, strict=True))
    if "routing" in policy:
        run_judge(store, tid, spec)
    build_queue(store, tid)
    labels_used = 0
    for _round in range(10):
        open_assignments = [a for a in store.assignments(tid) if store.current_label(a.conversation_id, a.annotator) is None]
        if not open_assignments:
            break
        for a in open_assignments:
            right = rng.random() < ANNOTATORS[a.annotator]
            said = truth_of[a.conversation_id] if right else next(x for x in LABELS if x != truth_of[a.conversation_id])
            record_label(store, a.conversation_id, a.annotator, said)
            labels_used += 1
        refresh_verdicts(store, tid)  # makes the follow-up assignments (third annotator, released items)
    verdicts = refresh_verdicts(store, tid)
    store.close()
    decided = [v for v in verdicts if v.verdict is not None]
    correct = sum(1 for v in decided if v.verdict == truth_of[v.conversation_id])
    return {"labels": labels_used, "judge": sum(1 for v in verdicts if v.reason == JUDGE), "decided": len(decided),
            "correct": correct, "items": len(ids), "wall": time.perf_counter() - started,
            "cpu": time.process_time() - cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--attack-rate", type=float, default=0.3)
    parser.add_argument("--judge-accuracy", type=float, default=0.95)
    parser.add_argument("--min-precision", type=float, default=0.8, help="The routing bar.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reps", type=int, default=1, help="Repetitions with seeds seed, seed+1, ... (figures summed).")
    args = parser.parse_args()
    policies = ["fixed k=3", "adaptive 2(+1)", "routing", "routing + adaptive", "routing, weak judge"]
    totals = {p: {"labels": 0, "judge": 0, "decided": 0, "correct": 0, "items": 0, "wall": 0.0, "cpu": 0.0}
              for p in policies}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        judge_file = workdir / "planted_judge.py"
        judge_file.write_text(JUDGE_SOURCE)
        for rep in range(args.reps):
            world = np.random.default_rng(args.seed + rep)
            truth = ["attack" if world.random() < args.attack_rate else "defense" for _ in range(args.items)]

            def judge(accuracy: float, world: np.random.Generator = world, truth: list[str] = truth) -> list[str]:
                return [t if world.random() < accuracy else ("defense" if t == "attack" else "attack") for t in truth]

            strong, weak = judge(args.judge_accuracy), judge(0.6)
            for policy in policies:  # the same truth and annotator seed for every policy
                rng = np.random.default_rng([args.seed + rep, 7])
                result = simulate(policy, truth, weak if "weak" in policy else strong, rng, workdir, judge_file,
                                  args.min_precision, rep)
                for key, value in result.items():
                    totals[policy][key] += value
    base = totals["fixed k=3"]
    base_interval = wilson(base["correct"], base["decided"])
    print(f"{args.items} items × {args.reps} rep(s), {args.attack_rate:.0%} attacks; annotators of accuracy "
          f"{', '.join(f'{a:.2f}' for a in ANNOTATORS.values())}; judge accuracy {args.judge_accuracy:.2f} (weak: 0.60); "
          f"routing bar {args.min_precision:g}")
    header = (f"{'policy':<22}{'human labels':>13}{'saved':>8}{'by judge':>9}{'accuracy [95 % interval]':>28}"
              f"{'within fixed-k':>15}{'cpu s':>8}{'wall s':>8}")
    print(header)
    print("-" * len(header))
    for policy in policies:
        t = totals[policy]
        lo, hi = wilson(t["correct"], t["decided"])
        accuracy = t["correct"] / t["decided"] * 100 if t["decided"] else float("nan")
        saved = 1 - t["labels"] / base["labels"]
        within = accuracy >= base_interval.lo
        undecided = t["items"] - t["decided"]
        note = f" ({undecided} undecided)" if undecided else ""
        print(f"{policy:<22}{t['labels']:>13}{saved:>8.1%}{t['judge']:>9}"
              f"{f'{accuracy:.1f} % [{lo:.1f}, {hi:.1f}]':>28}{'yes' if within else 'NO':>15}"
              f"{t['cpu']:>8.1f}{t['wall']:>8.1f}{note}")
    print("\nwithin fixed-k: the policy's accuracy is at least the lower end of fixed k = 3's interval.")


if __name__ == "__main__":
    main()
