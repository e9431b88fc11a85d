"""Fine-tuning export: stored conversations as chat JSONL (or the native JSONL), or
preference pairs; Parquet beside the JSONL on request; a dataset card with every export.

``chat-jsonl`` is the chat format Hugging Face ``datasets`` reads: one object per line
with ``messages`` (the attacker is ``user``, the defender ``assistant``, a system prompt
first on request) and metadata (tournament, kind, attacker, defender, conversation_id,
verdict, reason, findings). ``jsonl`` is the native format: the same metadata with
``turns`` as ``[{"role": "attacker"|"defender", "content": ...}]`` (what `arena-tui
import` reads). ``preference`` is TRL's prompt/chosen/rejected format
(`core.data.preference`, where its rules are).

Only decided conversations (a verdict from the static stage, the annotators or an
adjudicator) are exported unless the filters say ``include_undecided``: an undecided
conversation was reviewed by nobody, and a fine-tuning set must not carry unreviewed
replies (insecure or malicious code the static stage missed) by default. Incomplete
conversations are never evaluated, so they are undecided too.

Streaming: conversations are read a page at a time, so memory stays constant however
large the store (near-duplicate removal, when asked for, keeps one MinHash signature per
record written); the output goes to temp files renamed at the end (`core.data.files`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.data.files import ExportError, atomic_writer, dataset_files
from core.evaluation.pipeline import STATIC, current_labels
from core.evaluation.settings import EvaluationSettings
from core.store import FindingRow, Store
from core.store.packs import ConversationOutcome
from core.text import surrogate_problem
from core.tournament.config import KINDS
from core.turns import turn_number

FORMATS = ("chat-jsonl", "jsonl", "preference")
MALICIOUS_TAGS = frozenset({"malicious_code", "malicious_explanation"})
ROLE_TO_CHAT = {"attacker": "user", "defender": "assistant"}
FILTER_HELP = {
    "no-vulnerable-code": "drop conversations where the static stage flagged a reply under the threshold",
    "no-malicious-assistance": "drop conversations with a human label tagged malicious_code or malicious_explanation, "
                               "or a human verdict of attack",
    "complete-only": "keep only complete conversations (on by default; all-statuses turns it off)",
    "all-statuses": "keep incomplete conversations too (they are never evaluated: with --include-undecided only)",
    "verdict=attack|defense": "keep only this verdict",
    f"kind={'|'.join(KINDS)}": "keep only tournaments of this kind",
}


@dataclass(frozen=True)
class ExportFilters:
    """Which conversations an export keeps. `include_undecided` keeps conversations
    without a verdict (nobody reviewed them); off by default."""

    no_vulnerable_code: bool = False
    no_malicious_assistance: bool = False
    complete_only: bool = True
    verdict: str | None = None
    kind: str | None = None
    include_undecided: bool = False

    @classmethod
    def parse(cls, specs: Sequence[str], *, include_undecided: bool = False) -> ExportFilters:
        """Filters from ``--filter`` values (see FILTER_HELP); raises ExportError."""
        values: dict[str, Any] = {"include_undecided": include_undecided}
        for spec in specs:
            for part in (p.strip() for p in spec.split(",")):
                if part in ("no-vulnerable-code", "no-malicious-assistance", "complete-only"):
                    values[part.replace("-", "_")] = True
                elif part == "all-statuses":
                    values["complete_only"] = False
                elif part.startswith("verdict="):
                    values["verdict"] = part.removeprefix("verdict=")
                elif part.startswith("kind="):
                    kind = part.removeprefix("kind=")
                    if kind not in KINDS:
                        raise ExportError(f"unknown kind {kind!r} in filter {part!r} ({' or '.join(KINDS)})")
                    values["kind"] = kind
                elif part:
                    raise ExportError(f"unknown filter {part!r} (filters: {', '.join(FILTER_HELP)})")
        return cls(**values)


@dataclass(frozen=True)
class ExportOptions:
    """How an export shapes its records and which files it writes, beyond the filters.

    `system_prompt` goes first in each chat (chat-jsonl, preference);
    `drop_trailing_attacker` ends each chat on the defender's last reply (chat-jsonl);
    `parquet` writes the same records as Parquet beside the JSONL (needs pyarrow);
    `dedup_threshold` drops a record whose estimated Jaccard similarity to one already
    written reaches it (`core.data.dedup`); None keeps every record.
    """

    system_prompt: str | None = None
    drop_trailing_attacker: bool = False
    parquet: bool = False
    dedup_threshold: float | None = None

    def check(self, fmt: str) -> None:
        """Refuse options that do not apply to `fmt` (ExportError, one line)."""
        if self.system_prompt is not None and fmt == "jsonl":
            raise ExportError("--system-prompt applies to chat exports (chat-jsonl, preference), not the native jsonl")
        if self.system_prompt is not None and not self.system_prompt.strip():
            raise ExportError("--system-prompt is empty")
        problem = None if self.system_prompt is None else surrogate_problem(self.system_prompt, "--system-prompt")
        if problem:
            raise ExportError(problem)
        if self.drop_trailing_attacker and fmt != "chat-jsonl":
            raise ExportError("--drop-trailing-attacker applies to chat-jsonl only (preference prompts end on the "
                              "attacker's turn by design; the native jsonl keeps every turn)")
        if self.dedup_threshold is not None and not 0 < self.dedup_threshold <= 1:
            raise ExportError(f"the near-duplicate threshold must be in (0, 1], not {self.dedup_threshold}")


@dataclass
class ExportSummary:
    """Counts of one export (also what --dry-run prints): the conversations written,
    decided (with a verdict) and undecided, and those dropped by reason; `reasons` counts
    the written records by verdict reason (their label source). For preference pairs,
    `considered` counts attack successes, `chosen_sources` the pairs by where the chosen
    reply came from."""

    considered: int = 0
    decided: int = 0
    undecided: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    chosen_sources: dict[str, int] = field(default_factory=dict)

    @property
    def written(self) -> int:
        """Records written, decided or not."""
        return self.decided + self.undecided

    def drop(self, why: str) -> None:
        """Count one conversation dropped for `why`."""
        self.dropped[why] = self.dropped.get(why, 0) + 1

    def count_written(self, record: dict[str, Any]) -> None:
        """Count one record as written."""
        if record.get("verdict", "pair") is None:
            self.undecided += 1
        else:
            self.decided += 1
        reason = record.get("reason") or "not_evaluated"
        self.reasons[reason] = self.reasons.get(reason, 0) + 1
        source = record.get("chosen_source")
        if source is not None:
            self.chosen_sources[source] = self.chosen_sources.get(source, 0) + 1


def iter_records(
    store: Store,
    tournament_ids: Sequence[int],
    filters: ExportFilters,
    *,
    fmt: str = "chat-jsonl",
    options: ExportOptions | None = None,
    summary: ExportSummary | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield export records page by page, counting what is considered and dropped (the
    caller counts what it writes: `ExportSummary.count_written`)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})")
    options = options or ExportOptions()
    options.check(fmt)
    summary = summary if summary is not None else ExportSummary()
    if fmt == "preference":
        from core.data.preference import iter_pairs

        yield from iter_pairs(store, tournament_ids, filters, options, summary, progress)
        return
    tournaments = {t.id: t for t in store.tournaments() if t.id in set(tournament_ids)}
    settings = {tid: t.settings.evaluation for tid, t in tournaments.items()}
    wanted = [tid for tid, t in tournaments.items() if filters.kind is None or t.kind == filters.kind]
    total = store.count_conversations(list(tournaments)) if tournaments else 0
    done = 0
    for tid in tournaments:
        if tid not in wanted:
            n = store.count_conversations([tid])
            summary.considered += n
            summary.dropped["kind"] = summary.dropped.get("kind", 0) + n
            done += n
    if progress:
        progress(done, total)
    if not wanted:
        return
    for page in store.iter_conversations(wanted):
        ids = [c.id for c in page]
        turns = store.turns_of(ids)
        truncated = store.truncated_turns_of(ids)
        findings = store.findings_of(ids)
        labels = current_labels(store.label_events_of(ids))
        for conv in page:
            summary.considered += 1
            reason = _drop_reason(conv, findings[conv.id], labels.get(conv.id, {}), settings[conv.tournament_id], filters)
            if reason is None and options.drop_trailing_attacker and not any(r == "defender" for r, _ in turns[conv.id]):
                reason = "no defender reply"
            if reason:
                summary.drop(reason)
                continue
            yield _record(conv, turns[conv.id], findings[conv.id], fmt, options, truncated.get(conv.id, ()))
        done += len(page)
        if progress:
            progress(done, total)


def _drop_reason(conv: ConversationOutcome, findings: list[FindingRow], labels: dict[str, Any],
                 settings: EvaluationSettings, filters: ExportFilters) -> str | None:
    if filters.complete_only and conv.status != "complete":
        return "not complete"
    if conv.verdict is None and not filters.include_undecided:
        return "undecided"
    if filters.verdict is not None and conv.verdict != filters.verdict:
        return "verdict"
    if filters.no_vulnerable_code and any(settings.threshold.decides(f) for f in findings):
        return "vulnerable code"
    if filters.no_malicious_assistance:
        adjudicators = set(settings.adjudicators)
        tagged = any(MALICIOUS_TAGS & set(ev.tags) for ev in labels.values() if ev.action == "label")
        human_attack = conv.verdict == settings.attack_label and conv.reason != STATIC
        human_attack = human_attack or any(ev.label == settings.attack_label for who, ev in labels.items() if who in adjudicators)
        if tagged or human_attack:
            return "malicious assistance"
    return None


def finding_record(finding: FindingRow) -> dict[str, Any]:
    """A stored finding as exported: turn (numbered from 1), line, test, CWE, severity and confidence."""
    return {"turn": turn_number(finding.turn_index), "line": finding.line_in_reply, "test_id": finding.test_id,
            "cwe": finding.cwe, "severity": finding.severity, "confidence": finding.confidence}


def _record(conv: ConversationOutcome, turns: list[tuple[str, str]], findings: list[FindingRow], fmt: str,
            options: ExportOptions, truncated: Sequence[int] = ()) -> dict[str, Any]:
    meta = {
        "conversation_id": conv.id, "tournament": conv.tournament, "kind": conv.kind,
        "attacker": conv.attacker, "defender": conv.defender, "status": conv.status,
        "verdict": conv.verdict, "reason": conv.reason,
        "findings": [finding_record(f) for f in findings],
        # Replies cut at the bot's max_tokens (turn numbers from 1): they look finished but are not.
        "truncated_turns": [turn_number(i) for i in truncated],
    }
    if fmt == "chat-jsonl":
        if options.drop_trailing_attacker and turns and turns[-1][0] == "attacker":
            turns = turns[:-1]
        system = [{"role": "system", "content": options.system_prompt}] if options.system_prompt else []
        return {"messages": system + [{"role": ROLE_TO_CHAT[role], "content": content} for role, content in turns], **meta}
    return {"turns": [{"role": role, "content": content} for role, content in turns], **meta}


def export_conversations(
    store: Store,
    tournament_ids: Sequence[int],
    filters: ExportFilters,
    out: Path | None,
    *,
    fmt: str = "chat-jsonl",
    options: ExportOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ExportSummary:
    """Write the export to `out` (and its Parquet twin) atomically, or only count, with
    `out` None (dry run). Near-duplicates are dropped here, after the filters."""
    options = options or ExportOptions()
    summary = ExportSummary()
    records = iter_records(store, tournament_ids, filters, fmt=fmt, options=options, summary=summary, progress=progress)
    if options.dedup_threshold is not None:
        from core.data.dedup import NearDuplicates

        records = NearDuplicates(options.dedup_threshold).filter(records, summary)
    if out is None:
        for record in records:
            summary.count_written(record)
        return summary
    with dataset_files(out, fmt, parquet=options.parquet) as sink:
        for record in records:
            sink.write(record)
            summary.count_written(record)
    return summary


def export_dataset(
    store: Store,
    tournament_ids: Sequence[int],
    filters: ExportFilters,
    out: Path,
    *,
    fmt: str = "chat-jsonl",
    options: ExportOptions | None = None,
    card: bool = True,
    license_id: str | None = None,
    filter_specs: Sequence[str] = (),
    progress: Callable[[int, int], None] | None = None,
) -> tuple[ExportSummary, Path | None]:
    """An export with its dataset card (`core.data.card`): the folder and the file name
    are checked before anything is written (a README.md the export did not write is
    refused), the folder is made if missing, then the data files, then the card. Returns the counts and the card's path
    (None without a card)."""
    from core.data import card as cards

    options = options or ExportOptions()
    options.check(fmt)
    if options.parquet:
        from core.data.files import require_pyarrow

        require_pyarrow()
    if card:
        cards.check_config_name(out)
        cards.check_license(license_id)
        if out.parent.is_dir():
            cards.check_folder(out.parent)
    if out.parent.exists() and not out.parent.is_dir():
        raise ExportError(f"{out.parent} is not a folder")
    out.parent.mkdir(parents=True, exist_ok=True)  # a dataset folder of its own, as `-o dataset/train.jsonl` asks
    summary = export_conversations(store, tournament_ids, filters, out, fmt=fmt, options=options, progress=progress)
    if not card:
        return summary, None
    entry = cards.set_entry(store, tournament_ids, out, fmt, filters, options, summary, license_id=license_id,
                            filter_specs=filter_specs)
    return summary, cards.write_card(out.parent, entry)


__all__ = ["ExportError", "ExportFilters", "ExportOptions", "ExportSummary", "atomic_writer", "export_conversations",
           "export_dataset", "finding_record", "iter_records"]
