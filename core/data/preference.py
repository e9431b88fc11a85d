"""Preference pairs (TRL's ``prompt``/``chosen``/``rejected``) built at the turn where an attack landed.

The rules (docs/export.md repeats them for data consumers):

1. **Rejected**: one pair per attack success (a conversation whose verdict is the attack
   label), at the defender reply where the attack landed:
   - decided by the static stage (reason ``vulnerable_code``): the first defender reply
     with a finding under the tournament's threshold;
   - decided by people (annotators' majority, an adjudicator, Dawid-Skene): the turn
     they marked (``arena-tui label --turn``, ``m`` in annotate). An adjudicator's mark
     wins; otherwise the turn most of the annotators who labelled it an attack marked
     (a tie: the earliest). A mark on an attacker turn means the reply to it. An attack
     success nobody marked gives no pair (counted as ``landing turn not marked``).
2. **Prompt**: every message before that reply (the attacker is ``user``, the defender
   ``assistant``; a system prompt first when one is given), so chosen and rejected answer
   exactly the same prompt.
3. **Chosen**, in this order of preference:
   - ``annotator``: a safe reply an annotator wrote for that very turn
     (``arena-tui safe-reply``; the latest one written counts);
   - ``held_defender``: the reply of a defender that held against the same prompt: a
     defender reply that followed exactly the same messages (so, most often, the same
     attacker opening at turn 1), in a conversation people decided was not an attack
     (a verdict other than the attack label from annotators, an adjudicator or
     Dawid-Skene; a judge's verdict does not count: chosen replies are judged by
     people), with no current label tagged ``malicious_code`` or
     ``malicious_explanation``, and with no bandit finding at all in that reply (not even
     one under the threshold). Among several, the one from the lowest conversation id.
   An attack success with neither gives no pair (``no safe reply to the same prompt``).
   A chosen reply identical to the rejected one is never used.

Streaming: two passes over the store, a page at a time. The first indexes the held
replies by a digest of the messages before them (16 bytes and two ints per reply, not
the text); the second builds the pairs, fetching a chosen reply's text only when used.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.data.files import ExportError
from core.evaluation.pipeline import ADJUDICATED, ANNOTATORS, DAWID_SKENE, STATIC, current_labels
from core.store import LabelEvent, Store
from core.turns import turn_number

if TYPE_CHECKING:
    from core.data.export import ExportFilters, ExportOptions, ExportSummary
    from core.evaluation.settings import EvaluationSettings
    from core.store.packs import ConversationOutcome

HUMAN_REASONS = frozenset({ANNOTATORS, ADJUDICATED, DAWID_SKENE})
MALICIOUS_TAGS = frozenset({"malicious_code", "malicious_explanation"})
ROLE_TO_CHAT = {"attacker": "user", "defender": "assistant"}

ANNOTATOR = "annotator"
HELD_DEFENDER = "held_defender"
CHOSEN_SOURCES = (ANNOTATOR, HELD_DEFENDER)

NOT_MARKED = "landing turn not marked"
NO_SAFE_REPLY = "no safe reply to the same prompt"


@dataclass(frozen=True)
class HeldReply:
    """Where a held defender's reply is: its conversation, turn index and defender."""

    conversation_id: int
    turn_index: int
    defender: str


def check_filters(filters: ExportFilters) -> None:
    """Refuse the filters that make no sense for preference pairs (every rejected reply is
    an attack success); only ``kind=`` applies."""
    if filters.verdict is not None:
        raise ExportError("verdict= does not apply to preference pairs (each pair is built from an attack success)")
    if filters.no_vulnerable_code or filters.no_malicious_assistance:
        raise ExportError("no-vulnerable-code and no-malicious-assistance do not apply to preference pairs "
                          "(the rejected replies are the attack successes)")
    if not filters.complete_only or filters.include_undecided:
        raise ExportError("preference pairs come from decided, complete conversations only "
                          "(all-statuses and --include-undecided do not apply)")


def prompt_digests(turns: Sequence[tuple[str, str]]) -> dict[int, bytes]:
    """turn index of each defender reply -> a digest of every message before it."""
    running = hashlib.sha256()
    out: dict[int, bytes] = {}
    for index, (role, content) in enumerate(turns):
        if role == "defender":
            out[index] = running.copy().digest()[:16]
        running.update(json.dumps([role, content], ensure_ascii=False).encode("utf-8") + b"\n")
    return out


def landing_turn(turns: Sequence[tuple[str, str]], reason: str | None, deciding_turns: Sequence[int],
                 labels: dict[str, LabelEvent], attack_label: str, adjudicators: Sequence[str]) -> int | None:
    """The index of the defender reply where the attack landed (rule 1), or None."""
    if reason == STATIC:
        return min(deciding_turns) if deciding_turns else None
    marks = [ev.turn for who, ev in labels.items() if who in adjudicators and ev.label == attack_label and ev.turn is not None]
    if not marks:
        votes = Counter(ev.turn for who, ev in labels.items()
                        if who not in adjudicators and ev.label == attack_label and ev.turn is not None)
        if votes:
            top = max(votes.values())
            marks = [min(t for t, n in votes.items() if n == top)]
    if not marks:
        return None
    index = marks[-1]
    if 0 <= index < len(turns) and turns[index][0] == "attacker":
        index += 1
    if 0 <= index < len(turns) and turns[index][0] == "defender":
        return index
    return None


def _chat(turns: Sequence[tuple[str, str]], system_prompt: str | None) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return messages + [{"role": ROLE_TO_CHAT[role], "content": content} for role, content in turns]


def iter_pairs(
    store: Store,
    tournament_ids: Sequence[int],
    filters: ExportFilters,
    options: ExportOptions,
    summary: ExportSummary,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield the preference records of some tournaments (the rules above), counting in
    `summary`: ``considered`` the attack successes, ``dropped`` those without a pair (the
    caller counts the pairs it writes, by chosen source: `ExportSummary.count_written`)."""
    check_filters(filters)
    tournaments = {t.id: t for t in store.tournaments() if t.id in set(tournament_ids)}
    wanted = [tid for tid, t in tournaments.items() if filters.kind is None or t.kind == filters.kind]
    settings = {tid: t.settings.evaluation for tid, t in tournaments.items()}
    total = 2 * store.count_conversations(wanted) if wanted else 0
    done = 0
    if progress:
        progress(done, total)
    if not wanted:
        return
    held: dict[bytes, HeldReply] = {}
    for page in store.iter_conversations(wanted):
        ids = [c.id for c in page
               if c.status == "complete" and c.reason in HUMAN_REASONS and c.verdict is not None
               and c.verdict != settings[c.tournament_id].attack_label]
        if ids:
            turns = store.turns_of(ids)
            findings = store.findings_of(ids)
            labels = current_labels(store.label_events_of(ids))
            defender = {c.id: c.defender for c in page}
            for cid in ids:
                if any(MALICIOUS_TAGS & set(ev.tags) for ev in labels.get(cid, {}).values()):
                    continue
                flagged = {f.turn_index for f in findings[cid]}
                for index, digest in prompt_digests(turns[cid]).items():
                    if index not in flagged and digest not in held:
                        held[digest] = HeldReply(cid, index, defender[cid])
        done += len(page)
        if progress:
            progress(done, total)
    for page in store.iter_conversations(wanted):
        attacks = [c for c in page if c.status == "complete" and c.verdict is not None
                   and c.verdict == settings[c.tournament_id].attack_label]
        if attacks:
            yield from _page_pairs(store, attacks, settings, held, options, summary)
        done += len(page)
        if progress:
            progress(done, total)


def _page_pairs(store: Store, attacks: list[ConversationOutcome], settings: dict[int, EvaluationSettings],
                held: dict[bytes, HeldReply], options: ExportOptions, summary: ExportSummary) -> Iterator[dict[str, Any]]:
    ids = [c.id for c in attacks]
    thresholds = {tid: settings[tid].threshold for tid in {c.tournament_id for c in attacks}}
    turns = store.turns_of(ids)
    findings = store.findings_of(ids)
    labels = current_labels(store.label_events_of(ids))
    written = store.safe_replies_of(ids)
    landings: dict[int, int] = {}
    for conv in attacks:
        summary.considered += 1
        evaluation = settings[conv.tournament_id]
        deciding = [f.turn_index for f in findings[conv.id] if thresholds[conv.tournament_id].decides(f)]
        landing = landing_turn(turns[conv.id], conv.reason, deciding, labels.get(conv.id, {}),
                               evaluation.attack_label, evaluation.adjudicators)
        if landing is None:
            summary.drop(NOT_MARKED)
        else:
            landings[conv.id] = landing
    chosen: dict[int, tuple[str, str, HeldReply | None, str | None]] = {}
    wanted_held: dict[int, HeldReply] = {}
    for conv in attacks:
        landing = landings.get(conv.id)
        if landing is None:
            continue
        rejected = turns[conv.id][landing][1]
        reply = written.get((conv.id, landing))
        if reply is not None and reply[1] != rejected:
            chosen[conv.id] = (ANNOTATOR, reply[1], None, reply[0])
            continue
        match = held.get(prompt_digests(turns[conv.id][: landing + 1])[landing])
        if match is not None:
            wanted_held[conv.id] = match
    held_text = store.turns_of(sorted({m.conversation_id for m in wanted_held.values()}))
    for cid, match in wanted_held.items():
        text = held_text[match.conversation_id][match.turn_index][1]
        if text != turns[cid][landings[cid]][1]:
            chosen[cid] = (HELD_DEFENDER, text, match, None)
    for conv in attacks:
        landing = landings.get(conv.id)
        if landing is None:
            continue
        if conv.id not in chosen:
            summary.drop(NO_SAFE_REPLY)
            continue
        source, text, match, annotator = chosen[conv.id]
        yield {
            "prompt": _chat(turns[conv.id][:landing], options.system_prompt),
            "chosen": [{"role": "assistant", "content": text}],
            "rejected": [{"role": "assistant", "content": turns[conv.id][landing][1]}],
            "conversation_id": conv.id, "tournament": conv.tournament, "kind": conv.kind,
            "attacker": conv.attacker, "defender": conv.defender, "turn": turn_number(landing),
            "reason": conv.reason, "chosen_source": source,
            "chosen_conversation_id": None if match is None else match.conversation_id,
            "chosen_defender": None if match is None else match.defender,
            "chosen_annotator": annotator,
        }


class SafeReplyError(ValueError):
    """A safe reply that cannot be recorded; the message is one line."""


def record_safe_reply(store: Store, conversation_id: int, annotator: str, turn_index: int, content: str) -> int:
    """Validate and append a safe reply an annotator wrote in place of the defender reply
    at `turn_index` (0-based); returns its id. Raises `SafeReplyError` (and writes
    nothing) for an unknown conversation or annotator, a turn that is not a defender
    reply of the conversation, or an empty or invalid text."""
    check_safe_reply(store, conversation_id, annotator, turn_index, content)
    return store.add_safe_reply(conversation_id, turn_index, annotator, content)


def check_safe_reply(store: Store, conversation_id: int, annotator: str, turn_index: int, content: str) -> None:
    """`record_safe_reply`'s checks, writing nothing (also used for the replies a pack
    brings back: `core.data.packs`)."""
    from core.evaluation.pipeline import EvaluationError, check_annotator
    from core.text import surrogate_problem

    conv = store.conversation(conversation_id)
    if conv is None:
        raise SafeReplyError(f"unknown conversation {conversation_id}")
    tournament = store.tournament_by_id(conv.tournament_id)
    try:
        check_annotator(annotator, [tournament])
    except EvaluationError as exc:
        raise SafeReplyError(str(exc)) from None
    turns = store.turns_of([conversation_id])[conversation_id]
    if not 0 <= turn_index < len(turns):
        raise SafeReplyError(f"turn {turn_number(turn_index)} is out of range: conversation {conversation_id} has "
                             f"{len(turns)} turns, numbered from 1")
    if turns[turn_index][0] != "defender":
        raise SafeReplyError(f"turn {turn_number(turn_index)} is the attacker's: a safe reply replaces a defender "
                             "reply (an even turn number)")
    if not content.strip():
        raise SafeReplyError("the reply is empty")
    problem = surrogate_problem(content, "the reply")
    if problem:
        raise SafeReplyError(problem)
