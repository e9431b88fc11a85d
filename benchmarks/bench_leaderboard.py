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
- baseline, naive: what the contract's formula says done the obvious way, with sacrebleu:
  every matchup's attacker sides read from the store and
  ``sacrebleu.sentence_bleu(texts[i], [texts[j]])`` for every ordered pair of its
  successful attacks (core.scoring.diversity.pairwise_bleu_mean_naive). It takes minutes
  at this size, so by default it is timed on `--naive-matchups` of the 25 matchups (spread
  over the grid) and extrapolated to all of them by their number of pairs (the cost is one
  sacrebleu call per pair); `--naive-matchups 25` times it all. Its means are checked
  against the leaderboard's diversities (to 1e-9). The naive BLEU alone, without any
  interval, is what the cold leaderboard (BLEU and every interval) is compared with;
- baseline, plain: the straightforward path with the project's own vectorised BLEU, per
  attacker core.scoring.diversity.diversity and
  core.evaluation.intervals.bootstrap_attacker_score from the texts (which computes each
  matchup's BLEU twice), to show what the one-pass design saves.

Every phase prints wall and CPU time (this process); the machine may be loaded, so the
goal is checked on CPU time.

Memory, on a second store of 100,000 conversations (`build_annotate_store.py`: 25
matchups, two turns each) with a tenth of them decided, half of those attack successes
(an annotation in progress, as in the annotate TUI's live pane): tracemalloc peak of a
cold and a warm `compute_leaderboard` (200 resamples, as the pane), next to the peak of
`Store.scoring_rows` alone, the one-row-per-conversation read the leaderboard used to do
(its whole computation peaked at about 43 MB cold there, 55 MB warm). The leaderboard
reads grouped counts plus the successes' ids and positions, so its peak follows the
matchups and the successes (their texts and BLEU matrices), not the conversations.

Goal: cold full leaderboard < 3 s of CPU.

    python benchmarks/bench_leaderboard.py [--conversations 200] [--resamples 1000] [--seed 7]
                                           [--naive-matchups 2] [--memory-conversations 100000] (0 skips it)
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
from core.scoring.diversity import diversity, pairwise_bleu_mean_naive  # noqa: E402
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


def timed(call: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process, result) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def success_texts(store: Store, tid: int) -> dict[tuple[str, str], list[str]]:
    """Each matchup's attacker sides of its successful attacks, read one conversation at a time."""
    verdicts = store.verdicts(tid)
    texts: dict[tuple[str, str], list[str]] = {}
    for conv in store.conversations(tid, status="complete"):
        texts.setdefault((conv.attacker, conv.defender), [])
        if verdicts[conv.id].verdict == "attack":
            texts[(conv.attacker, conv.defender)].append(
                "\n".join(t.content for t in store.turns(conv.id) if t.role == "attacker"))
    return texts


def naive(store: Store, tid: int, board: Any, n_matchups: int) -> tuple[float, float, float, int, int]:
    """The naive sacrebleu computation on `n_matchups` matchups spread over the grid.

    Returns (wall, CPU, CPU extrapolated to every matchup by pairs, pairs timed, pairs in all)."""
    wall, cpu, texts = timed(lambda: success_texts(store, tid))
    pairs = {key: len(t) * (len(t) - 1) for key, t in texts.items()}
    keys = sorted(texts)
    step = max(1, len(keys) // max(1, n_matchups))
    chosen = keys[::step][:n_matchups]
    diversity_of = {(m.attacker, m.defender): m.diversity for m in board.matchups}
    for key in chosen:
        w, c, mean = timed(lambda key=key: pairwise_bleu_mean_naive(texts[key]))
        wall, cpu = wall + w, cpu + c
        assert abs((100 - mean) - diversity_of[key]) < 1e-9, (key, 100 - mean, diversity_of[key])
    timed_pairs, all_pairs = sum(pairs[k] for k in chosen), sum(pairs.values())
    return wall, cpu, cpu * all_pairs / timed_pairs, timed_pairs, all_pairs


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
    parser.add_argument("--naive-matchups", type=int, default=2,
                        help="matchups the naive sacrebleu baseline is timed on (25: all; the rest is extrapolated by pairs)")
    parser.add_argument("--memory-conversations", type=int, default=100_000,
                        help="size of the memory store (0 skips the memory measurement)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-leaderboard-") as folder:
        start = time.perf_counter()
        store, tid, undecided = build_store(Path(folder) / "arena.db", args.conversations, args.seed)
        built = time.perf_counter() - start
        with store:
            cache = LeaderboardCache()
            cold_s, cold_cpu, cold = timed(lambda: compute_leaderboard(store, [tid], n_boot=args.resamples, cache=cache))
            warm_s, warm_cpu, warm = timed(lambda: compute_leaderboard(store, [tid], n_boot=args.resamples, cache=cache))
            assert warm == cold
            naive_s, naive_cpu, naive_all_cpu, naive_pairs, all_pairs = naive(store, tid, cold, args.naive_matchups)

            store.save_verdicts(tid, [(cid, v.verdict, v.reason, "majority", None) for cid, v in store.verdicts(tid).items()
                                      if cid != undecided] + [(undecided, "attack", "annotators", "majority", 1.0)])
            computed_before = cache.bleu_computed
            label_s, label_cpu, _ = timed(lambda: compute_leaderboard(store, [tid], n_boot=args.resamples, cache=cache))
            recomputed = cache.bleu_computed - computed_before

            base_s = baseline(store, tid, args.resamples, 0)

    successes = sum(m.successes for m in cold.matchups)
    print(f"store: {len(cold.matchups)} matchups x {args.conversations} conversations, {successes} successful "
          f"attacks, built in {built:.1f} s; {args.resamples} bootstrap resamples")
    print(f"cold leaderboard       : {cold_s:7.3f} s wall, {cold_cpu:7.3f} s CPU (goal < {GOAL_S:.0f} s CPU)")
    print(f"warm (cache, no change): {warm_s:7.3f} s wall, {warm_cpu:7.3f} s CPU")
    print(f"after one new label    : {label_s:7.3f} s wall, {label_cpu:7.3f} s CPU ({recomputed} matchup BLEU recomputed)")
    print(f"naive sacrebleu BLEU   : {naive_s:7.3f} s wall, {naive_cpu:7.3f} s CPU on {args.naive_matchups} matchups "
          f"({naive_pairs:,} of {all_pairs:,} pairs); all matchups: {naive_all_cpu:.1f} s CPU"
          + (" (extrapolated by pairs)" if naive_pairs < all_pairs else ""))
    print(f"ratio naive/cold leaderboard, CPU: {naive_all_cpu / cold_cpu:.0f}x (the naive side computes no interval)")
    print(f"plain path (attackers only, vectorised BLEU, from texts): {base_s:.3f} s wall -> cold is {base_s / cold_s:.1f}x faster")
    top = cold.attackers[0]
    print(f"top attacker {top.name}: score {top.score:.2f} [{top.interval[0]:.2f}, {top.interval[1]:.2f}]")
    if args.memory_conversations:
        with tempfile.TemporaryDirectory(prefix="bench-leaderboard-") as folder:
            memory(Path(folder), args.memory_conversations)
    if cold_cpu >= GOAL_S:
        raise SystemExit(f"SLOW: the cold leaderboard took {cold_cpu:.2f} s of CPU (goal < {GOAL_S:.0f} s)")


if __name__ == "__main__":
    main()
