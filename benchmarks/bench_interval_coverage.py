"""Coverage of the 95 % bootstrap intervals, by simulation with a known truth.

Two statistics, each at n = 10, 30 and 100, over --reps simulated data sets:

- **attacker mean ASR**: an attacker meets 5 defenders, n conversations each; matchup m's
  true attack-success rate is drawn uniformly in 5-60 % for every data set, and the truth
  is the mean of the five rates (percent). New: ``core.evaluation.intervals.bootstrap_matchup_means``
  (what the leaderboard computes: BCa, n - 1 draws per matchup). Old: the percentile
  bootstrap it replaced (n draws per matchup, 2.5 % and 97.5 % quantiles). Also shown:
  BCa on those n-draw resamples, to separate the two changes.
- **Fleiss' kappa**: n items, 3 annotators of 85 % accuracy, 30 % of the items attacks;
  the truth is the population kappa of that model, (P_o - P_e) / (1 - P_e) with
  P_o = q^2 + (1 - q)^2 and P_e = p^2 + (1 - p)^2, p = 0.3 q + 0.7 (1 - q). New: the
  interval ``core.evaluation.agreement.agreement_report`` gives (BCa over items; checked equal on
  the first data sets). Old: the percentile interval of the same resamples.

Prints the share of data sets whose interval holds the truth (and its Monte Carlo
standard error); the goal is >= 0.94 at n = 30. 1,000 resamples per interval. For
kappa (one sample, n draws) "BCa, n draws" is the new interval itself.

    python benchmarks/bench_interval_coverage.py [--reps 2000] [--seed 1]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.evaluation.agreement import (  # noqa: E402
    _fleiss_features,
    _fleiss_from_sums,
    _resample_weights,
    agreement_report,
)
from core.evaluation.intervals import (  # noqa: E402
    bca_interval,
    bootstrap_matchup_means,
    resample_counts,
)

N_BOOT = 1000
SIZES = (10, 30, 100)
MATCHUPS = 5
ANNOTATORS = 3
ACCURACY = 0.85
ATTACK_SHARE = 0.3


def percentile(replicates: np.ndarray) -> tuple[float, float]:
    low, high = np.quantile(replicates, [0.025, 0.975])
    return float(low), float(high)


def asr_case(rng: np.random.Generator, n: int, seed: int) -> tuple[bool, bool, bool]:
    """(old covers, BCa with n draws covers, new covers) for one simulated attacker."""
    rates = rng.uniform(0.05, 0.6, MATCHUPS)
    values = [100.0 * (rng.random(n) < rate) for rate in rates]
    truth = 100.0 * rates.mean()
    counts = resample_counts([n] * MATCHUPS, N_BOOT, seed)
    replicates = np.mean([c @ v / n for c, v in zip(counts, values, strict=True)], axis=0)
    old = percentile(replicates)
    estimate = float(np.mean([v.mean() for v in values]))
    left_out = [estimate + ((v.sum() - v) / (n - 1) - v.mean()) / MATCHUPS for v in values]
    bca = bca_interval(estimate, replicates, left_out)
    new = bootstrap_matchup_means(values, None, N_BOOT, seed)
    return (old[0] <= truth <= old[1], bca.lo <= truth <= bca.hi, new.lo <= truth <= new.hi)


def kappa_truth() -> float:
    observed = ACCURACY ** 2 + (1 - ACCURACY) ** 2
    attack = ATTACK_SHARE * ACCURACY + (1 - ATTACK_SHARE) * (1 - ACCURACY)
    chance = attack ** 2 + (1 - attack) ** 2
    return (observed - chance) / (1 - chance)


def kappa_case(rng: np.random.Generator, n: int, seed: int, check: bool) -> tuple[bool, bool, bool]:
    """(old covers, BCa covers, new covers) for one simulated set of labels: BCa is new."""
    truth = rng.random(n) < ATTACK_SHARE
    right = rng.random((n, ANNOTATORS)) < ACCURACY
    attack = np.where(right, truth[:, None], ~truth[:, None])
    table = np.column_stack([attack.sum(axis=1), ANNOTATORS - attack.sum(axis=1)]).astype(float)
    features = _fleiss_features(table)
    totals = features.sum(axis=0)[None, :]
    estimate = float(_fleiss_from_sums(totals, np.array([n]))[0])
    weights = np.vstack(list(_resample_weights(np.random.default_rng(seed), n, N_BOOT)))
    replicates = _fleiss_from_sums(weights @ features, np.full(N_BOOT, n))
    left_out = _fleiss_from_sums(totals - features, np.full(n, n - 1))
    finite = replicates[np.isfinite(replicates)]
    old = percentile(finite) if finite.size * 2 >= replicates.size else (math.nan, math.nan)
    new = bca_interval(estimate, replicates, [left_out])
    if check:  # item names sort (by repr, as agreement_report orders items) in table order
        rows = [(f"i{item:03d}", who, "attack" if attack[item, who] else "defense")
                for item in range(n) for who in range(ANNOTATORS)]
        report = agreement_report(rows, categories=["attack", "defense"], resamples=N_BOOT,
                                  seed=seed).fleiss_kappa
        same = all(math.isclose(a, b, rel_tol=1e-9) or (math.isnan(a) and math.isnan(b))
                   for a, b in ((report.low, new.lo), (report.high, new.hi)))
        if not same:
            raise SystemExit(f"agreement_report gives {report}, the benchmark {new}")
    value = kappa_truth()
    return old[0] <= value <= old[1], new.lo <= value <= new.hi, new.lo <= value <= new.hi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=2000, help="simulated data sets per cell")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    standard_error = math.sqrt(0.95 * 0.05 / args.reps)
    print(f"coverage of 95 % intervals over {args.reps} simulated data sets each "
          f"(Monte Carlo standard error {standard_error:.3f}); {N_BOOT} resamples")
    print(f"{'statistic':<34} {'n':>4} {'percentile (old)':>17} {'BCa, n draws':>13} "
          f"{'new':>6} {'time':>7}")
    cases = (
        (f"attacker mean ASR, {MATCHUPS} matchups x n",
         lambda n, rep: asr_case(rng, n, rep)),
        (f"Fleiss' kappa, n items x {ANNOTATORS} raters",
         lambda n, rep: kappa_case(rng, n, rep, check=rep < 20)),
    )
    for name, case in cases:
        for n in SIZES:
            started = time.perf_counter()
            hits = np.array([case(n, rep) for rep in range(args.reps)])
            old, bca, new = hits.mean(axis=0)
            print(f"{name:<34} {n:>4} {old:>17.3f} {bca:>13.3f} {new:>6.3f} "
                  f"{time.perf_counter() - started:>6.1f}s")
    print(f"Fleiss' kappa truth: {kappa_truth():.4f}")


if __name__ == "__main__":
    main()
