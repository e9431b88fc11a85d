"""Turn human labels into verdicts: majority vote, or Dawid-Skene.

``majority_verdict`` is the rule the leaderboard uses: once ``k`` current labels are in,
the most frequent label wins if no other label has as many votes; a tie, or fewer than
``k`` labels, gives None (undecided: the item goes to adjudication, where one more label
normally breaks the tie).

``dawid_skene`` is the alternative: it estimates each annotator's confusion matrix
(P(label given | true class)) and each item's posterior over true classes by EM (Dawid &
Skene 1979), so a careless or adversarial annotator counts for less than a careful one.
It is deterministic: initialised from the vote shares, no randomness.

Formulas: docs/evaluation.md, "Verdicts".
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

# numpy is imported by the Dawid-Skene functions: majority verdicts (`evaluate`) do without it.

__all__ = [
    "DawidSkeneResult",
    "current_votes",
    "dawid_skene",
    "majority_verdict",
    "majority_verdicts",
]

# Pseudo-count added to every confusion-matrix cell in the M-step, so an annotator who
# never used a label in some class is not certain never to use it (log 0); small enough
# to be negligible once an annotator has a few dozen labels.
CONFUSION_SMOOTHING = 0.01


def current_votes(rows: Iterable[tuple[Hashable, Hashable, Hashable | None]]
                  ) -> dict[Hashable, dict[Hashable, Hashable]]:
    """item -> annotator -> label; a later row for the same pair replaces an earlier one."""
    by_item: dict[Hashable, dict[Hashable, Hashable]] = defaultdict(dict)
    for item, annotator, label in rows:
        if label is None:
            by_item[item].pop(annotator, None)
        else:
            by_item[item][annotator] = label
    return by_item


def majority_verdict(labels: Sequence[Hashable | None], k: int) -> Hashable | None:
    """The label with the most votes among ``labels`` once at least ``k`` are in.

    None entries are missing labels and do not count. Returns None when fewer than ``k``
    labels are present or when the top count is shared (a tie).
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    present = [label for label in labels if label is not None]
    if len(present) < k:
        return None
    ranked = Counter(present).most_common(2)
    if len(ranked) == 2 and ranked[0][1] == ranked[1][1]:
        return None
    return ranked[0][0]


def majority_verdicts(rows: Iterable[tuple[Hashable, Hashable, Hashable | None]], k: int
                      ) -> dict[Hashable, Hashable | None]:
    """``majority_verdict`` for every item in rows of (item, annotator, label).

    One current label per (item, annotator): a later row replaces an earlier one.
    """
    return {item: majority_verdict(list(votes.values()), k)
            for item, votes in current_votes(rows).items()}


@dataclass(frozen=True)
class DawidSkeneResult:
    """Dawid-Skene estimates.

    ``posteriors[item][label]`` is P(true class = label | all labels); ``verdicts`` the
    most probable class per item (ties broken by ``labels`` order). ``confusion[a][t][l]``
    is P(annotator a says l | true class t). ``accuracy[a]`` is the expected share of a's
    labels that are correct under the posteriors. ``priors`` are the class shares.
    """

    labels: tuple[Hashable, ...]
    posteriors: dict[Hashable, dict[Hashable, float]]
    verdicts: dict[Hashable, Hashable]
    confusion: dict[Hashable, dict[Hashable, dict[Hashable, float]]]
    accuracy: dict[Hashable, float]
    priors: dict[Hashable, float]
    iterations: int
    converged: bool
    log_likelihood: float


def dawid_skene(
    rows: Iterable[tuple[Hashable, Hashable, Hashable | None]],
    labels: Sequence[Hashable] | None = None,
    *,
    iterations: int = 100,
    tol: float = 1e-6,
) -> DawidSkeneResult:
    """Dawid-Skene EM over rows of (item, annotator, label).

    ``labels`` fixes the class set and order (default: the labels seen, sorted). Stops
    when no posterior moves by more than ``tol`` or after ``iterations`` rounds.
    """
    import numpy as np

    by_item = current_votes(rows)
    items = sorted((item for item, votes in by_item.items() if votes), key=repr)
    annotators = sorted({a for item in items for a in by_item[item]}, key=repr)
    if labels is None:
        labels = sorted({label for item in items for label in by_item[item].values()},
                        key=repr)
    labels = tuple(labels)
    label_index = {label: position for position, label in enumerate(labels)}
    annotator_index = {annotator: position for position, annotator in enumerate(annotators)}

    observed_items, observed_annotators, observed_labels = [], [], []
    for row, item in enumerate(items):
        for annotator, label in by_item[item].items():
            if label not in label_index:
                raise ValueError(f"label {label!r} is not one of the labels")
            observed_items.append(row)
            observed_annotators.append(annotator_index[annotator])
            observed_labels.append(label_index[label])
    obs_item = np.array(observed_items, dtype=np.int64)
    obs_annotator = np.array(observed_annotators, dtype=np.int64)
    obs_label = np.array(observed_labels, dtype=np.int64)
    classes = len(labels)

    # Initialise with the vote shares of each item (the "majority" start of the paper).
    posterior = np.zeros((len(items), classes))
    np.add.at(posterior, (obs_item, obs_label), 1.0)
    posterior /= np.maximum(posterior.sum(axis=1, keepdims=True), 1.0)

    converged = False
    rounds = 0
    log_likelihood = float("nan")
    while rounds < iterations:
        rounds += 1
        priors, confusion = _m_step(posterior, obs_item, obs_annotator, obs_label,
                                    len(annotators), classes)
        updated, log_likelihood = _e_step(priors, confusion, obs_item, obs_annotator,
                                          obs_label, len(items))
        change = float(np.abs(updated - posterior).max()) if len(items) else 0.0
        posterior = updated
        if change <= tol:
            converged = True
            break
    if not items:
        priors = np.full(classes, 1.0 / max(classes, 1))
        confusion = np.zeros((len(annotators), classes, classes))
    else:
        priors, confusion = _m_step(posterior, obs_item, obs_annotator, obs_label,
                                    len(annotators), classes)

    correct = np.zeros(len(annotators))
    given = np.zeros(len(annotators))
    np.add.at(correct, obs_annotator, posterior[obs_item, obs_label])
    np.add.at(given, obs_annotator, 1.0)

    return DawidSkeneResult(
        labels=labels,
        posteriors={item: {label: float(posterior[row, c]) for c, label in enumerate(labels)}
                    for row, item in enumerate(items)},
        verdicts={item: labels[int(np.argmax(posterior[row]))]
                  for row, item in enumerate(items)},
        confusion={annotator: {truth: {said: float(confusion[a, t, s])
                                       for s, said in enumerate(labels)}
                               for t, truth in enumerate(labels)}
                   for a, annotator in enumerate(annotators)},
        accuracy={annotator: float(correct[a] / given[a]) if given[a] else float("nan")
                  for a, annotator in enumerate(annotators)},
        priors={label: float(priors[c]) for c, label in enumerate(labels)},
        iterations=rounds,
        converged=converged,
        log_likelihood=log_likelihood,
    )


def _m_step(posterior, obs_item, obs_annotator, obs_label, annotators, classes):
    """Class priors and smoothed confusion matrices from the current posteriors."""
    import numpy as np

    priors = posterior.mean(axis=0)
    counts = np.full((annotators, classes, classes), CONFUSION_SMOOTHING)
    # counts[a, t, l] += P(item is t) for every label l that a gave the item.
    np.add.at(counts, (obs_annotator, slice(None), obs_label), posterior[obs_item])
    confusion = counts / counts.sum(axis=2, keepdims=True)
    return priors, confusion


def _e_step(priors, confusion, obs_item, obs_annotator, obs_label, items):
    """Posteriors over true classes and the data log-likelihood."""
    import numpy as np

    with np.errstate(divide="ignore"):
        log_posterior = np.tile(np.log(priors), (items, 1))
    np.add.at(log_posterior, obs_item, np.log(confusion[obs_annotator, :, obs_label]))
    peak = log_posterior.max(axis=1, keepdims=True)
    weights = np.exp(log_posterior - peak)
    totals = weights.sum(axis=1, keepdims=True)
    log_likelihood = float((np.log(totals) + peak).sum())
    return weights / totals, log_likelihood
