"""Agreement statistics against published worked examples, intervals against scipy's BCa (core.evaluation.agreement)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.stats

from core.evaluation.agreement import (
    _resample_weights,
    agreement_report,
    bootstrap_ci,
    category_counts,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha_nominal,
    pairwise_cohen,
    percent_agreement,
)

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: nominal
# data, 4 observers, 12 units, missing values ("."). Published alpha = 0.743.
KRIPPENDORFF_2011 = {
    "A": "1 2 3 3 2 1 4 1 2 . . .",
    "B": "1 2 3 3 2 2 4 1 2 5 . 3",
    "C": ". 3 3 3 2 3 4 2 2 5 1 .",
    "D": "1 2 3 3 2 4 4 1 2 5 1 .",
}

# Fleiss (1971), "Measuring nominal scale agreement among many raters", Table 1:
# 30 patients, 6 psychiatrists each, 5 diagnoses (1 depression, 2 personality disorder,
# 3 schizophrenia, 4 neurosis, 5 other); the same data as R irr's `diagnoses`.
# Published: kappa = .430, P̄ = .556, P̄e = .220.
FLEISS_1971 = """\
4 4 4 4 4 4|2 2 2 5 5 5|2 3 3 3 3 5|5 5 5 5 5 5|2 2 2 4 4 4|1 1 3 3 3 3|3 3 3 3 5 5
1 1 3 3 3 4|1 1 4 4 4 4|5 5 5 5 5 5|1 4 4 4 4 4|1 2 4 4 4 4|2 2 2 3 3 3|1 4 4 4 4 4
2 2 4 4 4 5|3 3 3 3 3 5|1 1 1 4 5 5|1 1 1 1 1 2|2 2 4 4 4 4|1 3 3 5 5 5|5 5 5 5 5 5
2 4 4 4 4 4|2 2 4 5 5 5|1 1 4 4 4 4|1 4 4 4 4 5|2 2 2 2 2 4|1 1 1 1 5 5|2 2 4 4 4 4
1 3 3 3 3 3|5 5 5 5 5 5"""


def krippendorff_units() -> list[list[int | None]]:
    columns = [[None if v == "." else int(v) for v in row.split()]
               for row in KRIPPENDORFF_2011.values()]
    return [list(unit) for unit in zip(*columns, strict=True)]


def fleiss_table() -> np.ndarray:
    units = [[int(v) for v in patient.split()]
             for line in FLEISS_1971.splitlines() for patient in line.split("|")]
    assert len(units) == 30 and all(len(unit) == 6 for unit in units)
    return category_counts(units, categories=[1, 2, 3, 4, 5])[1]


def wikipedia_cohen() -> tuple[list[str], list[str]]:
    """Wikipedia "Cohen's kappa" example: 50 grant proposals, readers A and B.

    Both yes 20, A yes / B no 5, A no / B yes 10, both no 15; kappa = 0.4.
    """
    first = ["yes"] * 20 + ["yes"] * 5 + ["no"] * 10 + ["no"] * 15
    second = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    return first, second


def test_krippendorff_2011_nominal_example() -> None:
    """Alpha of Krippendorff's 4-coder, 12-unit nominal example with missing data is 0.743."""
    _, table = category_counts(krippendorff_units())
    assert round(krippendorff_alpha_nominal(table), 3) == 0.743


def test_fleiss_1971_diagnoses_example() -> None:
    """Fleiss' kappa of the 30 x 6 diagnoses table is 0.430, with P̄ = 0.556."""
    table = fleiss_table()
    assert round(fleiss_kappa(table), 3) == 0.430
    assert round(percent_agreement(table), 3) == 0.556
    shares = table.sum(axis=0) / table.sum()
    assert round(float((shares ** 2).sum()), 3) == 0.220


def test_wikipedia_cohen_example() -> None:
    """Cohen's kappa of the 50-proposal yes/no example is 0.4."""
    assert cohen_kappa(*wikipedia_cohen()) == pytest.approx(0.4)


def test_cohen_drops_pairs_with_a_missing_label() -> None:
    """A None on either side removes that pair instead of counting as disagreement."""
    first, second = wikipedia_cohen()
    assert cohen_kappa(first + ["yes", None], second + [None, "no"]) == pytest.approx(0.4)


def test_perfect_agreement_is_one() -> None:
    """Unanimous items with some variation across items give kappa = alpha = P̄ = 1."""
    perfect = [[3, 0], [0, 3], [3, 0]]
    assert fleiss_kappa(perfect) == pytest.approx(1.0)
    assert krippendorff_alpha_nominal(perfect) == pytest.approx(1.0)
    assert percent_agreement(perfect) == pytest.approx(1.0)


def test_undefined_statistics_are_nan() -> None:
    """When every label is the same there is no variation and kappa/alpha are undefined."""
    same = [[3, 0], [3, 0]]
    assert math.isnan(fleiss_kappa(same))
    assert math.isnan(krippendorff_alpha_nominal(same))
    assert math.isnan(cohen_kappa(["a", "a"], ["a", "a"]))
    assert math.isnan(fleiss_kappa([[1, 0]]))  # no item with two labels


def test_agreement_report_on_krippendorff_rows() -> None:
    """The report built from (item, annotator, label) rows reproduces the table statistics."""
    rows = [(unit, coder, value)
            for unit, values in enumerate(krippendorff_units())
            for coder, value in zip("ABCD", values, strict=True)]
    report = agreement_report(rows, resamples=400, seed=3)
    assert report.items == 11  # unit 12 has a single value
    assert report.labels == 40
    assert report.annotators == ("A", "B", "C", "D")
    assert round(report.krippendorff_alpha.value, 3) == 0.743
    for estimate in (report.krippendorff_alpha, report.fleiss_kappa, report.percent_agreement):
        assert estimate.low <= estimate.value <= estimate.high
    # C goes against the others' majority on units 2 and 8; unit 6 has no majority.
    assert report.per_annotator["C"].compared == 8
    assert report.per_annotator["C"].agreement.value == pytest.approx(6 / 8)
    assert report.per_annotator["A"].agreement.value == 1.0


def test_agreement_report_is_reproducible_and_seed_dependent() -> None:
    """Same seed, same intervals; another seed, (almost surely) other intervals."""
    rows = [(i, rater, v) for i, unit in enumerate(fleiss_table())
            for rater, v in enumerate(np.repeat(np.arange(5), unit))]
    first = agreement_report(rows, seed=1, resamples=300)
    again = agreement_report(rows, seed=1, resamples=300)
    other = agreement_report(rows, seed=2, resamples=300)
    assert first == again
    assert first.fleiss_kappa.low != other.fleiss_kappa.low
    assert round(first.fleiss_kappa.value, 3) == 0.430


def test_later_labels_replace_earlier_ones() -> None:
    """A relabel by the same annotator replaces the earlier label; None withdraws it."""
    rows = [(1, "a", "x"), (1, "b", "y"), (1, "b", "x"), (2, "a", "x"), (2, "b", "y"),
            (3, "a", "y"), (3, "b", "y"), (3, "c", "x"), (3, "c", None)]
    report = agreement_report(rows, resamples=50)
    assert report.labels == 6 and report.items == 3
    assert report.percent_agreement.value == pytest.approx(2 / 3)


def test_pairwise_cohen_matrix() -> None:
    """The matrix is symmetric, reproduces the two-rater kappa, and marks unshared pairs."""
    first, second = wikipedia_cohen()
    rows = [(i, "A", label) for i, label in enumerate(first)]
    rows += [(i, "B", label) for i, label in enumerate(second)]
    rows += [(100, "C", "yes"), (100, "A", "no")]
    matrix = pairwise_cohen(rows, resamples=200, seed=0)
    assert matrix.annotators == ("A", "B", "C")
    ab = matrix.kappa[0][1]
    assert ab == matrix.kappa[1][0]
    assert ab.value == pytest.approx(0.4) and ab.low < 0.4 < ab.high
    assert matrix.kappa[0][0] is None
    assert matrix.kappa[0][2] is None and matrix.shared[0][2] == 1
    assert matrix.shared[0][1] == 50


def test_bootstrap_ci_generic() -> None:
    """bootstrap_ci resamples items with a seeded generator and brackets the statistic."""
    values = list(range(100))
    low, high = bootstrap_ci(lambda sample: float(np.mean(sample)), values, seed=5)
    assert low < 49.5 < high
    assert (low, high) == bootstrap_ci(lambda sample: float(np.mean(sample)), values, seed=5)
    assert all(math.isnan(v) for v in bootstrap_ci(lambda s: float("nan"), values))


def scipy_bca(n_items: int, statistic, replicates: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """scipy.stats.bootstrap's BCa interval over items 0..n-1 (``statistic`` gets the item
    indices of a sample) from the given bootstrap distribution (n_resamples=0)."""
    result = scipy.stats.bootstrap(
        (np.arange(n_items, dtype=float),), lambda idx: statistic(idx.astype(int)), n_resamples=0,
        method="BCa", confidence_level=level, vectorized=False,
        bootstrap_result=SimpleNamespace(bootstrap_distribution=np.asarray(replicates)))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def thirty_items(seed: int = 3) -> list[tuple[str, str, str]]:
    """30 items ("i00".."i29") labelled by three annotators of ~85 % accuracy on a 30 %
    attack base rate."""
    rng = np.random.default_rng(seed)
    rows = []
    for item in range(30):
        truth = "attack" if rng.random() < 0.3 else "defense"
        for who in ("a", "b", "c"):
            other = "defense" if truth == "attack" else "attack"
            rows.append((f"i{item:02d}", who, truth if rng.random() < 0.85 else other))
    return rows


def test_bootstrap_ci_is_scipy_bca() -> None:
    """bootstrap_ci of Fleiss' kappa over 30 items equals scipy's BCa from the same
    resamples (numpy default_rng(seed), one row of n draws per resample)."""
    items = thirty_items()
    _, table = category_counts([[label for i, _, label in items if i == item] for item in sorted({r[0] for r in items})])
    rows = list(table)
    low, high = bootstrap_ci(fleiss_kappa, rows, seed=4, resamples=500)
    draws = np.random.default_rng(4).integers(0, 30, size=(500, 30))
    replicates = [fleiss_kappa(table[row]) for row in draws]
    assert (low, high) == pytest.approx(scipy_bca(30, lambda idx: fleiss_kappa(table[idx]), replicates), rel=1e-12)


def ties(replicates: list[float], estimate: float) -> list[float]:
    """Replicates within rounding of the estimate (as scipy computes it) set to it: a
    resample with the data's own table has the estimate's value, up to the order its sums
    were added in, and BCa counts ties with the estimate."""
    return [estimate if abs(r - estimate) < 1e-12 else r for r in replicates]


def test_agreement_report_intervals_are_scipy_bca() -> None:
    """Fleiss' kappa, Krippendorff's alpha, percent agreement and a Cohen pair of
    agreement_report equal scipy's BCa intervals from the same item resamples, each
    replicate recomputed from scratch on the resampled items (repeated rows)."""
    rows = thirty_items()
    report = agreement_report(rows, resamples=400, seed=2)
    names = sorted({row[0] for row in rows})
    _, table = category_counts([[label for i, _, label in rows if i == item] for item in names])
    weights = np.vstack(list(_resample_weights(np.random.default_rng(2), 30, 400)))
    for estimate, statistic in ((report.fleiss_kappa, fleiss_kappa),
                                (report.krippendorff_alpha, krippendorff_alpha_nominal),
                                (report.percent_agreement, percent_agreement)):
        replicates = ties([statistic(np.repeat(table, w, axis=0)) for w in weights], statistic(table))
        expected = scipy_bca(30, lambda idx, statistic=statistic: statistic(table[idx]), replicates)
        assert (estimate.low, estimate.high) == pytest.approx(expected, rel=1e-12)

    pairs = [(label_a, label_b) for item in names
             for (i, w, label_a) in rows if i == item and w == "a"
             for (j, v, label_b) in rows if j == item and v == "b"]
    first, second = [p[0] for p in pairs], [p[1] for p in pairs]
    weights = np.vstack(list(_resample_weights(np.random.default_rng([2, 0, 1]), 30, 400)))
    ab = report.cohen.kappa[0][1]
    replicates = ties([cohen_kappa(np.repeat(first, w), np.repeat(second, w)) for w in weights],
                      cohen_kappa(first, second))
    expected = scipy_bca(30, lambda idx: cohen_kappa([first[i] for i in idx], [second[i] for i in idx]), replicates)
    assert (ab.low, ab.high) == pytest.approx(expected, rel=1e-12)
