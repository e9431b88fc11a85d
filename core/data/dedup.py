"""Near-duplicate removal across conversations: MinHash signatures and LSH (datasketch).

A record's text (every message of a conversation; for a preference pair, its prompt and
rejected reply) becomes a set of word 3-grams (lower-cased ``\\w+`` words); two records
are near-duplicates when the Jaccard similarity of those sets reaches the threshold.
MinHash (128 permutations) estimates it; LSH finds the candidates without comparing
every pair, and each candidate is checked against the threshold on the signatures, so
LSH's false positives drop nothing. Records come in conversation id order: the first of
a group is kept, the later ones are dropped and counted (``near-duplicate``).

datasketch is an optional extra (``pip install 'adversarial-arena[dedup]'``): a
well-tested MinHash/LSH whose band and row counts are chosen for the threshold, rather
than a hand-rolled one. Memory: one signature (128 × 8 bytes) per record kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from core.data.files import ExportError

if TYPE_CHECKING:
    from core.data.export import ExportSummary

NUM_PERM = 128  # signature length: the standard error of a Jaccard estimate is about 1/sqrt(128) ≈ 0.09
SHINGLE_WORDS = 3  # conversations are short texts: 3-word shingles still see a reworded sentence as different
DEFAULT_THRESHOLD = 0.8  # the usual near-duplicate bar for training data
NEAR_DUPLICATE = "near-duplicate"
DEDUP_MISSING = "--dedup needs datasketch, which is not installed: pip install 'adversarial-arena[dedup]'"

_WORD = re.compile(r"\w+")


def record_text(record: dict[str, Any]) -> str:
    """The text of an export record that near-duplicate removal compares."""
    if "prompt" in record:
        messages = list(record["prompt"]) + list(record["rejected"])
    else:
        messages = record.get("messages") or record.get("turns") or []
    return "\n".join(m["content"] for m in messages if m.get("role") != "system")


def shingles(text: str) -> set[bytes]:
    """The word 3-grams of `text` (lower case), as bytes for hashing; a text shorter than
    three words is one shingle of all its words."""
    words = _WORD.findall(text.lower())
    if len(words) < SHINGLE_WORDS:
        return {" ".join(words).encode("utf-8")}
    return {" ".join(words[i:i + SHINGLE_WORDS]).encode("utf-8") for i in range(len(words) - SHINGLE_WORDS + 1)}


class NearDuplicates:
    """Drops records too similar to one already kept (see the module docstring)."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        try:
            from datasketch import MinHash, MinHashLSH
        except ImportError:
            raise ExportError(DEDUP_MISSING) from None
        self.threshold = threshold
        self._minhash = MinHash
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._kept: dict[int, Any] = {}

    def signature(self, text: str) -> Any:
        """The MinHash signature of a text."""
        signature = self._minhash(num_perm=NUM_PERM, seed=1)
        signature.update_batch(list(shingles(text)))
        return signature

    def is_new(self, text: str) -> bool:
        """Whether `text` is no near-duplicate of a text kept so far (then it is kept)."""
        signature = self.signature(text)
        for key in self._lsh.query(signature):
            if self._kept[key].jaccard(signature) >= self.threshold:
                return False
        key = len(self._kept)
        self._lsh.insert(key, signature)
        self._kept[key] = signature
        return True

    def filter(self, records: Iterable[dict[str, Any]], summary: ExportSummary) -> Iterator[dict[str, Any]]:
        """The records that are no near-duplicate of an earlier one; the others are counted
        in `summary` as dropped (``near-duplicate``)."""
        for record in records:
            if self.is_new(record_text(record)):
                yield record
            else:
                summary.drop(NEAR_DUPLICATE)
