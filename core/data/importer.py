"""Import conversations from JSONL as a new tournament, ready to evaluate and annotate.

Two record shapes are read (one object per line; both are what `arena-tui export` writes):

- chat: ``{"messages": [{"role": "user"|"assistant", "content": ...}, ...], ...}`` —
  ``user`` is the attacker, ``assistant`` the defender; ``system`` messages are dropped.
- native: ``{"turns": [{"role": "attacker"|"defender", "content": ...}, ...], ...}``.

Turns must alternate, attacker first. Optional metadata ``attacker`` / ``defender`` name
the bots (default ``imported-attacker`` / ``imported-defender``). Every record is
validated before anything is written; a bad record is reported with its line number.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from core.evaluation.settings import EvaluationSettings
from core.store import Store, TournamentSettings
from core.text import may_hold_surrogates, surrogate_problem
from core.tournament.config import KINDS, NAME_MAX, name_problem

DEFAULT_ATTACKER = "imported-attacker"
DEFAULT_DEFENDER = "imported-defender"
CHAT_ROLES = {"user": "attacker", "assistant": "defender"}
NATIVE_ROLES = ("attacker", "defender")


class ImportError_(ValueError):
    """A bad import file or request; the message is one line (with the line number)."""


@dataclass
class ParsedImport:
    """Validated records: matchups and conversations, plus the lines that were skipped."""

    pairs: list[tuple[str, str]] = field(default_factory=list)
    conversations: list[tuple[int, list[tuple[str, str]]]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def parse_record(record: Any) -> tuple[str, str, list[tuple[str, str]]]:
    """(attacker, defender, [(role, content), ...]) of one record; raises ValueError."""
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object")
    if "messages" in record:
        raw, roles = record["messages"], CHAT_ROLES
    elif "turns" in record:
        raw, roles = record["turns"], {r: r for r in NATIVE_ROLES}
    else:
        raise ValueError("no 'messages' (chat format) or 'turns' (native format)")
    if not isinstance(raw, list):
        raise ValueError("'messages'/'turns' must be a list")
    turns: list[tuple[str, str]] = []
    for i, message in enumerate(raw):
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            raise ValueError(f"message {i} needs a string 'content'")
        role = message.get("role")
        if role == "system":
            continue
        if role not in roles:
            raise ValueError(f"message {i} has role {role!r} (expected {' or '.join(roles)})")
        expected = NATIVE_ROLES[len(turns) % 2]
        if roles[role] != expected:
            raise ValueError(f"message {i} should be the {expected}'s turn (turns alternate, attacker first)")
        turns.append((roles[role], message["content"]))
    if not turns:
        raise ValueError("no turns")
    names = []
    for key, default in (("attacker", DEFAULT_ATTACKER), ("defender", DEFAULT_DEFENDER)):
        value = record.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{key!r} must be a non-empty string")
        names.append(value)
    return names[0], names[1], turns


def parse_lines(lines: Iterable[bytes | str], *, skip_invalid: bool = False, origin: str = "input") -> ParsedImport:
    """Validate every line (bytes are decoded as UTF-8, line by line, so one bad line does
    not condemn the file); raises ImportError_ at the first bad one unless `skip_invalid`."""
    parsed = ParsedImport()
    pair_index: dict[tuple[str, str], int] = {}
    for number, raw in enumerate(lines, 1):
        try:
            # A byte-order mark (some Windows tools write one) is not part of the JSON.
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8") if isinstance(raw, bytes) else raw
            if not line.strip():
                continue
            record = json.loads(line.rstrip("\r\n"))
            problem = may_hold_surrogates(line) and surrogate_problem(record)
            if problem:
                raise ValueError(problem)
            attacker, defender, turns = parse_record(record)
        except UnicodeDecodeError as exc:
            message = f"{origin} line {number}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at byte {exc.start + 1})"
        except json.JSONDecodeError as exc:
            message = f"{origin} line {number}: not JSON: {exc.msg} at character {exc.pos + 1}"
        except ValueError as exc:
            message = f"{origin} line {number}: {exc}"
        else:
            message = None
        if message is not None:
            if not skip_invalid:
                raise ImportError_(message) from None
            parsed.skipped.append(message)
            continue
        key = (attacker, defender)
        if key not in pair_index:
            pair_index[key] = len(parsed.pairs)
            parsed.pairs.append(key)
        parsed.conversations.append((pair_index[key], turns))
    return parsed


def check_name(name: str) -> None:
    """Raise ImportError_ unless `name` can name the new tournament (core.tournament.config.name_problem)."""
    problem = name_problem(name, NAME_MAX)
    if problem:
        raise ImportError_(f"tournament name {problem} (choose one with --tournament)")


def import_conversations(store: Store, parsed: ParsedImport, *, name: str, kind: str = "practice",
                         evaluation: EvaluationSettings | None = None) -> int:
    """Store validated records as a new finished tournament; returns its id. `evaluation`:
    its evaluation settings (default: the defaults, with no roster)."""
    if kind not in KINDS:
        raise ImportError_(f"unknown kind {kind!r} ({' or '.join(KINDS)})")
    check_name(name)
    if store.tournament(name) is not None:
        raise ImportError_(f"tournament {name!r} is already in {store.path}; choose another --tournament name")
    if not parsed.conversations:
        raise ImportError_("nothing to import: no valid record")
    names_by_side: dict[str, set[str]] = {"attacker": set(), "defender": set()}
    for attacker, defender in parsed.pairs:
        names_by_side["attacker"].add(attacker)
        names_by_side["defender"].add(defender)
    clash = names_by_side["attacker"] & names_by_side["defender"]
    if clash:
        raise ImportError_(f"bot {sorted(clash)[0]!r} appears both as attacker and defender")
    settings = TournamentSettings(evaluation=evaluation or EvaluationSettings(), imported=True)
    return store.import_conversations(name=name, kind=kind, settings=settings, pairs=parsed.pairs,
                                      conversations=parsed.conversations)
