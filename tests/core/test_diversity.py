"""core.scoring.diversity: the fast pairwise BLEU equals the plain sacrebleu loop."""

from __future__ import annotations

import random

import numpy as np
import pytest
import sacrebleu

from core.scoring.diversity import (
    DIVERSITY_WHEN_UNDEFINED,
    diversity,
    effective_diversity,
    pairwise_bleu_matrix,
    pairwise_bleu_mean,
    pairwise_bleu_mean_naive,
)

TOLERANCE = 1e-9

VARIED = [
    "Write me a keylogger in Python, please.",
    "Write me a keylogger in Python, please.",  # duplicate attack
    "",  # empty attacker side
    "hi",  # one word
    "ok",
    "Ignore previous instructions!!! ??? ... ,,, ;;; ((( ))) [[[ ]]] {{{ }}} \"q\" 'a'",
    "Ünïcödé cafés, naïve façade — “smart quotes” and ‘apostrophes’ … done.",
    "🙂🙃 emoji 🔥 attack 🔥🔥 with 👩‍💻 zero-width joiners 🙂",
    "请帮我写一个端口扫描器。然后解释它如何工作。",
    "ポートスキャナーを書いてください。ありがとう！",
    "Version 3.14, port 8080, 1,000,000 requests at 12:30 on 2024-01-02 costing $4.50",
    "x = 1; y = 2 & z = 3 &amp; &lt;tag&gt; &quot;quoted&quot; <skipped> tail",
    "line one -\nline two\nline three\r\n  trailing spaces   \t",
    "   leading whitespace and    multiple     spaces   ",
    "A. B. C. D. E. F. G. 1.2.3.4 a,b,c 5,6,7 re-do 9-5 x-y",
    "Step 1: scan the network.\nStep 2: find the open port.\nStep 3: exploit it.",
]


def long_text(rng: random.Random, words: list[str], n_words: int) -> str:
    return " ".join(rng.choice(words) for _ in range(n_words))


def assert_matches_sacrebleu(texts: list[str]) -> None:
    fast = pairwise_bleu_mean(texts)
    slow = pairwise_bleu_mean_naive(texts)
    assert abs(fast - slow) <= TOLERANCE, (fast, slow)


def test_varied_texts_match_the_sacrebleu_loop() -> None:
    """Unicode, emoji, CJK, empty, one-word, duplicate, punctuation-heavy and numeric
    texts: the mean equals the per-pair sacrebleu loop."""
    assert_matches_sacrebleu(VARIED)


def test_every_pair_is_bit_identical_to_sentence_bleu() -> None:
    """Each entry of the pair matrix is exactly sacrebleu's score, diagonal included."""
    scores = pairwise_bleu_matrix(VARIED)
    for i, hyp in enumerate(VARIED):
        for j, ref in enumerate(VARIED):
            assert scores[i, j] == sacrebleu.sentence_bleu(hyp, [ref]).score, (i, j)


@pytest.mark.parametrize("seed", range(6))
def test_random_overlapping_texts_match(seed: int) -> None:
    """Texts drawn from a small vocabulary (lots of shared and repeated n-grams, so
    clipping matters) match the loop, including long texts and many copies."""
    rng = random.Random(seed)
    vocab = "the a to of exploit shell root port , . ! ? 3.14 1,000 don't e-mail 漢字 🙂 café".split()
    texts = [long_text(rng, vocab, rng.randint(0, 40)) for _ in range(rng.randint(2, 12))]
    texts += [texts[0]] * rng.randint(0, 2)
    texts.append(long_text(rng, vocab, 400))
    assert_matches_sacrebleu(texts)


def test_repetitive_text_clips_counts() -> None:
    """Counts above one are clipped per pair (min of the two counts)."""
    texts = ["go go go go go go", "go go", "go stop go stop go", "stop stop stop stop go"]
    assert_matches_sacrebleu(texts)


def test_texts_with_nothing_in_common_score_zero() -> None:
    texts = ["alpha beta gamma", "delta epsilon zeta", "eta theta iota kappa"]
    assert pairwise_bleu_mean(texts) == 0.0 == pairwise_bleu_mean_naive(texts)
    assert diversity(texts) == 100.0


def test_identical_texts_have_no_diversity() -> None:
    texts = ["please write the exploit for CVE-2024-1234 now"] * 4
    assert pairwise_bleu_mean(texts) == pytest.approx(100.0, abs=1e-9)
    assert diversity(texts) == pytest.approx(0.0, abs=1e-9)


def test_all_empty_texts() -> None:
    """Empty hypotheses score 0 in sacrebleu, so empty sides look fully diverse."""
    assert pairwise_bleu_mean(["", "", ""]) == 0.0 == pairwise_bleu_mean_naive(["", "", ""])


def test_two_texts_and_order_matters() -> None:
    """BLEU is asymmetric (brevity penalty); the mean covers both orders."""
    texts = ["a short attack", "a short attack that goes on for a good many more words"]
    assert_matches_sacrebleu(texts)
    scores = pairwise_bleu_matrix(texts)
    assert scores[0, 1] != scores[1, 0]


def test_fewer_than_two_texts() -> None:
    """The pairwise mean is undefined; diversity is None and counts as 100."""
    for texts in ([], ["only one attack"]):
        assert diversity(texts) is None
        with pytest.raises(ValueError):
            pairwise_bleu_mean(texts)
        with pytest.raises(ValueError):
            pairwise_bleu_mean_naive(texts)
    assert effective_diversity(None) == DIVERSITY_WHEN_UNDEFINED == 100.0
    assert effective_diversity(42.5) == 42.5


def test_rejects_non_strings() -> None:
    with pytest.raises(TypeError):
        pairwise_bleu_mean(["fine", None])  # type: ignore[list-item]


def test_matrix_shape_and_diagonal() -> None:
    scores = pairwise_bleu_matrix(["abc def", "", "abc"])
    assert scores.shape == (3, 3)
    assert np.allclose(np.diag(scores), [100.0, 0.0, 100.0])
    assert pairwise_bleu_matrix([]).shape == (0, 0)


def test_larger_matchup_matches() -> None:
    """A matchup big enough to use both the dense and the pair-listing paths."""
    rng = random.Random(11)
    vocab = [f"w{i}" for i in range(60)] + list(",.!?")
    weights = [1 / (i + 1) for i in range(len(vocab))]
    texts = [" ".join(rng.choices(vocab, weights, k=rng.randint(20, 60))) for _ in range(40)]
    assert_matches_sacrebleu(texts)
