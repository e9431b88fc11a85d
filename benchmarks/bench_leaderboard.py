"""Benchmark: the full leaderboard at the paper's size, cold, warm and after one new label.

Store: one tournament of 5 attackers x 5 defenders = 25 matchups x 200 complete
conversations, about half of them successful attacks, attacker sides of 20-120 words
over several turns (the generator of bench_diversity.py), verdicts stored directly.
Utility results are stored for every defender, so defender scores are computed too.

Timed, with 1000 bootstrap resamples:
- cold: `compute_leaderboard` with an empty cache (reads, BLEU of every matchup,
  every interval);
- warm: the same call again with the cache (nothing changed);
- one label: one undecided conversation becomes an attack success, then the call again
  (one matchup's BLEU and its attacker's and defender's intervals are redone);
- baseline: the straightforward path over the same data, per attacker
  core.scoring.diversity.diversity and core.evaluation.intervals.bootstrap_attacker_score from the texts
  (which computes each matchup's BLEU twice), to show what the one-pass design saves.

Memory, on a second store of 100,000 conversations (`build_annotate_store.py`: 25
matchups, two turns each) with a tenth of them decided, half of those attack successes
(an annotation in progress, as in the annotate TUI's live pane): tracemalloc peak of a
cold and a warm `compute_leaderboard` (200 resamples, as the pane), next to the peak of
`Store.scoring_rows` alone, the one-row-per-conversation read the leaderboard used to do
(its whole computation peaked at about 43 MB cold there, 55 MB warm). The leaderboard
reads grouped counts plus the successes' ids and positions, so its peak follows the
matchups and the successes (their texts and BLEU matrices), not the conversations.

Goal: cold full leaderboard < 3 s.

    python benchmarks/bench_leaderboard.py [--conversations 200] [--resamples 1000] [--seed 7]
                                           [--memory-conversations 100000] (0 skips it)
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_diversity import make_matchup  # noqa: E402
from build_annotate_store import build as build_large_store  # noqa: E402

from core.evaluation.intervals import AttackerMatchup, bootstrap_attacker_score  # noqa: E402
from core.evaluation.settings import EvaluationSettings  # noqa: E402
from core.scoring.diversity import diversity  # noqa: E402
from core.scoring.leaderboard import LeaderboardCache, compute_leaderboard  # noqa: E402
from core.store import FinishOp, StartOp, Store, TournamentSettings, TurnOp  # noqa: E402

N_SIDE = 5
GOAL_S = 3.0
SETTINGS = TournamentSettings(EvaluationSettings(labels=("attack", "defense")))


def build_store(path: Path, conversations: int, seed: int) -> tuple[Store, int, int]:
    """The paper-size tournament; returns (store, tournament id, one undecided conversation id)."""
    rng = random.Random(seed)
    attackers = [f"attacker-{i}" for i in range(N_SIDE)]
    defenders = [f"defender-{i}" for i in range(N_SIDE)]
    store = Store.open(path)
    tid = store.create_tournament(
        name="paper", kind="official", fingerprint="bench", seed=seed, conversations_per_matchup=conversations,
        max_pairs=5, settings=SETTINGS,
        bots=[(a, "attacker", "python", a) for a in attackers] + [(d, "defender", "python", d) for d in defenders],
        conversation_seeds={(a, d): list(range(conversations)) for a in attackers for d in defenders},
    )
    by_pair: dict[tuple[str, str], list[int]] = {}
    for conv in store.conversations(tid):
        by_pair.setdefault((conv.attacker, conv.defender), []).append(conv.id)
    ops, verdicts = [], []
    undecided = None
    for ids in by_pair.values():
        sides = make_matchup(rng, len(ids))
        rate = rng.uniform(0.3, 0.7)  # about half successful, varying by matchup
        for cid, side in zip(ids, sides, strict=True):
            turns = side.split("\n")
            ops.append(StartOp(cid, tid, 0.0))
            for k, text in enumerate(turns):
                ops.append(TurnOp(cid, 2 * k, "attacker", text, 0.1, 0.0))
                ops.append(TurnOp(cid, 2 * k + 1, "defender", "Here is an answer.", 0.1, 0.0))
            ops.append(FinishOp(cid, tid, "complete", None, None, "max_pairs", 2 * len(turns), 0.0))
            if undecided is None:
                undecided = cid
                verdicts.append((cid, None, "awaiting_labels", "majority", None))
            else:
                verdicts.append((cid, "attack" if rng.random() < rate else "defense", "annotators", "majority", 1.0))
    store.apply(ops)
    store.save_verdicts(tid, verdicts)
    store.save_utility_results("paper", "base", "base", [("codegen", f"i{k}", 1.0, True, False, "") for k in range(10)])
    for i, defender in enumerate(defenders):
        store.save_utility_results("paper", defender, "defender",
                                   [("codegen", f"i{k}", float(k >= i), k >= i, False, "") for k in range(10)])
    assert undecided is not None
    return store, tid, undecided


def baseline(store: Store, tid: int, n_boot: int, seed: int) -> float:
    """Attacker scores and intervals the plain way, from texts, matchup by matchup."""
    start = time.perf_counter()
    verdicts = store.verdicts(tid)
    per_attacker: dict[str, list[AttackerMatchup]] = {}
    grouped: dict[tuple[str, str], list[int]] = {}
    for conv in store.conversations(tid, status="complete"):
        if verdicts[conv.id].verdict is not None:
            grouped.setdefault((conv.attacker, conv.defender), []).append(conv.id)
    for (attacker, _), ids in grouped.items():
        successes = [verdicts[cid].verdict == "attack" for cid in ids]
        texts = ["\n".join(t.content for t in store.turns(cid) if t.role == "attacker")
                 for cid, hit in zip(ids, successes, strict=True) if hit]
        diversity(texts)
        per_attacker.setdefault(attacker, []).append(AttackerMatchup(successes, texts))
    for matchups in per_attacker.values():
        bootstrap_attacker_score(matchups, n_boot, seed)
    return time.perf_counter() - start


def traced(call: Callable[[], Any]) -> tuple[float, float]:
    """(seconds, tracemalloc peak in MB) of one call; its result is dropped inside."""
    tracemalloc.start()
    start = time.perf_counter()
    call()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak / 1e6


def memory(folder: Path, conversations: int) -> None:
    """Peak memory of the leaderboard on a large store with a tenth decided (see the docstring)."""
    path = folder / "large.db"
    start = time.perf_counter()
    build_large_store(path, conversations)
    with Store.open(path) as store:
        tid = store.tournaments()[0].id
        ids = [cid for (cid,) in store.conn.execute("SELECT id FROM conversations WHERE tournament_id = ?", (tid,))]
        store.save_verdicts(tid, [(cid, ("attack" if cid // 10 % 2 else "defense") if cid % 10 == 0 else None,
                                   "annotators" if cid % 10 == 0 else "awaiting_labels", "majority", None)
                                  for cid in ids])
        del ids
        built = time.perf_counter() - start
        cache = LeaderboardCache()
        cold_s, cold_mb = traced(lambda: compute_leaderboard(store, [tid], n_boot=200, cache=cache))
        warm_s, warm_mb = traced(lambda: compute_leaderboard(store, [tid], n_boot=200, cache=cache))
        rows_s, rows_mb = traced(lambda: store.scoring_rows([tid]))
        board = compute_leaderboard(store, [tid], n_boot=200, cache=cache)
    successes = sum(m.successes for m in board.matchups)
    undecided = sum(m.undecided for m in board.matchups)
    print(f"memory store: {conversations:,} conversations in {len(board.matchups)} matchups, {successes:,} successes, "
          f"{undecided:,} undecided, built in {built:.1f} s; 200 resamples; tracemalloc peaks:")
    print(f"  leaderboard cold   : {cold_mb:6.1f} MB, {cold_s:.3f} s")
    print(f"  leaderboard warm   : {warm_mb:6.1f} MB, {warm_s:.3f} s")
    print(f"  one row per conversation (Store.scoring_rows alone, the old read): {rows_mb:6.1f} MB, {rows_s:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200, help="conversations per matchup")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--memory-conversations", type=int, default=100_000,
                        help="size of the memory store (0 skips the memory measurement)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-leaderboard-") as folder:
        start = time.perf_counter()
        store, tid, undecided = build_store(Path(folder) / "arena.db", args.conversations, args.seed)
        built = time.perf_counter() - start
        with store:
            cache = LeaderboardCache()
            start = time.perf_counter()
            cold = compute_leaderboard(store, [tid], n_boot=args.resamples, cache=cache)
            cold_s = time.perf_counter() - start

            start = time.perf_counter()
            warm = compute_leaderboard(store, [tid], n_boot=args.resamples, cache=cache)
            warm_s = time.perf_counter() - start
            assert warm == cold

            store.save_verdicts(tid, [(cid, v.verdict, v.reason, "majority", None) for cid, v in store.verdicts(tid).items()
                                      if cid != undecided] + [(undecided, "attack", "annotators", "majority", 1.0)])
            computed_before = cache.bleu_computed
            start = time.perf_counter()
            compute_leaderboard(store, [tid], n_boot=args.resamples, cache=cache)
            label_s = time.perf_counter() - start
            recomputed = cache.bleu_computed - computed_before

            base_s = baseline(store, tid, args.resamples, 0)

    successes = sum(m.successes for m in cold.matchups)
    print(f"store: {len(cold.matchups)} matchups x {args.conversations} conversations, {successes} successful "
          f"attacks, built in {built:.1f} s; {args.resamples} bootstrap resamples")
    print(f"cold leaderboard     : {cold_s:7.3f} s (goal < {GOAL_S:.0f} s)")
    print(f"warm (cache, no change): {warm_s:5.3f} s")
    print(f"after one new label  : {label_s:7.3f} s ({recomputed} matchup BLEU recomputed)")
    print(f"baseline (attackers only, from texts): {base_s:.3f} s -> cold is {base_s / cold_s:.1f}x faster")
    top = cold.attackers[0]
    print(f"top attacker {top.name}: score {top.score:.2f} [{top.interval[0]:.2f}, {top.interval[1]:.2f}]")
    if args.memory_conversations:
        with tempfile.TemporaryDirectory(prefix="bench-leaderboard-") as folder:
            memory(Path(folder), args.memory_conversations)
    if cold_s >= GOAL_S:
        raise SystemExit(f"SLOW: the cold leaderboard took {cold_s:.2f} s (goal < {GOAL_S:.0f} s)")


if __name__ == "__main__":
    main()
