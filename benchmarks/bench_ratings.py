"""Benchmark: Bradley-Terry ratings with bootstrap intervals, against FastChat's way.

Data: A attackers x D defenders (default 5 x 5, the paper's grid, and 20 x 20), every
pair playing N games (default 200, the paper's conversations per matchup) drawn from
known ratings.

Timed, in the same run, interleaved (round 1: ours then the baseline; round 2: the
baseline then ours), wall and CPU time:
- ours: `core.scoring.ratings.rate_games` with B resamples: Newton's method on the
  pair counts, every resample fitted at once (batched Newton steps);
- baseline: the way Chatbot Arena's FastChat fits Bradley-Terry (`fit_bt`,
  `compute_bootstrap_bt` in fastchat/serve/monitor/rating_systems.py): scipy's
  L-BFGS-B on the loss and gradient of the unique (pair, outcome) rows weighted by their
  counts, one fit per resample, on the same counts, prior and ridge as ours (so both
  optimise the same objective, and the ratings are compared too).

The ratio printed is baseline time / ours. The machine may be loaded: read CPU time
next to wall time.

    python benchmarks/bench_ratings.py [--attackers 5] [--defenders 5] [--games 200] [--resamples 1000]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.scoring.ratings import ELO_SCALE, PRIOR_GAMES, RIDGE, PairGames, rate_games  # noqa: E402


def baseline(pairs: list[PairGames], n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """FastChat's approach on the same objective: per resample, scipy L-BFGS-B on the
    weighted rows (win rows and loss rows of every pair), percentile interval."""
    from scipy.optimize import minimize
    from scipy.special import expit

    attackers = sorted({p.attacker for p in pairs})
    defenders = sorted({p.defender for p in pairs})
    a = np.asarray([attackers.index(p.attacker) for p in pairs])
    d = np.asarray([len(attackers) + defenders.index(p.defender) for p in pairs])
    wins = np.asarray([p.wins for p in pairs], dtype=np.float64)
    games = np.asarray([p.games for p in pairs], dtype=np.float64)
    n_params = len(attackers) + len(defenders)
    rows_a, rows_d = np.r_[a, a], np.r_[d, d]
    outcome = np.r_[np.ones(a.size), np.zeros(a.size)]

    def loss_and_grad(theta: np.ndarray, weights: np.ndarray) -> tuple[float, np.ndarray]:
        logit = theta[rows_a] - theta[rows_d]
        p = expit(logit)
        loss = -((np.log(p) * outcome + np.log(1 - p) * (1 - outcome)) * weights).sum() + RIDGE / 2 * theta @ theta
        g = -(outcome - p) * weights
        grad = RIDGE * theta
        np.add.at(grad, rows_a, g)
        np.add.at(grad, rows_d, -g)
        return loss, grad

    def fit(w: np.ndarray, n: np.ndarray) -> np.ndarray:
        weights = np.r_[w + PRIOR_GAMES, n - w + PRIOR_GAMES]
        result = minimize(loss_and_grad, np.zeros(n_params), args=(weights,), jac=True, method="L-BFGS-B",
                          options={"maxiter": 1000, "gtol": 1e-8})
        return result.x

    estimate = fit(wins, games)
    rng = np.random.default_rng(seed)
    boot = np.asarray([fit(rng.binomial(games.astype(np.int64), wins / games).astype(np.float64), games)
                       for _ in range(n_boot)])
    return estimate, np.percentile(boot, [2.5, 97.5], axis=0)


def timed(fn):  # noqa: ANN001, ANN201
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attackers", type=int, default=5)
    parser.add_argument("--defenders", type=int, default=5)
    parser.add_argument("--games", type=int, default=200)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    strength_a = rng.normal(0, 1, args.attackers)
    strength_d = rng.normal(0, 1, args.defenders)
    pairs = [PairGames(f"a{i}", f"d{j}", int(rng.binomial(args.games, 1 / (1 + math.exp(strength_d[j] - strength_a[i])))),
                       args.games) for i in range(args.attackers) for j in range(args.defenders)]
    print(f"{args.attackers} x {args.defenders} teams, {args.games} games per pair, {args.resamples} resamples")
    results: dict[str, list[tuple[float, float]]] = {"ours": [], "baseline": []}
    ours = base = None
    for order in (("ours", "baseline"), ("baseline", "ours")):
        for name in order:
            if name == "ours":
                ours, wall, cpu = timed(lambda: rate_games(pairs, n_boot=args.resamples, seed=args.seed))
            else:
                base, wall, cpu = timed(lambda: baseline(pairs, args.resamples, args.seed))
            results[name].append((wall, cpu))
    for name, runs in results.items():
        best_wall = min(w for w, _ in runs)
        best_cpu = min(c for _, c in runs)
        print(f"{name:>9}: wall {best_wall:.3f} s, cpu {best_cpu:.3f} s (best of {len(runs)})")
    ratio_wall = min(w for w, _ in results["baseline"]) / min(w for w, _ in results["ours"])
    ratio_cpu = min(c for _, c in results["baseline"]) / min(c for _, c in results["ours"])
    print(f"ratio (baseline / ours): wall {ratio_wall:.1f}x, cpu {ratio_cpu:.1f}x")
    estimate, _ = base
    ours_theta = {r.name: (r.rating - 1000) / ELO_SCALE for r in (*ours.attackers, *ours.defenders)}
    names = sorted({p.attacker for p in pairs}) + sorted({p.defender for p in pairs})
    gap = max(abs(ours_theta[n] - estimate[k]) for k, n in enumerate(names))
    print(f"largest difference between the two estimates: {gap:.2e} logit ({gap * ELO_SCALE:.2e} Elo points)")


if __name__ == "__main__":
    main()
