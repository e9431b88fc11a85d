"""Defender guards: checks around a defender's draft reply, and how it refuses.

A `Defender` lists ``guards``. Before it drafts, each guard's ``check_input`` may block
the request (the defender then refuses with its `RefusalTemplates`); after, each
guard's ``check_output`` may accept the draft, replace it (a repaired draft), or block
it. The guard that acted is put on the record as the reply's technique.

- `InputClassifier`: any classifier callable over the (de-obfuscated) request.
- `OutputCheck`: runs the arena's own static stage (bandit, the same threshold that
  makes a conversation an attack success) on the draft's code, asks the defender to
  repair what it found, for at most ``rounds`` rounds, and refuses if it still fails.
- `RefusalTemplates`: the wording of refusals, per reason, drawn from the seed.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from arena_sdk.bot import ATTACKER, Turn
from arena_sdk.text import normalize

if TYPE_CHECKING:
    from arena_sdk.bot import Defender

__all__ = ["DEFAULT_REFUSALS", "Guard", "InputClassifier", "Outcome", "OutputCheck", "RefusalTemplates",
           "Verdict", "static_problems"]


@dataclass(frozen=True)
class Verdict:
    """An input guard's decision: ``block`` the request, and why (a key of the
    refusal templates, e.g. "malicious")."""

    block: bool
    reason: str | None = None


@dataclass(frozen=True)
class Outcome:
    """An output guard's decision: ``block`` (refuse, for ``reason``) or ``text`` (the
    draft to send instead; None keeps the draft)."""

    block: bool = False
    reason: str | None = None
    text: str | None = None


class Guard:
    """A guard; ``name`` goes on the record when it acts. Both checks default to
    "no opinion" (None)."""

    name = "guard"

    def check_input(self, turn: Turn) -> Verdict | None | Any:
        """Before drafting: block the request or let it through (None)."""
        return None

    def check_output(self, turn: Turn, draft: str, defender: Defender) -> Outcome | None | Any:
        """After drafting: block, replace, or accept the draft (None)."""
        return None


class InputClassifier(Guard):
    """Blocks requests a classifier scores at or above ``threshold``.

    ``classifier`` is any callable ``(text) -> float | bool`` (sync or async: a keyword
    list, a scikit-learn model, a moderation model over HTTP). It sees the attacker's
    latest message, or the whole attacker side with ``scope="conversation"`` (catches
    a request split across turns), de-obfuscated first by `arena_sdk.text.normalize`
    unless ``normalize=False`` (base64, ROT13, leetspeak, homoglyphs... decoded text is
    appended). ``reason`` names the refusal template to use.
    """

    name = "input-classifier"

    def __init__(self, classifier: Callable[[str], Any], *, threshold: float = 0.5,
                 scope: str = "message", normalize: bool = True, reason: str = "malicious") -> None:
        if scope not in ("message", "conversation"):
            raise ValueError("scope must be 'message' or 'conversation'")
        self.classifier = classifier
        self.threshold = threshold
        self.scope = scope
        self.normalize = normalize
        self.reason = reason

    async def check_input(self, turn: Turn) -> Verdict:
        texts = turn.texts(ATTACKER)
        text = "\n".join(texts) if self.scope == "conversation" else (texts[-1] if texts else "")
        if self.normalize:
            text = normalize(text).text
        score = self.classifier(text)
        if inspect.isawaitable(score):
            score = await score
        return Verdict(float(score) >= self.threshold, self.reason)


# bandit's test set is built once per process and is not made for concurrent use.
_SCAN_LOCK = threading.Lock()


def static_problems(draft: str, threshold: Any = None) -> list[str]:
    """What the arena's static stage finds in ``draft`` at ``threshold`` (default: the
    arena's default, the one that decides an attack success): one line per deciding
    finding, "B602 (CWE-78) line 3: subprocess call with shell=True ...". Empty: clean.
    Imports the arena's evaluation code (bandit) on first use."""
    from core.evaluation.static import DEFAULT_THRESHOLD, scan_replies

    threshold = threshold or DEFAULT_THRESHOLD
    with _SCAN_LOCK:
        scan = scan_replies([(0, draft)], workers=1)[0]
    return [f"{f.test_id}{f' ({f.cwe})' if f.cwe else ''} line {f.line_in_block}: {f.message} "
            f"[{f.code_line.strip()}]" for f in threshold.deciding(scan.findings)]


class OutputCheck(Guard):
    """Runs the arena's static stage on the draft and has the defender repair it.

    If the draft's code has findings that would make the conversation an attack success
    (``threshold``: a ``core.evaluation.static.Threshold``; default the arena's), the
    defender's ``repair(turn, draft, problems)`` is asked for a new draft, for at most
    ``rounds`` rounds (default 2); a draft that still fails, or a defender that cannot
    repair (``repair`` returns None), is refused with reason ``"insecure"``. The scan
    runs in a worker thread, so other conversations of the bot keep going.
    """

    name = "output-check"

    def __init__(self, *, rounds: int = 2, threshold: Any = None) -> None:
        if rounds < 0:
            raise ValueError("rounds must be 0 or more")
        self.rounds = rounds
        self.threshold = threshold

    async def check_output(self, turn: Turn, draft: str, defender: Defender) -> Outcome | None:
        problems = await asyncio.to_thread(static_problems, draft, self.threshold)
        if not problems:
            return None
        for _ in range(self.rounds):
            repaired = defender.repair(turn, draft, "\n".join(problems))
            if inspect.isawaitable(repaired):
                repaired = await repaired
            if not repaired:
                break
            draft = repaired
            problems = await asyncio.to_thread(static_problems, draft, self.threshold)
            if not problems:
                return Outcome(text=draft)
        return Outcome(block=True, reason="insecure")


class RefusalTemplates:
    """How a defender words a refusal: ``templates`` maps a reason ("malicious",
    "insecure", or any a guard names) to candidate sentences, with ``"default"`` for
    the rest (a plain list is all ``"default"``); one is drawn from the turn's seed. A
    template may hold ``{reason}`` (the guard's reason, e.g. the keyword it matched).
    ``alternative`` (optional) is appended: a safer thing the defender offers instead."""

    def __init__(self, templates: Mapping[str, Sequence[str]] | Sequence[str], alternative: str = "") -> None:
        table = {"default": tuple(templates)} if not isinstance(templates, Mapping) else {
            k: tuple(v) for k, v in templates.items()}
        if not table.get("default"):
            raise ValueError("refusal templates need a non-empty 'default' list")
        self.templates = table
        self.alternative = alternative

    def pick(self, turn: Turn, reason: str | None = None) -> str:
        """A refusal for ``reason``."""
        options = self.templates.get(reason or "default") or self.templates["default"]
        text = options[turn.rng("refusal").randrange(len(options))].replace("{reason}", reason or "")
        return f"{text} {self.alternative}".strip() if self.alternative else text


DEFAULT_REFUSALS = RefusalTemplates({
    "default": ("I can't help with that.", "Sorry, I won't help with this request."),
    "malicious": ("I can't help with that: it asks for code that attacks systems or people.",
                  "Sorry, I won't write that. It would be usable as attack tooling."),
    "insecure": ("I can't give you that code as asked: it would be insecure, and I couldn't fix it "
                 "without changing what you asked for.",
                 "Sorry, I won't write it that way; the result would be vulnerable."),
})
