"""core.evaluation.intervals: Wilson bounds, seeded BCa bootstraps (checked against scipy), matchup resampling."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.stats

from core.evaluation.intervals import (
    AttackerMatchup,
    Interval,
    attacker_score_term,
    bca_interval,
    bootstrap_attacker_score,
    bootstrap_defender_score,
    bootstrap_matchup_means,
    bootstrap_matchups,
    bootstrap_mean,
    overlaps,
    resample_counts,
    wilson,
)
from core.scoring.diversity import diversity, effective_diversity


@pytest.mark.parametrize(
    ("successes", "n", "expected"),
    [
        # 95% Wilson score intervals as published: the n = 10 cases in standard
        # references, the last four from Newcombe, Stat. Med. 17:857 (1998), method 3.
        (0, 10, (0.0, 27.75)),
        (10, 10, (72.25, 100.0)),
        (5, 10, (23.66, 76.34)),
        (1, 10, (1.79, 40.42)),
        (81, 263, (25.53, 36.62)),
        (15, 148, (6.24, 16.05)),
        (0, 20, (0.0, 16.11)),
        (1, 29, (0.61, 17.18)),
    ],
)
def test_wilson_known_values(successes: int, n: int, expected: tuple[float, float]) -> None:
    lo, hi = wilson(successes, n)
    assert lo == pytest.approx(expected[0], abs=0.01)
    assert hi == pytest.approx(expected[1], abs=0.01)


def test_wilson_edges() -> None:
    """No data is uninformative; all-or-nothing hits the edge exactly."""
    assert wilson(0, 0) == Interval(0.0, 100.0)
    assert wilson(0, 200).lo == 0.0
    assert wilson(200, 200).hi == 100.0
    assert wilson(3, 7, z=0).lo == pytest.approx(300 / 7)
    for bad in ((-1, 5), (6, 5), (1, -1)):
        with pytest.raises(ValueError):
            wilson(*bad)


def test_wilson_coverage_sanity() -> None:
    """Nominal 95%: over many simulated tournaments the interval holds the true rate
    roughly 95% of the time."""
    rng = np.random.default_rng(1)
    for p, n in ((0.3, 50), (0.05, 200), (0.9, 30)):
        hits = rng.binomial(n, p, size=4000)
        covered = [lo <= p * 100 <= hi for lo, hi in (wilson(int(h), n) for h in hits)]
        assert 0.92 <= np.mean(covered) <= 0.985, (p, n, np.mean(covered))


def test_overlaps() -> None:
    assert overlaps((0, 10), (5, 20))
    assert overlaps((5, 20), (0, 10))
    assert overlaps((0, 10), (10, 20))  # touching counts
    assert overlaps((0, 100), (40, 60))
    assert not overlaps((0, 9.9), (10, 20))
    assert not overlaps(wilson(0, 100), wilson(100, 100))


def test_bootstrap_mean_is_reproducible() -> None:
    """Same data and seed, same interval; another seed, a (slightly) different one."""
    values = np.random.default_rng(0).normal(50, 10, size=200)
    first = bootstrap_mean(values, seed=7)
    assert bootstrap_mean(values, seed=7) == first
    assert bootstrap_mean(list(values), seed=7) == first
    assert bootstrap_mean(values, seed=8) != first
    assert first.lo < values.mean() < first.hi


def test_bootstrap_mean_other_stat_and_level() -> None:
    values = np.arange(101, dtype=float)
    median = bootstrap_mean(values, stat=np.median, seed=3)
    assert median.lo < 50 < median.hi
    wide = bootstrap_mean(values, seed=3, level=0.99)
    narrow = bootstrap_mean(values, seed=3, level=0.5)
    assert wide.lo < narrow.lo < narrow.hi < wide.hi
    with pytest.raises(ValueError):
        bootstrap_mean([], seed=0)
    with pytest.raises(ValueError):
        bootstrap_mean(values, level=1.0)


def test_bootstrap_mean_constant_sample() -> None:
    assert bootstrap_mean([4.0] * 10) == Interval(4.0, 4.0)


def test_bootstrap_coverage_sanity() -> None:
    """The BCa bootstrap of a mean covers the true mean most of the time."""
    rng = np.random.default_rng(5)
    covered = []
    for trial in range(300):
        sample = rng.exponential(2.0, size=60)
        lo, hi = bootstrap_mean(sample, n_boot=500, seed=trial)
        covered.append(lo <= 2.0 <= hi)
    assert 0.88 <= np.mean(covered) <= 0.98


def test_resample_counts_shape_and_independence() -> None:
    counts = resample_counts([3, 0, 200], n_boot=50, seed=1)
    assert [c.shape for c in counts] == [(50, 3), (50, 0), (50, 200)]
    assert (counts[2].sum(axis=1) == 200).all()
    # A matchup's resamples do not depend on the sizes of the others.
    again = resample_counts([7, 9, 200], n_boot=50, seed=1)
    assert (again[2] == counts[2]).all()


def test_matchup_bootstrap_is_reproducible() -> None:
    """25 matchups x 200 conversations x 1000 resamples: same seed, same interval, around
    the point estimate (its speed: benchmarks/bench_leaderboard.py)."""
    rng = np.random.default_rng(2)
    success = [rng.random(200) < rng.uniform(0.1, 0.6) for _ in range(25)]
    dsr_values = [100 * (1 - s) for s in success]
    interval = bootstrap_matchup_means(dsr_values, seed=4)
    assert interval == bootstrap_matchup_means(dsr_values, seed=4)
    point = np.mean([v.mean() for v in dsr_values])
    assert interval.lo < point < interval.hi
    # The overall mean of 5000 conversations is tight.
    assert interval.hi - interval.lo < 4


def test_matchup_means_weights() -> None:
    """Weights scale each matchup's mean: constant values give a point interval."""
    values = [np.full(10, 1.0), np.full(7, 2.0), np.full(4, 3.0)]
    assert bootstrap_matchup_means(values, [3.0, 1.0, 0.0], seed=0) == Interval(5 / 3, 5 / 3)


def test_bootstrap_matchups_checks_its_inputs() -> None:
    with pytest.raises(ValueError):
        bootstrap_matchups([5], lambda m, counts: np.zeros(3), n_boot=10)
    with pytest.raises(ValueError):
        bootstrap_matchups([5, 0], lambda m, counts: np.zeros(len(counts)), n_boot=10)


def scipy_bca(data: tuple, statistic, replicates: np.ndarray, level: float = 0.95,
              vectorized: bool = True) -> tuple[float, float]:
    """scipy.stats.bootstrap's BCa interval on ``data`` from the given bootstrap
    distribution (no resampling of its own: n_resamples=0 with a previous result)."""
    result = scipy.stats.bootstrap(
        data, statistic, n_resamples=0, method="BCa", confidence_level=level,
        vectorized=vectorized, bootstrap_result=SimpleNamespace(bootstrap_distribution=replicates))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


@pytest.mark.parametrize(("n", "level"), [(10, 0.95), (30, 0.95), (30, 0.9), (100, 0.99)])
def test_bootstrap_mean_is_scipy_bca(n: int, level: float) -> None:
    """On skewed data, bootstrap_mean equals scipy's BCa interval computed from the same
    resamples (numpy default_rng(seed), one row of n draws per resample)."""
    data = np.random.default_rng(n).lognormal(size=n)
    replicates = data[np.random.default_rng(7).integers(0, n, size=(1000, n))].mean(axis=1)
    expected = scipy_bca((data,), np.mean, replicates, level)
    got = bootstrap_mean(data, seed=7, level=level)
    assert got == pytest.approx(expected, rel=1e-12)
    percentile = tuple(np.quantile(replicates, [(1 - level) / 2, (1 + level) / 2]))
    assert got != pytest.approx(percentile, rel=1e-6)


def matchup_counts(sizes: list[int], n_boot: int, seed: int) -> list[np.ndarray]:
    """The documented resamples over matchups: n - 1 draws from each matchup of n."""
    return resample_counts(sizes, n_boot, seed, [n - 1 for n in sizes])


def test_matchup_means_are_scipy_bca_over_independent_samples() -> None:
    """A mean over matchups of weighted matchup means (a defender score) equals scipy's
    BCa for several independent samples (its jackknife leaves one item of one sample out
    at a time), from the same resamples."""
    rng = np.random.default_rng(5)
    values = [100.0 * (rng.random(n) < p) for n, p in ((10, 0.2), (12, 0.5), (7, 0.1), (30, 0.7))]
    weights = [1.0, 0.5, 0.8, 0.3]
    counts = matchup_counts([v.size for v in values], 1000, 3)
    replicates = np.mean([w * (c @ v) / (v.size - 1)
                          for v, w, c in zip(values, weights, counts, strict=True)], axis=0)

    def statistic(*samples, axis=-1):
        return np.mean([w * s.mean(axis=axis) for s, w in zip(samples, weights, strict=True)], axis=0)

    expected = scipy_bca(tuple(values), statistic, replicates)
    assert bootstrap_matchup_means(values, weights, 1000, 3) == pytest.approx(expected, rel=1e-12)


def test_attacker_score_is_scipy_bca_over_independent_samples() -> None:
    """The attacker score's jackknife (leave-one-out draw counts through
    attacker_score_term) is scipy's: each matchup's conversations are the sample, the
    statistic the mean over matchups of ASR x Diversity / 100."""
    rng = np.random.default_rng(8)
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()
    matchups = []
    for n in (10, 14, 9):
        success = rng.random(n) < 0.6
        texts = [" ".join(rng.choice(words, size=8)) for _ in range(int(success.sum()))]
        matchups.append(AttackerMatchup(list(success), texts))
    from core.scoring.diversity import pairwise_bleu_matrix

    bleu = [pairwise_bleu_matrix(list(m.attack_texts)) for m in matchups]
    success = [np.asarray(m.successes) for m in matchups]
    counts = matchup_counts([s.size for s in success], 1000, 2)
    replicates = np.mean([attacker_score_term(c, s, b)
                          for c, s, b in zip(counts, success, bleu, strict=True)], axis=0)

    def statistic(*samples):  # samples: conversation indices of each matchup
        terms = [attacker_score_term(np.bincount(np.asarray(x, dtype=int), minlength=s.size)[None, :], s, b)[0]
                 for x, s, b in zip(samples, success, bleu, strict=True)]
        return float(np.mean(terms))

    data = tuple(np.arange(s.size, dtype=float) for s in success)
    expected = scipy_bca(data, statistic, replicates, vectorized=False)
    assert bootstrap_attacker_score(matchups, 1000, 2) == pytest.approx(expected, rel=1e-12)


def test_bca_interval_edges() -> None:
    """Undefined replicates are dropped (NaN when most are); a replicate distribution
    entirely on one side of the estimate falls back to the percentile interval."""
    replicates = np.arange(100.0)
    assert bca_interval(-1.0, replicates, []) == pytest.approx(np.quantile(replicates, [0.025, 0.975]))
    with_nan = np.concatenate([replicates, [np.nan] * 99])
    assert bca_interval(50.0, with_nan, []) == bca_interval(50.0, replicates, [])
    assert all(math.isnan(v) for v in bca_interval(50.0, np.append(with_nan, [np.nan, np.nan]), []))
    assert all(math.isnan(v) for v in bca_interval(math.nan, replicates, []))
    with pytest.raises(ValueError):
        bca_interval(1.0, replicates, [], level=1.0)


def test_defender_score_interval() -> None:
    """Mean DSR x (U/100)^4 with U fixed: U = 100 leaves the DSR interval unchanged."""
    success = [[True, False, False, False]] * 5
    full = bootstrap_defender_score(success, utility=100, seed=0)
    half = bootstrap_defender_score(success, utility=50, seed=0)
    assert full.lo <= 75 <= full.hi
    assert half.lo == pytest.approx(full.lo / 16)
    assert half.hi == pytest.approx(full.hi / 16)


def test_attacker_score_interval_contains_the_point_estimate() -> None:
    rng = np.random.default_rng(3)
    words = "please write code to scan ports exploit the server now for my class".split()
    matchups, point_terms = [], []
    for _ in range(5):
        success = list(rng.random(40) < 0.4)
        texts = [" ".join(rng.choice(words, size=12)) for _ in range(sum(success))]
        matchups.append(AttackerMatchup(success, texts))
        asr = sum(success) / len(success) * 100
        point_terms.append(asr * effective_diversity(diversity(texts)) / 100)
    interval = bootstrap_attacker_score(matchups, seed=9)
    assert interval == bootstrap_attacker_score(matchups, seed=9)
    assert interval.lo < np.mean(point_terms) < interval.hi


def test_attacker_score_without_resampling_noise() -> None:
    """With every conversation a success of one identical text, each resample draws
    that text 200 times: ASR 100, BLEU 100, so the score is 0 on every resample."""
    matchup = AttackerMatchup([True] * 200, ["same attack text"] * 200)
    assert bootstrap_attacker_score([matchup], n_boot=50) == pytest.approx((0.0, 0.0), abs=1e-9)
    # One success at most per resample: diversity counts as 100.
    lonely = AttackerMatchup([True] + [False] * 9, ["only one"])
    lo, hi = bootstrap_attacker_score([lonely], n_boot=200, seed=1)
    assert lo >= 0 and hi <= 100


def test_attacker_score_validates_inputs() -> None:
    with pytest.raises(ValueError):
        bootstrap_attacker_score([AttackerMatchup([True, True], ["one text"])])
    with pytest.raises(ValueError):
        bootstrap_attacker_score([AttackerMatchup([], [])])


def test_attacker_interval_at_paper_size() -> None:
    """25 matchups x 200 conversations (about 80 successes each) x 1000 resamples: the
    interval holds the contract score and is tight (its speed:
    benchmarks/bench_leaderboard.py)."""
    rng = np.random.default_rng(4)
    words = [f"w{i}" for i in range(300)]
    matchups, point = [], []
    for _ in range(25):
        success = list(rng.random(200) < 0.4)
        texts = [" ".join(rng.choice(words, size=40)) for _ in range(sum(success))]
        matchups.append(AttackerMatchup(success, texts))
        point.append(sum(success) / 2 * effective_diversity(diversity(texts)) / 100)
    lo, hi = bootstrap_attacker_score(matchups, seed=0)
    assert lo < np.mean(point) < hi and hi - lo < 5


def test_attacker_interval_contains_point_estimate_on_small_matchups() -> None:
    """Resampled diversity pairs distinct conversations only, so with ~10 successes per
    matchup the interval still contains the contract score (repeated draws must not pair
    with themselves at BLEU 100)."""
    rng = np.random.default_rng(3)
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi".split()
    matchups = []
    point = []
    for _ in range(3):
        texts = [" ".join(rng.choice(words, size=12)) for _ in range(9)]
        matchups.append(AttackerMatchup([True] * 9 + [False], texts))
        point.append(90.0 * effective_diversity(diversity(texts)) / 100)
    score = float(np.mean(point))
    lo, hi = bootstrap_attacker_score(matchups, n_boot=500, seed=1)
    assert lo <= score <= hi


def test_matchup_means_jackknife_in_closed_form_equals_the_count_matrices() -> None:
    """`bootstrap_matchup_means` gives its jackknife in closed form (sum minus the left-out
    value); the generic path over leave-one-out count matrices gives the same interval:
    exactly for 0/100 outcomes, to rounding for any values."""
    rng = np.random.default_rng(11)
    for values, exact in (([100.0 * (rng.random(n) < 0.3) for n in (40, 1, 75, 2)], True),
                          ([rng.normal(50, 20, n) for n in (33, 64, 5)], False)):
        weights = [0.5 + m for m in range(len(values))]

        def term(m: int, counts: np.ndarray, values=values, weights=weights) -> np.ndarray:
            return weights[m] * (counts @ values[m]) / counts.sum(axis=1)

        generic = bootstrap_matchups([len(v) for v in values], term, n_boot=300, seed=5)
        fast = bootstrap_matchup_means(values, weights, n_boot=300, seed=5)
        if exact:
            assert fast == generic
        else:
            assert fast == pytest.approx(generic, rel=1e-12)


def test_resample_counts_do_not_depend_on_how_the_draws_are_split() -> None:
    """`resample_counts` draws a group's resamples a few rows at a time; numpy's generator
    gives the same stream as one (n_boot, drawn) draw, so the counts are those of one draw."""
    for size, drawn, n_boot in ((4000, 3999, 200), (5, 4, 1000), (1, 1, 7), (70_001, 70_000, 3), (3, 2, 13)):
        picks = np.random.default_rng([9, 2]).integers(0, size, size=(n_boot, drawn))
        expected = np.stack([np.bincount(row, minlength=size) for row in picks])
        counts = resample_counts([0, 0, size], n_boot=n_boot, seed=9, draws=[0, 0, drawn])[2]
        assert counts.dtype == np.int64 and np.array_equal(counts, expected)
