"""The dataset report: counts (the paper's Fig. 4), agreement (Table 1), semantic
diversity (Table 2) and the analyzer audit, as plain dataclasses; the CLI renders
markdown and the TUI a screen.

Diversity embedding: by default a **character n-gram TF-IDF** vector (3- to 5-grams of
the lower-cased text, sublinear tf, idf over the texts being compared, L2-normalised),
one dimension per distinct n-gram (exact sparse vectors, no hashing: hashed buckets
collide and pull unrelated texts together), computed with numpy alone: it works offline
and needs no model. Distances are cosine distances (1 - cosine similarity). A better
embedding can be plugged in: any ``Callable[[list[str]], np.ndarray]`` returning dense
rows, e.g. `sentence_transformer_embedder` for a sentence-transformers model already on
disk (imported only when asked for; never downloads).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.evaluation.agreement import Estimate
from core.evaluation.intervals import Interval, wilson
from core.evaluation.pipeline import (
    ADJUDICATED,
    ANNOTATORS,
    DAWID_SKENE,
    JUDGE,
    STATIC,
    agreement,
    analyzer_audit,
    judge_trusts,
    routing_summary,
)
from core.store import Store
from core.text import markdown_text

NGRAM_RANGE = (3, 5)
# Texts compared per level at most: the pairwise matrix grows with the square.
MAX_TEXTS = 1500
# Characters of each text embedded: long replies are dominated by their opening.
MAX_CHARS = 4000


@dataclass(frozen=True)
class SparseVectors:
    """Rows of a sparse matrix, one entry per (row, column) with a value: ``rows``,
    ``cols`` and ``values`` are parallel arrays; the matrix is ``shape``."""

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    shape: tuple[int, int]


Embedder = Callable[[list[str]], "np.ndarray | SparseVectors"]


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


@dataclass(frozen=True)
class JudgeRow:
    """One judge against the human verdicts of one tournament (`core.evaluation.trust.JudgeTrust`),
    with the routing line when it is the tournament's routing judge."""

    tournament: str
    trust: Any
    routing: str | None = None


@dataclass
class DatasetReport:
    """Everything `arena-tui report` shows."""

    counts: list[TournamentCounts] = field(default_factory=list)
    agreement: list[AgreementRow] = field(default_factory=list)
    diversity: list[DiversityRow] = field(default_factory=list)
    audit: list[AuditRow] = field(default_factory=list)
    judges: list[JudgeRow] = field(default_factory=list)
    embedding: str = "character 3-5-gram TF-IDF (numpy, exact sparse vectors), cosine distance"


# --- embedding -----------------------------------------------------------------------


def ngram_tfidf_embedder(texts: list[str]) -> SparseVectors:
    """Character n-gram TF-IDF vectors, L2-normalised rows, one column per distinct n-gram.

    Each text is lower-cased, its whitespace runs made single spaces, and cut to
    MAX_CHARS characters. Its n-grams (n in NGRAM_RANGE) count c times give tf = 1 + ln c;
    idf = ln((1 + N) / (1 + df)) + 1 over the N texts (df: texts holding the n-gram). An
    empty text is a zero row. N-grams are numbered exactly: characters get dense ids, an
    n-gram is the base-(alphabet size) number of its characters' ids (renumbered densely
    first if that would not fit in 63 bits), and each text's n-grams are counted with
    numpy.
    """
    cleaned = [" ".join(text.lower().split())[:MAX_CHARS] for text in texts]
    n_texts = len(cleaned)
    lengths = np.fromiter(map(len, cleaned), dtype=np.int64, count=n_texts)
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    codes = np.frombuffer("".join(cleaned).encode("utf-32-le", "surrogatepass"), dtype="<u4")
    alphabet = np.unique(codes)
    chars = np.searchsorted(alphabet, codes).astype(np.int64)
    base = max(alphabet.size, 2)
    rows, cols, counts = [], [], []
    columns = 0
    keys, bound = chars, base  # keys of the n-grams starting at each position; keys < bound
    for order in range(2, NGRAM_RANGE[1] + 1):
        if bound > (2**63 - 1) // base:
            _, keys = np.unique(keys, return_inverse=True)
            keys, bound = keys.reshape(-1).astype(np.int64), int(keys.max()) + 1
        # keys[p] now also holds the character at p + order - 1 (past a text's end the
        # key mixes two texts; those positions are never read).
        keys = keys[:-1] * base + chars[order - 1:] if keys.size else keys
        bound *= base
        if order < NGRAM_RANGE[0]:
            continue
        per_text = [np.unique(keys[bounds[t]:max(bounds[t], bounds[t + 1] - order + 1)],
                              return_counts=True) for t in range(n_texts)]
        found = np.concatenate([g for g, _ in per_text] or [keys[:0]])
        grams = np.unique(found)
        rows.append(np.repeat(np.arange(n_texts), [g.size for g, _ in per_text]))
        cols.append(np.searchsorted(grams, found) + columns)
        counts.append(np.concatenate([c for _, c in per_text] or [keys[:0]]))
        columns += grams.size
    row, col, count = (np.concatenate(part) for part in (rows, cols, counts))
    df = np.bincount(col, minlength=columns)
    values = (1 + np.log(count)) * (np.log((1 + n_texts) / (1 + df)) + 1)[col]
    norms = np.sqrt(np.bincount(row, weights=values * values, minlength=n_texts))
    return SparseVectors(row, col, values / norms[row], (n_texts, columns))


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


def within_between(vectors: np.ndarray | SparseVectors,
                   groups: Sequence[str]) -> tuple[float | None, float | None]:
    """Mean cosine distance over pairs in the same group and over pairs in different groups.

    ``vectors`` are unit rows (or zero rows), dense or sparse. The sums of cosines come
    from per-group sums of the vectors, with no pair matrix: over the pairs of group g,
    sum of cos = (|s_g|^2 - sum of |v_i|^2 over g) / 2 with s_g the sum of g's vectors,
    and over pairs across groups, (|s|^2 - sum over g of |s_g|^2) / 2 with s the sum of
    all. None where there is no such pair.
    """
    n = len(groups)
    if n < 2:
        return None, None
    codes = np.unique(np.asarray(groups), return_inverse=True)[1].reshape(-1)
    n_groups = int(codes.max()) + 1
    if isinstance(vectors, SparseVectors):
        group_of = codes[vectors.rows]
        keys, at = np.unique(group_of * vectors.shape[1] + vectors.cols, return_inverse=True)
        group_sums = np.bincount(at.reshape(-1), weights=vectors.values)
        group_square = np.bincount(keys // vectors.shape[1], weights=group_sums ** 2,
                                   minlength=n_groups)
        total = np.bincount(vectors.cols, weights=vectors.values, minlength=vectors.shape[1])
        own = np.bincount(group_of, weights=vectors.values ** 2, minlength=n_groups)
    else:
        dense = np.asarray(vectors, dtype=np.float64)
        group_sums = np.zeros((n_groups, dense.shape[1]))
        np.add.at(group_sums, codes, dense)
        group_square = (group_sums ** 2).sum(axis=1)
        total = dense.sum(axis=0)
        own = np.bincount(codes, weights=(dense ** 2).sum(axis=1), minlength=n_groups)
    sizes = np.bincount(codes, minlength=n_groups)
    within_pairs = int((sizes * (sizes - 1) // 2).sum())
    between_pairs = n * (n - 1) // 2 - within_pairs
    within_cos = float((group_square - own).sum()) / 2
    between_cos = (float(total @ total) - float(group_square.sum())) / 2
    within = min(2.0, max(0.0, 1 - within_cos / within_pairs)) if within_pairs else None
    between = min(2.0, max(0.0, 1 - between_cos / between_pairs)) if between_pairs else None
    return within, between


# --- the report -----------------------------------------------------------------------


def _counts(store: Store, tournament) -> TournamentCounts:  # noqa: ANN001
    status = store.status_counts(tournament.id)
    verdicts = store.verdicts(tournament.id)
    attack = tournament.settings.evaluation.attack_label
    by = Counter()
    for v in verdicts.values():
        if v.verdict == attack and v.reason == STATIC:
            by["vulnerable_code"] += 1
        elif v.verdict == attack and v.reason in (ANNOTATORS, ADJUDICATED, DAWID_SKENE, JUDGE):
            by["malicious_assistance"] += 1
        elif v.verdict is not None:
            by["defended"] += 1
    undecided = status["complete"] - sum(by.values())
    return TournamentCounts(tournament.name, tournament.kind, sum(status.values()), status["complete"], status["incomplete"],
                            by["vulnerable_code"], by["malicious_assistance"], by["defended"], undecided)


def _agreement(store: Store, tournament, resamples: int) -> AgreementRow:  # noqa: ANN001
    from core.evaluation.agreement import agreement_report

    overall = agreement(store, tournament.id, resamples=resamples)
    settings = tournament.settings.evaluation
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
        routing = routing_summary(store, t.id)
        for trust in judge_trusts(store, t.id, resamples=resamples):
            mine = routing if routing and routing.startswith(f"routing: judge {trust.judge} ") else None
            report.judges.append(JudgeRow(t.name, trust, mine))
    report.diversity = _diversity(store, tournaments, embed or ngram_tfidf_embedder, seed, step)
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
    if report.judges:
        lines += ["", "## Judges against the human verdicts (95 % intervals)", "",
                  "| tournament | judge | items | Cohen's κ | agreement | precision by label | recall by label | Dawid-Skene accuracy |",
                  "|---|---|---|---|---|---|---|---|"]
        for j in report.judges:
            t = j.trust
            precision = "; ".join(f"{markdown_text(str(label))} {fmt_estimate(v.precision)}" for label, v in t.per_label.items())
            recall = "; ".join(f"{markdown_text(str(label))} {fmt_estimate(v.recall)}" for label, v in t.per_label.items())
            ds = "–" if math.isnan(t.ds_accuracy) else f"{t.ds_accuracy:.3f}"
            lines.append(f"| {markdown_text(j.tournament)} | {markdown_text(t.judge)} | {t.items} | {fmt_estimate(t.kappa)} "
                         f"| {fmt_estimate(t.agreement)} | {precision} | {recall} | {ds} |")
        for j in report.judges:
            if j.routing:
                lines += ["", f"{markdown_text(j.tournament)}: {markdown_text(j.routing)}"]
    return "\n".join(lines) + "\n"
