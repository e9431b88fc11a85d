"""Inter-annotator agreement on nominal labels, with bootstrap confidence intervals.

The multi-rater statistics (Fleiss' kappa, Krippendorff's alpha, percent agreement) all
work from a *count table*: one row per item, one column per category, each cell the
number of annotators who gave that item that category. Rows may have different totals
(missing labels); items with fewer than two labels carry no agreement information and are
left out. ``category_counts`` builds the table from per-item label lists.

Intervals are BCa bootstraps over items (resample items with replacement, recompute,
take the bias-corrected and accelerated quantiles: ``core.evaluation.intervals.bca_interval``, with
the acceleration from the jackknife over items), from a seeded numpy generator, so a
report is reproducible. A statistic that is undefined (no variation at all, e.g. every
label the same) is NaN, as is an interval when most resamples are undefined.

Formulas: docs/evaluation.md, "Agreement".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from core.evaluation.aggregate import current_votes
from core.evaluation.intervals import bca_interval

__all__ = [
    "AgreementReport",
    "AnnotatorAgreement",
    "CohenMatrix",
    "Estimate",
    "agreement_report",
    "bootstrap_ci",
    "category_counts",
    "cohen_kappa",
    "current_votes",
    "fleiss_kappa",
    "krippendorff_alpha_nominal",
    "pairwise_cohen",
    "percent_agreement",
]

# Resamples for every interval: 1,000 puts the 2.5% and 97.5% quantiles within about
# ±0.01 of their limit for kappa-like statistics, in well under a second.
DEFAULT_RESAMPLES = 1000
# Resamples whose weight rows are built at once (rows x items int64 matrix in memory),
# at most 64, and fewer for many items so one batch stays near 2 MB per array (the live
# agreement pane must not balloon an annotator's TUI on a 100k-item store).
_BATCH = 64
_BATCH_CELLS = 250_000


@dataclass(frozen=True)
class Estimate:
    """A statistic and its bootstrap interval (``low``..``high``); NaN when undefined."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class CohenMatrix:
    """Cohen's kappa for every pair of annotators, over the items both labelled.

    ``kappa[i][j]`` is None on the diagonal and where the pair shares fewer than two
    items; ``shared[i][j]`` is the number of items both labelled.
    """

    annotators: tuple[Hashable, ...]
    kappa: tuple[tuple[Estimate | None, ...], ...]
    shared: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class AnnotatorAgreement:
    """How often one annotator agrees with the majority of the other annotators.

    ``compared`` counts the items where at least two others labelled and their labels
    have a single most frequent value; ``agreement`` is the share of those items where
    this annotator gave that value.
    """

    annotator: Hashable
    labelled: int
    compared: int
    agreement: Estimate


@dataclass(frozen=True)
class AgreementReport:
    """All agreement figures for one set of labels (see ``agreement_report``)."""

    items: int
    labels: int
    annotators: tuple[Hashable, ...]
    categories: tuple[Hashable, ...]
    fleiss_kappa: Estimate
    krippendorff_alpha: Estimate
    percent_agreement: Estimate
    cohen: CohenMatrix
    per_annotator: dict[Hashable, AnnotatorAgreement]
    confidence: float
    resamples: int
    seed: int


# --- count tables ----------------------------------------------------------------------


def category_counts(
    units: Iterable[Iterable[Hashable | None]],
    categories: Sequence[Hashable] | None = None,
) -> tuple[tuple[Hashable, ...], np.ndarray]:
    """(categories, count table) from per-item label lists; None means missing.

    ``categories`` fixes the column order (and may include unused ones); by default the
    labels seen, sorted.
    """
    unit_lists = [[label for label in unit if label is not None] for unit in units]
    if categories is None:
        categories = sorted({label for unit in unit_lists for label in unit}, key=repr)
    column = {category: position for position, category in enumerate(categories)}
    counts = np.zeros((len(unit_lists), len(categories)), dtype=np.int64)
    for row, unit in enumerate(unit_lists):
        for label in unit:
            if label not in column:
                raise ValueError(f"label {label!r} is not one of the categories")
            counts[row, column[label]] += 1
    return tuple(categories), counts


def _table(counts: Sequence[Sequence[int]] | np.ndarray) -> np.ndarray:
    table = np.asarray(counts, dtype=np.float64)
    if table.ndim != 2:
        raise ValueError("a count table has one row per item and one column per category")
    if (table < 0).any():
        raise ValueError("counts cannot be negative")
    return table[table.sum(axis=1) >= 2]


def _fleiss_features(table: np.ndarray) -> np.ndarray:
    """Per item: [P_i, n_i1..n_iC, n_i] whose sums give Fleiss' kappa."""
    raters = table.sum(axis=1)
    item_agreement = ((table * table).sum(axis=1) - raters) / (raters * (raters - 1))
    return np.column_stack([item_agreement, table, raters])


def _fleiss_from_sums(sums: np.ndarray, items: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = sums[:, 0] / items
        shares = sums[:, 1:-1] / sums[:, -1:]
        chance = (shares * shares).sum(axis=1)
        return (observed - chance) / (1.0 - chance)


def _alpha_features(table: np.ndarray) -> np.ndarray:
    """Per unit: [disagreeing pairable pairs / (m_u - 1), n_u1..n_uC]."""
    values = table.sum(axis=1)
    disagreement = (values * values - (table * table).sum(axis=1)) / (values - 1)
    return np.column_stack([disagreement, table])


def _alpha_from_sums(sums: np.ndarray, _items: np.ndarray) -> np.ndarray:
    by_category = sums[:, 1:]
    pairable = by_category.sum(axis=1)
    expected = pairable * pairable - (by_category * by_category).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1.0 - (pairable - 1.0) * sums[:, 0] / expected


def _percent_features(table: np.ndarray) -> np.ndarray:
    return _fleiss_features(table)[:, :1]


def _percent_from_sums(sums: np.ndarray, items: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums[:, 0] / items


def fleiss_kappa(counts: Sequence[Sequence[int]] | np.ndarray) -> float:
    """Fleiss' kappa of a count table (items x categories).

    kappa = (P̄ - P_e) / (1 - P_e) with P_i = (Σ_j n_ij² - n_i) / (n_i (n_i - 1)),
    P̄ the mean of P_i and P_e = Σ_j p_j², p_j = Σ_i n_ij / Σ_i n_i (Fleiss 1971; rows
    with different n_i are allowed, each item weighing the same in P̄).
    """
    table = _table(counts)
    if not len(table):
        return float("nan")
    sums = _fleiss_features(table).sum(axis=0)[None, :]
    return float(_fleiss_from_sums(sums, np.array([len(table)]))[0])


def krippendorff_alpha_nominal(counts: Sequence[Sequence[int]] | np.ndarray) -> float:
    """Krippendorff's alpha for nominal data from a count table (missing labels allowed).

    alpha = 1 - D_o / D_e = 1 - (n - 1) Σ_u (m_u² - Σ_c n_uc²) / (m_u - 1)
    / (n² - Σ_c n_c²), over pairable units (m_u ≥ 2 values), n_c = Σ_u n_uc,
    n = Σ_c n_c (Krippendorff 2011, coincidence-matrix form).
    """
    table = _table(counts)
    if not len(table):
        return float("nan")
    sums = _alpha_features(table).sum(axis=0)[None, :]
    return float(_alpha_from_sums(sums, np.array([len(table)]))[0])


def percent_agreement(counts: Sequence[Sequence[int]] | np.ndarray) -> float:
    """Mean over items of the share of annotator pairs that agree (Fleiss' P̄)."""
    table = _table(counts)
    if not len(table):
        return float("nan")
    return float(_percent_features(table)[:, 0].mean())


def _cohen_from_tables(tables: np.ndarray) -> np.ndarray:
    """Cohen's kappa of each square contingency table in a (batch, C, C) array."""
    totals = tables.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = np.trace(tables, axis1=1, axis2=2) / totals
        rows = tables.sum(axis=2) / totals[:, None]
        columns = tables.sum(axis=1) / totals[:, None]
        chance = (rows * columns).sum(axis=1)
        return (observed - chance) / (1.0 - chance)


def _pair_codes(first: Sequence[Hashable | None], second: Sequence[Hashable | None]
                ) -> tuple[np.ndarray, int]:
    if len(first) != len(second):
        raise ValueError("cohen_kappa needs two label sequences of the same length")
    pairs = [(a, b) for a, b in zip(first, second, strict=True)
             if a is not None and b is not None]
    categories = sorted({label for pair in pairs for label in pair}, key=repr)
    index = {category: position for position, category in enumerate(categories)}
    size = max(1, len(categories))
    codes = np.array([index[a] * size + index[b] for a, b in pairs], dtype=np.int64)
    return codes, size


def cohen_kappa(first: Sequence[Hashable | None], second: Sequence[Hashable | None]) -> float:
    """Cohen's kappa of two annotators' paired labels (pairs with a None are dropped).

    kappa = (p_o - p_e) / (1 - p_e), p_o the share of agreeing pairs and
    p_e = Σ_c p_first(c) p_second(c) (Cohen 1960).
    """
    codes, size = _pair_codes(first, second)
    if not len(codes):
        return float("nan")
    table = np.bincount(codes, minlength=size * size).reshape(1, size, size)
    return float(_cohen_from_tables(table.astype(np.float64))[0])


# --- bootstrap -------------------------------------------------------------------------


def _resample_weights(rng: np.random.Generator, items: int, resamples: int):
    """Yield (batch, items) arrays: how often each item is drawn in each resample."""
    remaining = resamples
    while remaining > 0:
        batch = min(_BATCH, remaining, max(1, _BATCH_CELLS // max(items, 1)))
        draws = rng.integers(0, items, size=(batch, items))
        offsets = np.arange(batch)[:, None] * items
        weights = np.bincount((draws + offsets).ravel(), minlength=batch * items)
        yield weights.reshape(batch, items)
        remaining -= batch


def _features_interval(features: np.ndarray, totals: np.ndarray, sampled: np.ndarray, from_sums,
                       confidence: float) -> Estimate:
    """Estimate and BCa interval of a statistic of column sums of per-item features.

    ``totals`` are the sums over all items (1 x F), ``sampled`` the sums of each resample
    (B x F); the jackknife leaves each item out of ``totals`` in turn.
    """
    items = len(features)
    value = float(from_sums(totals, np.array([items]))[0])
    outcomes = from_sums(sampled, np.full(len(sampled), items))
    left_out = from_sums(totals - features, np.full(items, items - 1))
    return Estimate(value, *bca_interval(value, outcomes, [left_out], confidence))


def _bootstrap_features(features: np.ndarray, from_sums, resamples: int, confidence: float,
                        rng: np.random.Generator) -> Estimate:
    """Estimate for a statistic that is a function of column sums of per-item features."""
    items = len(features)
    if items == 0:
        nan = float("nan")
        return Estimate(nan, nan, nan)
    sampled = np.vstack([weights @ features for weights in _resample_weights(rng, items, resamples)])
    return _features_interval(features, features.sum(axis=0)[None, :], sampled, from_sums, confidence)


def bootstrap_ci(
    statistic: Callable[[list], float],
    items: Sequence,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """BCa bootstrap interval of ``statistic`` over ``items`` (seeded).

    Each resample draws len(items) items with replacement (numpy default_rng(seed)) and
    calls ``statistic`` on that list; the jackknife calls it on the items without each
    one in turn. NaN outcomes are dropped, and the interval is NaN when more than half
    are NaN.
    """
    if not items:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(items), size=(resamples, len(items)))
    values = np.array([statistic([items[i] for i in row]) for row in draws], dtype=float)
    left_out = np.array([statistic(list(items[:i]) + list(items[i + 1:])) for i in range(len(items))],
                        dtype=float)
    return tuple(bca_interval(float(statistic(list(items))), values, [left_out], confidence))


# --- the report ------------------------------------------------------------------------


def _unique_top(labels: Iterable[Hashable]) -> Hashable | None:
    ranked = Counter(labels).most_common(2)
    if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def pairwise_cohen(
    rows: Iterable[tuple[Hashable, Hashable, Hashable | None]],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
) -> CohenMatrix:
    """Cohen's kappa (with bootstrap interval) for every pair of annotators."""
    by_item = current_votes(rows)
    return _pairwise_cohen(by_item, resamples, confidence, seed)


def _pairwise_cohen(by_item, resamples, confidence, seed) -> CohenMatrix:
    annotators = tuple(sorted({a for labels in by_item.values() for a in labels}, key=repr))
    kappa: list[list[Estimate | None]] = [[None] * len(annotators) for _ in annotators]
    shared = [[0] * len(annotators) for _ in annotators]
    for i, first in enumerate(annotators):
        for j in range(i + 1, len(annotators)):
            second = annotators[j]
            pairs = [(labels[first], labels[second]) for labels in by_item.values()
                     if first in labels and second in labels]
            shared[i][j] = shared[j][i] = len(pairs)
            if len(pairs) < 2:
                continue
            codes, size = _pair_codes([a for a, _ in pairs], [b for _, b in pairs])
            cells = size * size
            table = np.bincount(codes, minlength=cells).reshape(1, size, size)
            value = float(_cohen_from_tables(table.astype(np.float64))[0])
            rng = np.random.default_rng([seed, i, j])
            one_hot = np.zeros((len(codes), cells))
            one_hot[np.arange(len(codes)), codes] = 1.0
            outcomes = []
            for weights in _resample_weights(rng, len(codes), resamples):
                tables = (weights @ one_hot).reshape(len(weights), size, size)
                outcomes.append(_cohen_from_tables(tables))
            left_out = _cohen_from_tables((table.reshape(1, cells) - one_hot).reshape(-1, size, size))
            low, high = bca_interval(value, np.concatenate(outcomes), [left_out], confidence)
            kappa[i][j] = kappa[j][i] = Estimate(value, low, high)
    return CohenMatrix(annotators, tuple(tuple(row) for row in kappa),
                       tuple(tuple(row) for row in shared))


def agreement_report(
    labels: Iterable[tuple[Hashable, Hashable, Hashable | None]],
    *,
    categories: Sequence[Hashable] | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
) -> AgreementReport:
    """Every agreement figure for rows of (item, annotator, label).

    Pass current labels; if an (item, annotator) pair repeats, the later row wins (a None
    label withdraws it). Items with fewer than two labels are ignored. Fleiss' kappa,
    Krippendorff's alpha and percent agreement share one set of item resamples.
    """
    by_item = current_votes(labels)
    used = {item: votes for item, votes in by_item.items() if len(votes) >= 2}
    ordered_items = sorted(used, key=repr)
    categories, table = category_counts(
        (list(used[item].values()) for item in ordered_items), categories)
    table = table.astype(np.float64)
    nan_estimate = Estimate(float("nan"), float("nan"), float("nan"))
    fleiss = alpha = percent = nan_estimate
    if len(table):
        # One set of item resamples for the three table statistics: their per-item
        # features side by side, summed per resample in one product.
        parts = [(_fleiss_features(table), _fleiss_from_sums),
                 (_alpha_features(table), _alpha_from_sums),
                 (_percent_features(table), _percent_from_sums)]
        features = np.hstack([part for part, _ in parts])
        edges = np.cumsum([0] + [part.shape[1] for part, _ in parts])
        totals = features.sum(axis=0)[None, :]
        sampled = np.vstack([weights @ features for weights in
                             _resample_weights(np.random.default_rng(seed), len(table), resamples)])
        fleiss, alpha, percent = (
            _features_interval(features[:, start:stop], totals[:, start:stop],
                               sampled[:, start:stop], from_sums, confidence)
            for (_, from_sums), start, stop in zip(parts, edges[:-1], edges[1:], strict=True))

    annotators = tuple(sorted({a for votes in used.values() for a in votes}, key=repr))
    per_annotator = {}
    for position, annotator in enumerate(annotators):
        outcomes = []
        labelled = 0
        for item in ordered_items:
            votes = used[item]
            if annotator not in votes:
                continue
            labelled += 1
            others = [label for other, label in votes.items() if other != annotator]
            majority = _unique_top(others) if len(others) >= 2 else None
            if majority is not None:
                outcomes.append(1.0 if votes[annotator] == majority else 0.0)
        agreement = (_bootstrap_features(np.array(outcomes)[:, None], _percent_from_sums,
                                         resamples, confidence,
                                         np.random.default_rng([seed, 1, position]))
                     if outcomes else nan_estimate)
        per_annotator[annotator] = AnnotatorAgreement(annotator, labelled, len(outcomes),
                                                      agreement)

    return AgreementReport(
        items=len(table),
        labels=int(table.sum()),
        annotators=annotators,
        categories=tuple(categories),
        fleiss_kappa=fleiss,
        krippendorff_alpha=alpha,
        percent_agreement=percent,
        cohen=_pairwise_cohen(used, resamples, confidence, seed),
        per_annotator=per_annotator,
        confidence=confidence,
        resamples=resamples,
        seed=seed,
    )
