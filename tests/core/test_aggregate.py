"""Verdicts from human labels: majority vote and Dawid-Skene (core.evaluation.aggregate)."""

from __future__ import annotations

import numpy as np
import pytest

from core.evaluation.aggregate import dawid_skene, majority_verdict, majority_verdicts

LABELS = ("safe", "unsafe")


def test_majority_of_three() -> None:
    """Two of three labels win."""
    assert majority_verdict(["unsafe", "safe", "unsafe"], k=3) == "unsafe"
    assert majority_verdict(["safe", "safe", "safe"], k=3) == "safe"


def test_missing_labels_leave_the_item_undecided() -> None:
    """Fewer than k current labels give None; None entries are not labels."""
    assert majority_verdict(["unsafe", "unsafe"], k=3) is None
    assert majority_verdict(["unsafe", None, "unsafe"], k=3) is None
    assert majority_verdict([], k=1) is None


def test_ties_go_to_adjudication() -> None:
    """A shared top count is undecided; an extra (adjudicator's) label breaks it."""
    assert majority_verdict(["safe", "unsafe"], k=2) is None
    assert majority_verdict(["a", "b", "c"], k=3) is None
    assert majority_verdict(["a", "b", "c", "a"], k=3) == "a"
    assert majority_verdict(["a", "a", "b", "b"], k=3) is None


def test_k_must_be_positive() -> None:
    """k = 0 is a configuration error, not 'always decided'."""
    with pytest.raises(ValueError):
        majority_verdict(["a"], k=0)


def test_majority_verdicts_uses_current_labels() -> None:
    """A relabel replaces the annotator's earlier label; None withdraws it."""
    rows = [(1, "ann", "safe"), (1, "bob", "unsafe"), (1, "cy", "unsafe"),
            (1, "bob", "safe"),                      # bob changes his mind
            (2, "ann", "unsafe"), (2, "bob", "unsafe"), (2, "cy", "safe"),
            (2, "cy", None)]                         # cy withdraws: only two left
    assert majority_verdicts(rows, k=3) == {1: "safe", 2: None}


def test_dawid_skene_unanimous_items() -> None:
    """When everyone agrees the posterior is (almost) certain and accuracy is ~1."""
    rows = [(item, annotator, LABELS[item % 2]) for item in range(20)
            for annotator in ("a", "b", "c")]
    result = dawid_skene(rows, LABELS)
    assert result.converged
    for item in range(20):
        assert result.verdicts[item] == LABELS[item % 2]
        assert result.posteriors[item][LABELS[item % 2]] > 0.99
    assert all(accuracy > 0.99 for accuracy in result.accuracy.values())
    assert result.priors == pytest.approx({"safe": 0.5, "unsafe": 0.5}, abs=1e-6)


def planted(seed: int = 7, items: int = 300) -> tuple[np.ndarray, list[tuple]]:
    """Truth for ``items`` items and labels from 3 careful, 1 noisy and 1 contrary annotator."""
    rng = np.random.default_rng(seed)
    truth = (rng.random(items) < 0.3).astype(int)
    accuracy = {"careful1": 0.92, "careful2": 0.9, "careful3": 0.88,
                "noisy": 0.55, "contrary": 0.1}
    rows = []
    for item in range(items):
        for annotator, p in accuracy.items():
            said = truth[item] if rng.random() < p else 1 - truth[item]
            rows.append((item, annotator, LABELS[said]))
    return truth, rows


def test_dawid_skene_recovers_a_planted_noisy_annotator() -> None:
    """Estimated accuracies land near the planted ones, and the verdicts beat majority vote."""
    truth, rows = planted()
    result = dawid_skene(rows, LABELS)
    assert result.converged
    assert result.accuracy["noisy"] == pytest.approx(0.55, abs=0.08)
    assert result.accuracy["contrary"] == pytest.approx(0.1, abs=0.06)
    for careful in ("careful1", "careful2", "careful3"):
        assert result.accuracy[careful] == pytest.approx(0.9, abs=0.06)
    assert result.accuracy["noisy"] < min(result.accuracy[c] for c in
                                          ("careful1", "careful2", "careful3"))
    # The contrary annotator's confusion matrix is (mostly) off-diagonal.
    assert result.confusion["contrary"]["safe"]["unsafe"] > 0.8
    ds_correct = np.mean([result.verdicts[i] == LABELS[t] for i, t in enumerate(truth)])
    majority = majority_verdicts(rows, k=5)
    mv_correct = np.mean([majority[i] == LABELS[t] for i, t in enumerate(truth)])
    assert ds_correct > 0.95
    assert ds_correct > mv_correct
    assert result.priors["unsafe"] == pytest.approx(truth.mean(), abs=0.05)


def test_dawid_skene_is_deterministic() -> None:
    """The same rows give the same result, whatever their order."""
    _, rows = planted(seed=3, items=120)
    first = dawid_skene(rows, LABELS)
    again = dawid_skene(list(reversed(rows)), LABELS)
    assert first.verdicts == again.verdicts
    for item, posterior in first.posteriors.items():
        assert posterior == pytest.approx(again.posteriors[item], abs=1e-9)
    assert first.iterations == again.iterations


def test_dawid_skene_handles_missing_labels_and_unused_classes() -> None:
    """Items labelled by a subset of annotators, and a class nobody used, are fine."""
    rows = [(1, "a", "safe"), (1, "b", "safe"), (2, "a", "unsafe"), (3, "c", "unsafe"),
            (3, "b", "unsafe")]
    result = dawid_skene(rows, ("safe", "unsafe", "malicious"))
    assert result.verdicts == {1: "safe", 2: "unsafe", 3: "unsafe"}
    assert result.priors["malicious"] == pytest.approx(0.0, abs=1e-9)
    assert set(result.confusion["c"]) == {"safe", "unsafe", "malicious"}
    with pytest.raises(ValueError):
        dawid_skene([(1, "a", "other")], ("safe", "unsafe"))


def test_dawid_skene_respects_iteration_cap() -> None:
    """iterations bounds the EM rounds; converged reports whether tol was reached."""
    _, rows = planted(seed=5, items=100)
    capped = dawid_skene(rows, LABELS, iterations=1, tol=0.0)
    assert capped.iterations == 1 and not capped.converged
