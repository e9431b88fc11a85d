"""Fine-tuning export: stored conversations as chat JSONL (or the native JSONL).

``chat-jsonl`` is the chat format Hugging Face ``datasets`` reads: one object per line
with ``messages`` (the attacker is ``user``, the defender ``assistant``) and metadata
(tournament, kind, attacker, defender, conversation_id, verdict, reason, findings).
``jsonl`` is the native format: the same metadata with ``turns`` as
``[{"role": "attacker"|"defender", "content": ...}]`` (what `arena-tui import` reads).

Only decided conversations (a verdict from the static stage, the annotators or an
adjudicator) are exported unless the filters say ``include_undecided``: an undecided
conversation was reviewed by nobody, and a fine-tuning set must not carry unreviewed
replies (insecure or malicious code the static stage missed) by default. Incomplete
conversations are never evaluated, so they are undecided too.

Streaming: conversations are read a page at a time, so memory stays constant however
large the store; the output goes to a temp file renamed at the end.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from core.evaluation.pipeline import STATIC, current_labels
from core.evaluation.settings import EvaluationSettings
from core.store import FindingRow, Store
from core.store.packs import ConversationOutcome
from core.tournament.config import KINDS
from core.turns import turn_number

FORMATS = ("chat-jsonl", "jsonl")
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


class ExportError(ValueError):
    """A bad export request (unknown filter or format); the message is one line."""


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


@dataclass
class ExportSummary:
    """Counts of one export (also what --dry-run prints): the conversations written,
    decided (with a verdict) and undecided, and those dropped by reason."""

    considered: int = 0
    decided: int = 0
    undecided: int = 0
    dropped: dict[str, int] = field(default_factory=dict)

    @property
    def written(self) -> int:
        """Conversations written, decided or not."""
        return self.decided + self.undecided

    def drop(self, why: str) -> None:
        """Count one conversation dropped for `why`."""
        self.dropped[why] = self.dropped.get(why, 0) + 1


@contextmanager
def atomic_writer(path: Path) -> Iterator[IO[str]]:
    """Write `path` through a temp file beside it, renamed into place only on success."""
    if not path.parent.is_dir():
        raise ExportError(f"folder {path.parent} does not exist")
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def iter_records(
    store: Store,
    tournament_ids: Sequence[int],
    filters: ExportFilters,
    *,
    fmt: str = "chat-jsonl",
    summary: ExportSummary | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield export records page by page, counting what is kept and dropped."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})")
    summary = summary if summary is not None else ExportSummary()
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
            if reason:
                summary.drop(reason)
                continue
            if conv.verdict is None:
                summary.undecided += 1
            else:
                summary.decided += 1
            yield _record(conv, turns[conv.id], findings[conv.id], fmt, truncated.get(conv.id, ()))
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
            truncated: Sequence[int] = ()) -> dict[str, Any]:
    meta = {
        "conversation_id": conv.id, "tournament": conv.tournament, "kind": conv.kind,
        "attacker": conv.attacker, "defender": conv.defender, "status": conv.status,
        "verdict": conv.verdict, "reason": conv.reason,
        "findings": [finding_record(f) for f in findings],
        # Replies cut at the bot's max_tokens (turn numbers from 1): they look finished but are not.
        "truncated_turns": [turn_number(i) for i in truncated],
    }
    if fmt == "chat-jsonl":
        return {"messages": [{"role": ROLE_TO_CHAT[role], "content": content} for role, content in turns], **meta}
    return {"turns": [{"role": role, "content": content} for role, content in turns], **meta}


def export_conversations(
    store: Store,
    tournament_ids: Sequence[int],
    filters: ExportFilters,
    out: Path | None,
    *,
    fmt: str = "chat-jsonl",
    progress: Callable[[int, int], None] | None = None,
) -> ExportSummary:
    """Write the export to `out` atomically (or only count, with `out` None: dry run)."""
    summary = ExportSummary()
    records = iter_records(store, tournament_ids, filters, fmt=fmt, summary=summary, progress=progress)
    if out is None:
        for _ in records:
            pass
        return summary
    with atomic_writer(out) as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return summary
