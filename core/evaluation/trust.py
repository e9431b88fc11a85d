"""How far a judge can be trusted: its labels measured against the human majority.

For each item that has both a judge label and a human majority verdict, the judge is
scored like a classifier whose ground truth is the humans' verdict:

- **Cohen's κ** between the judge and the human majority, with the same BCa bootstrap
  interval over items as every pairwise κ of the agreement report
  (`core.evaluation.agreement.pairwise_cohen`);
- **precision and recall per label**, each a binomial share with its 95 % Wilson
  interval (`core.evaluation.intervals.wilson`): precision of label l is the share of
  the items the judge called l that the humans called l, recall the share of the items
  the humans called l that the judge called l;
- the **confusion matrix** (human verdict × judge label, counts);
- the judge as **one more annotator in Dawid-Skene**: its estimated accuracy and
  confusion matrix when its labels are pooled with the humans'.

`trusted_labels` is the routing rule: a label is trusted when at least `min_items`
calibration items have a human verdict and the lower end of the judge's precision
interval for that label clears `min_precision`.

Formulas: docs/evaluation.md, "Judges".
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

from core.evaluation.aggregate import dawid_skene
from core.evaluation.agreement import Estimate, pairwise_cohen
from core.evaluation.intervals import wilson

__all__ = ["JudgeTrust", "LabelTrust", "judge_trust", "trusted_labels"]

_NAN = float("nan")
# The name the judge takes among the annotators of the Dawid-Skene run: no human's
# name can be empty-bracketed like this (names with control characters are refused, and
# the brackets make it unlike any roster name a config would use).
JUDGE_KEY = "⟨judge⟩"


@dataclass(frozen=True)
class LabelTrust:
    """One label's precision and recall (shares 0-1, Wilson 95 % intervals), with counts."""

    label: Hashable
    judged: int  # items the judge gave this label
    correct: int  # of those, items the humans gave it too
    actual: int  # items the humans gave this label
    precision: Estimate
    recall: Estimate


@dataclass(frozen=True)
class JudgeTrust:
    """A judge against the human majority on `items` items both labelled."""

    judge: str
    items: int
    kappa: Estimate
    agreement: Estimate  # share of items where the judge gave the human verdict
    per_label: dict[Hashable, LabelTrust]
    labels: tuple[Hashable, ...]
    confusion: tuple[tuple[int, ...], ...]  # confusion[human][judge], in `labels` order
    ds_accuracy: float  # the judge's estimated accuracy as one more Dawid-Skene annotator
    ds_confusion: dict[Hashable, dict[Hashable, float]]  # P(judge says l | true class t)


def _share(successes: int, n: int) -> Estimate:
    if n == 0:
        return Estimate(_NAN, _NAN, _NAN)
    low, high = wilson(successes, n)
    return Estimate(successes / n, low / 100, high / 100)


def judge_trust(
    judge: str,
    judge_labels: Mapping[Hashable, Hashable],
    human_verdicts: Mapping[Hashable, Hashable],
    labels: Sequence[Hashable],
    *,
    human_rows: Sequence[tuple[Hashable, Hashable, Hashable]] = (),
    resamples: int = 1000,
    seed: int = 0,
) -> JudgeTrust:
    """Measure a judge against the human verdicts on the items both have.

    `judge_labels` and `human_verdicts` map item -> label; `human_rows` are the humans'
    own (item, annotator, label) rows, pooled with the judge's labels for the
    Dawid-Skene place (none: that part is NaN).
    """
    labels = tuple(labels)
    shared = sorted((item for item in judge_labels if item in human_verdicts), key=repr)
    index = {label: position for position, label in enumerate(labels)}
    confusion = [[0] * len(labels) for _ in labels]
    for item in shared:
        confusion[index[human_verdicts[item]]][index[judge_labels[item]]] += 1
    per_label = {}
    for position, label in enumerate(labels):
        judged = sum(confusion[h][position] for h in range(len(labels)))
        actual = sum(confusion[position])
        correct = confusion[position][position]
        per_label[label] = LabelTrust(label, judged, correct, actual, _share(correct, judged), _share(correct, actual))
    agreeing = sum(confusion[i][i] for i in range(len(labels)))
    kappa = Estimate(_NAN, _NAN, _NAN)
    if len(shared) >= 2:
        rows = [(item, "human", human_verdicts[item]) for item in shared]
        rows += [(item, "judge", judge_labels[item]) for item in shared]
        matrix = pairwise_cohen(rows, resamples=resamples, seed=seed)
        kappa = matrix.kappa[0][1] or kappa
    ds_accuracy, ds_confusion = _NAN, {}
    if human_rows:
        pooled = list(human_rows) + [(item, JUDGE_KEY, label) for item, label in judge_labels.items()]
        result = dawid_skene(pooled, labels)
        ds_accuracy = result.accuracy.get(JUDGE_KEY, _NAN)
        ds_confusion = result.confusion.get(JUDGE_KEY, {})
    return JudgeTrust(
        judge=judge,
        items=len(shared),
        kappa=kappa,
        agreement=_share(agreeing, len(shared)),
        per_label=per_label,
        labels=labels,
        confusion=tuple(tuple(row) for row in confusion),
        ds_accuracy=ds_accuracy,
        ds_confusion=ds_confusion,
    )


def trusted_labels(trust: JudgeTrust, min_precision: float, min_items: int) -> frozenset[Hashable]:
    """The labels a judge may decide alone: measured on at least `min_items` items, with
    the lower end of the 95 % precision interval at least `min_precision`."""
    if trust.items < min_items:
        return frozenset()
    return frozenset(label for label, t in trust.per_label.items()
                     if t.judged and t.precision.low >= min_precision)
