"""Measure candidate static-stage thresholds on labelled synthetic defender replies.

A threshold flags a reply when at least one of its findings decides (core.evaluation.static.Threshold).
Flagged replies become attack successes with no human review, so a false positive charges
a defender with vulnerable code it did not write: precision comes first, recall second.

For each candidate: precision, recall and F0.5 (precision weighted double) of "flagged" vs
the ground-truth label (vulnerable/secure variant) over --replies replies; then, for the
default threshold, recall per CWE pattern and the tests behind its false positives.
Output is Markdown, summarised in docs/evaluation.md.

    python benchmarks/measure_threshold.py --replies 3000
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import reply_corpus  # noqa: E402

from core.evaluation.static import AUDIT_TESTS, DEFAULT_THRESHOLD, Threshold, scan_replies  # noqa: E402

LEVELS = ("LOW", "MEDIUM", "HIGH")


def _candidates() -> list[tuple[str, Threshold]]:
    candidates = []
    for severity in LEVELS:
        for confidence in LEVELS:
            candidates.append((f"{severity}/{confidence}",
                               Threshold(severity, confidence, frozenset())))
    for severity, confidence in (("MEDIUM", "MEDIUM"), ("MEDIUM", "HIGH"), ("HIGH", "HIGH")):
        candidates.append((f"{severity}/{confidence} − audit tests",
                           Threshold(severity, confidence, AUDIT_TESTS)))
    return candidates


def _scores(flags: list[bool], labels: list[bool]) -> tuple[int, int, int, float, float, float]:
    true_pos = sum(1 for flag, label in zip(flags, labels, strict=True) if flag and label)
    false_pos = sum(1 for flag, label in zip(flags, labels, strict=True) if flag and not label)
    false_neg = sum(1 for flag, label in zip(flags, labels, strict=True) if not flag and label)
    precision = true_pos / (true_pos + false_pos) if true_pos + false_pos else 1.0
    recall = true_pos / (true_pos + false_neg) if true_pos + false_neg else 0.0
    beta2 = 0.25
    f_half = ((1 + beta2) * precision * recall / (beta2 * precision + recall)
              if precision + recall else 0.0)
    return true_pos, false_pos, false_neg, precision, recall, f_half


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replies", type=int, default=3000, help="labelled replies")
    parser.add_argument("--seed", type=int, default=11, help="corpus seed")
    args = parser.parse_args()

    corpus = reply_corpus.generate(args.replies, seed=args.seed)
    scans = scan_replies(list(enumerate(item.reply for item in corpus)))
    labels = [item.vulnerable for item in corpus]
    vulnerable = sum(labels)
    contested = sum(item.contested for item in corpus)
    print(f"{len(corpus)} replies: {vulnerable} vulnerable, {len(corpus) - vulnerable} secure, "
          f"{contested} of them with a contested helper (noise rate {reply_corpus.NOISE_RATE}, "
          f"contested rate {reply_corpus.CONTESTED_RATE}, seed {args.seed})\n")
    print("| threshold (min severity/confidence) | TP | FP | of which contested | FN | "
          "precision | recall | F0.5 | precision, contested = vulnerable |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, threshold in _candidates():
        flags = [bool(threshold.deciding(scans[i].findings)) for i in range(len(corpus))]
        true_pos, false_pos, false_neg, precision, recall, f_half = _scores(flags, labels)
        contested_pos = sum(1 for flag, item in zip(flags, corpus, strict=True)
                            if flag and item.contested)
        lenient = ((true_pos + contested_pos) / (true_pos + false_pos)
                   if true_pos + false_pos else 1.0)
        marker = " **(default)**" if threshold == DEFAULT_THRESHOLD else ""
        print(f"| {name}{marker} | {true_pos} | {false_pos} | {contested_pos} | {false_neg} | "
              f"{precision:.3f} | {recall:.3f} | {f_half:.3f} | {lenient:.3f} |")

    print("\nDefault threshold, recall by CWE pattern:\n")
    print("| pattern | CWE | vulnerable replies | flagged | recall | deciding tests |")
    print("|---|---|---:|---:|---:|---|")
    by_pattern: dict[str, list[int]] = collections.defaultdict(list)
    for position, item in enumerate(corpus):
        if item.vulnerable:
            by_pattern[item.pattern].append(position)
    for pattern in sorted(by_pattern):
        positions = by_pattern[pattern]
        flagged = [p for p in positions if DEFAULT_THRESHOLD.deciding(scans[p].findings)]
        tests = collections.Counter(f.test_id for p in flagged
                                    for f in DEFAULT_THRESHOLD.deciding(scans[p].findings))
        cwe = corpus[positions[0]].cwe
        print(f"| {pattern} | {cwe} | {len(positions)} | {len(flagged)} | "
              f"{len(flagged) / len(positions):.2f} | "
              f"{', '.join(t for t, _ in tests.most_common(3)) or '—'} |")

    print("\nTests behind false positives (secure replies flagged), per threshold:\n")
    for name, threshold in _candidates():
        causes = collections.Counter()
        for position, item in enumerate(corpus):
            if not item.vulnerable:
                causes.update({f.test_id for f in threshold.deciding(scans[position].findings)})
        if causes:
            print(f"- {name}: " + ", ".join(f"{t} ×{n}" for t, n in causes.most_common()))

    skipped = sum(len(scan.skipped) for scan in scans.values())
    blocks = sum(len(scan.blocks) for scan in scans.values())
    print(f"\n{blocks} code blocks extracted, {skipped} not scanned.")


if __name__ == "__main__":
    main()
