"""The dataset report: counts (the paper's Fig. 4), agreement (Table 1), semantic
diversity (Table 2) and the analyzer audit, as plain dataclasses; the CLI renders
markdown and the TUI a screen.

Diversity embedding: by default a **hashed character n-gram TF-IDF** vector (3- to
5-grams of the lower-cased text, hashed into `HASH_DIM` buckets, sublinear tf, idf over
the texts being compared, L2-normalised), computed with numpy alone: it works offline
and needs no model. Distances are cosine distances (1 - cosine similarity). A better
embedding can be plugged in: any ``Callable[[list[str]], np.ndarray]``, e.g.
`sentence_transformer_embedder` for a sentence-transformers model already on disk
(imported only when asked for; never downloads).
"""

from __future__ import annotations

import math
import random
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from core.agreement import Estimate
from core.evaluation import (
    ADJUDICATED,
    ANNOTATORS,
    DAWID_SKENE,
    STATIC,
    EvaluationSettings,
    agreement,
    analyzer_audit,
)
from core.intervals import Interval, wilson
from core.store import Store
from core.text import markdown_text

# Buckets of the hashed n-gram space: 4096 keeps a 1,500-text matrix at 24 MB (float32)
# while collisions stay rare for the few thousand distinct n-grams of a typical text.
HASH_DIM = 4096
NGRAM_RANGE = (3, 5)
# Texts compared per level at most: the pairwise matrix grows with the square.
MAX_TEXTS = 1500
# Characters of each text embedded: long replies are dominated by their opening.
MAX_CHARS = 4000

Embedder = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class TournamentCounts:
    """Counts of one tournament (Fig. 4: attack successes by reason)."""

    tournament: str
    kind: str
    conversations: int
    complete: int
    incomplete: int
    vulnerable_code: int
    malicious_assistance: int
    defended: int
    undecided: int


@dataclass(frozen=True)
class AgreementRow:
    """Agreement of one tournament: overall and per label (label vs the rest)."""

    tournament: str
    items: int
    fleiss_kappa: Estimate
    krippendorff_alpha: Estimate
    per_label: dict[str, tuple[Estimate, Estimate]]


@dataclass(frozen=True)
class DiversityRow:
    """Mean cosine distance within groups and between groups at one level (Table 2)."""

    level: str
    groups: int
    texts: int
    within: float | None
    between: float | None


@dataclass(frozen=True)
class AuditRow:
    """Estimated precision of the static stage from audited items, with a Wilson interval (percent)."""

    tournament: str
    judged: int
    confirmed: int
    precision: float | None
    interval: Interval


@dataclass
class DatasetReport:
    """Everything `arena-tui report` shows."""

    counts: list[TournamentCounts] = field(default_factory=list)
    agreement: list[AgreementRow] = field(default_factory=list)
    diversity: list[DiversityRow] = field(default_factory=list)
    audit: list[AuditRow] = field(default_factory=list)
    embedding: str = "hashed character 3-5-gram TF-IDF (numpy), cosine distance"


# --- embedding -----------------------------------------------------------------------


def hashed_ngram_embedder(texts: list[str]) -> np.ndarray:
    """Hashed character n-gram TF-IDF vectors, L2-normalised (rows), float32."""
    counts = np.zeros((len(texts), HASH_DIM), dtype=np.float32)
    for row, text in enumerate(texts):
        text = " ".join(text.lower().split())[:MAX_CHARS]
        grams: Counter[int] = Counter()
        for n in range(NGRAM_RANGE[0], NGRAM_RANGE[1] + 1):
            for i in range(len(text) - n + 1):
                grams[zlib.crc32(text[i:i + n].encode()) % HASH_DIM] += 1
        if grams:
            cols = np.fromiter(grams.keys(), dtype=np.int64)
            counts[row, cols] = 1 + np.log(np.fromiter(grams.values(), dtype=np.float32))
    df = (counts > 0).sum(axis=0)
    idf = np.log((1 + len(texts)) / (1 + df)).astype(np.float32) + 1
    vectors = counts * idf
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def sentence_transformer_embedder(model: str) -> Embedder:
    """An embedder from a sentence-transformers model already installed locally.

    Imported only here (optional dependency); offline mode is forced, so a missing
    model is an error, never a download.
    """
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found]

    encoder = SentenceTransformer(model)

    def embed(texts: list[str]) -> np.ndarray:
        return np.asarray(encoder.encode([t[:MAX_CHARS] for t in texts], normalize_embeddings=True), dtype=np.float32)

    return embed


def within_between(vectors: np.ndarray, groups: Sequence[str]) -> tuple[float | None, float | None]:
    """Mean cosine distance over pairs in the same group and over pairs in different groups."""
    n = len(groups)
    if n < 2:
        return None, None
    distance = 1 - np.clip(vectors @ vectors.T, -1, 1)
    codes = np.unique(np.asarray(groups), return_inverse=True)[1]
    same = codes[:, None] == codes[None, :]
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    within_mask, between_mask = same & upper, ~same & upper
    within = float(distance[within_mask].mean()) if within_mask.any() else None
    between = float(distance[between_mask].mean()) if between_mask.any() else None
    return within, between


# --- the report -----------------------------------------------------------------------


def _counts(store: Store, tournament) -> TournamentCounts:  # noqa: ANN001
    status = store.status_counts(tournament.id)
    verdicts = store.verdicts(tournament.id)
    attack = EvaluationSettings.from_tournament(tournament).attack_label
    by = Counter()
    for verdict, reason in verdicts.values():
        if verdict == attack and reason == STATIC:
            by["vulnerable_code"] += 1
        elif verdict == attack and reason in (ANNOTATORS, ADJUDICATED, DAWID_SKENE):
            by["malicious_assistance"] += 1
        elif verdict is not None:
            by["defended"] += 1
    undecided = status["complete"] - sum(by.values())
    return TournamentCounts(tournament.name, tournament.kind, sum(status.values()), status["complete"], status["incomplete"],
                            by["vulnerable_code"], by["malicious_assistance"], by["defended"], undecided)


def _agreement(store: Store, tournament, resamples: int) -> AgreementRow:  # noqa: ANN001
    from core.agreement import agreement_report

    overall = agreement(store, tournament.id, resamples=resamples)
    settings = EvaluationSettings.from_tournament(tournament)
    rows = [row for row in store.current_label_rows(tournament.id) if row[1] not in settings.adjudicators]
    per_label = {}
    for label in settings.labels:
        binary = agreement_report([(c, w, label if lab == label else "other") for c, w, lab in rows],
                                  categories=[label, "other"], resamples=resamples)
        per_label[label] = (binary.fleiss_kappa, binary.krippendorff_alpha)
    return AgreementRow(tournament.name, overall.items, overall.fleiss_kappa, overall.krippendorff_alpha, per_label)


def _diversity(store: Store, tournaments: Sequence, embed: Embedder, seed: int,
               step: Callable[[str], None]) -> list[DiversityRow]:
    refs = [(c.id, c.attacker, c.defender, t.name) for t in tournaments for c in store.conversations(t.id, status="complete")]
    if len(refs) > MAX_TEXTS:
        refs = sorted(random.Random(seed).sample(refs, MAX_TEXTS))
    attacker_texts, defender_texts, whole = [], [], []
    for start in range(0, len(refs), 500):
        page = refs[start:start + 500]
        turns = store.turns_of([r[0] for r in page])
        for cid, *_ in page:
            attacker_texts.append("\n".join(c for role, c in turns[cid] if role == "attacker"))
            defender_texts.append("\n".join(c for role, c in turns[cid] if role == "defender"))
            whole.append("\n".join(c for _, c in turns[cid]))
    rows = []
    for level, texts, groups in (("attacker", attacker_texts, [r[1] for r in refs]),
                                 ("defender", defender_texts, [r[2] for r in refs]),
                                 ("tournament", whole, [r[3] for r in refs])):
        step(f"diversity of {len(texts)} {level} texts")
        within, between = within_between(embed(texts), groups) if texts else (None, None)
        rows.append(DiversityRow(level, len(set(groups)), len(texts), within, between))
    return rows


def build_report(store: Store, tournament_ids: Sequence[int], *, resamples: int = 1000, embed: Embedder | None = None,
                 embedding_name: str | None = None, seed: int = 0,
                 progress: Callable[[int, int, str], None] | None = None) -> DatasetReport:
    """Compute the whole dataset report over some tournaments.

    `progress(done, total, step)` is called as each step starts (one per tournament,
    then one per diversity level)."""
    tournaments = [t for t in store.tournaments() if t.id in set(tournament_ids)]
    report = DatasetReport()
    if embedding_name:
        report.embedding = embedding_name
    total, done = len(tournaments) + 3, 0

    def step(what: str) -> None:
        nonlocal done
        if progress is not None:
            progress(done, total, what)
        done += 1

    for t in tournaments:
        step(f"counts, agreement and audit of {t.name}")
        report.counts.append(_counts(store, t))
        report.agreement.append(_agreement(store, t, resamples))
        judged, confirmed = analyzer_audit(store, t.id)
        report.audit.append(AuditRow(t.name, judged, confirmed, confirmed / judged * 100 if judged else None,
                                     wilson(confirmed, judged)))
    report.diversity = _diversity(store, tournaments, embed or hashed_ngram_embedder, seed, step)
    if progress is not None:
        progress(total, total, "done")
    return report


def fmt_estimate(e: Estimate | None) -> str:
    if e is None or math.isnan(e.value):
        return "–"
    return f"{e.value:.3f} [{e.low:.3f}, {e.high:.3f}]"


def fmt_number(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def to_markdown(report: DatasetReport) -> str:
    """The report as markdown (what `arena-tui report -o report.md` writes)."""
    lines = ["# Dataset report", "", "## Conversations and attack successes by reason (Fig. 4)", "",
             "| tournament | kind | conversations | complete | incomplete | vulnerable code | malicious assistance "
             "| defended | undecided |", "|---|---|---|---|---|---|---|---|---|"]
    for c in report.counts:
        lines.append(f"| {markdown_text(c.tournament)} | {c.kind} | {c.conversations} | {c.complete} | {c.incomplete} | {c.vulnerable_code} "
                     f"| {c.malicious_assistance} | {c.defended} | {c.undecided} |")
    lines += ["", "## Inter-annotator agreement (Table 1; 95 % bootstrap intervals)", "",
              "| tournament | scope | items | Fleiss' κ | Krippendorff's α |", "|---|---|---|---|---|"]
    for a in report.agreement:
        lines.append(f"| {markdown_text(a.tournament)} | overall | {a.items} | {fmt_estimate(a.fleiss_kappa)} | {fmt_estimate(a.krippendorff_alpha)} |")
        for label, (kappa, alpha) in a.per_label.items():
            lines.append(f"| {markdown_text(a.tournament)} | {markdown_text(label)} vs rest | {a.items} | {fmt_estimate(kappa)} | {fmt_estimate(alpha)} |")
    lines += ["", f"## Semantic diversity (Table 2; {report.embedding})", "",
              "| level | groups | texts | mean distance within | mean distance between |", "|---|---|---|---|---|"]
    for d in report.diversity:
        lines.append(f"| {d.level} | {d.groups} | {d.texts} | {fmt_number(d.within)} | {fmt_number(d.between)} |")
    lines += ["", "## Analyzer audit (precision of the static stage)", "",
              "| tournament | audited with a majority | confirmed attacks | precision | 95 % Wilson interval |",
              "|---|---|---|---|---|"]
    for r in report.audit:
        precision = "–" if r.precision is None else f"{r.precision:.1f} %"
        lines.append(f"| {markdown_text(r.tournament)} | {r.judged} | {r.confirmed} | {precision} | {r.interval.lo:.1f}–{r.interval.hi:.1f} % |")
    return "\n".join(lines) + "\n"
