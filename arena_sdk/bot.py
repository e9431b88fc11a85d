"""Base classes of attacker and defender bots.

A bot subclasses `Attacker` or `Defender` and writes one method (``attack`` or
``answer``), or just names a strategy and converters (attackers) or guards (defenders).
The base class handles the rest of the protocol (docs/bot-protocol.md): the side check
at the handshake, concurrent requests (``respond`` is ``async``; ``concurrency``
requests in flight per process), the per-turn seed (every random draw comes from
``Turn.rng``, so a rerun gives the same transcript at any concurrency), and the optional
``technique``/``converters`` fields of a reply. The same class runs as a ``python`` bot
(hosted by the arena) or as a stand-alone ``command`` bot (``Bot.main()``, or
``python -m arena_sdk file.py:Class``).

Bots are stateless across turns on purpose: each request carries the whole
conversation, so the state of a strategy is recomputed from it (a restarted process
picks up mid-conversation, and concurrent conversations never share state).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import random
import re
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from arena_sdk.text import has_code, is_refusal

if TYPE_CHECKING:
    from arena_sdk.converters import Converter
    from arena_sdk.guards import Guard, RefusalTemplates
    from arena_sdk.strategies import Strategy

__all__ = ["ATTACKER", "DEFENDER", "Attacker", "Bot", "Defender", "Move", "Turn", "complied", "make_rng", "refused"]

ATTACKER = "attacker"
DEFENDER = "defender"
# What a technique or converter may be called (the arena refuses other names: they are
# stored and shown in tables). Mirrors core.tournament.bots.TECHNIQUE_NAME.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:+/-]{0,63}")


def make_rng(seed: int, turn: int | str, salt: str = "") -> random.Random:
    """``random.Random`` seeded from the conversation seed, the turn and a salt: the only
    source of randomness a bot needs (strings seed deterministically in CPython)."""
    return random.Random(f"{seed}:{turn}" if not salt else f"{seed}:{turn}:{salt}")


def _field(request: Any, key: str, default: Any = None) -> Any:
    if isinstance(request, dict):
        return request.get(key, default)
    return getattr(request, key, default)


@dataclass(frozen=True)
class Turn:
    """One turn request, read from the bot's own side.

    ``messages`` are ``{"role": "attacker"|"defender", "content": str}``, oldest first;
    ``turn`` is the 0-based index of the turn asked for (attacker turns even).
    """

    seed: int
    turn: int
    side: str
    conversation: str
    deadline_ms: int
    messages: tuple[dict[str, str], ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, request: Any) -> Turn:
        """A Turn from the host's request object or a plain protocol dict."""
        messages = []
        for msg in _field(request, "messages", None) or []:
            role, content = _field(msg, "role", ""), _field(msg, "content", "")
            messages.append({"role": str(role), "content": str(content or "")})
        turn = _field(request, "turn", None)
        return cls(
            seed=int(_field(request, "seed", 0) or 0),
            turn=int(turn) if turn is not None else len(messages),
            side=str(_field(request, "side", "") or ""),
            conversation=str(_field(request, "conversation", "") or ""),
            deadline_ms=int(_field(request, "deadline_ms", 0) or 0),
            messages=tuple(messages),
        )

    def texts(self, role: str) -> list[str]:
        """The contents of every message of ``role``, oldest first."""
        return [m["content"] for m in self.messages if m["role"] == role]

    def last(self, role: str) -> str:
        """The latest message of ``role`` ("" if none)."""
        texts = self.texts(role)
        return texts[-1] if texts else ""

    @property
    def replies(self) -> list[str]:
        """The other side's messages so far, oldest first."""
        return self.texts(DEFENDER if self.side == ATTACKER else ATTACKER)

    @property
    def pair(self) -> int:
        """0-based adjacency-pair index of this turn."""
        return self.turn // 2

    @property
    def first(self) -> bool:
        """Whether this is the bot's first turn of the conversation."""
        return not self.replies and not self.texts(self.side)

    def rng(self, salt: str = "") -> random.Random:
        """Randomness for this turn (differs turn to turn)."""
        return make_rng(self.seed, self.turn, salt)

    def plan(self, salt: str = "") -> random.Random:
        """Randomness that is the same on every turn of the conversation (for choices
        made once, like the goal)."""
        return make_rng(self.seed, "plan", salt)


@dataclass(frozen=True)
class Move:
    """What a strategy decided to say: the text (None with ``end``: end before this
    turn), whether to end the conversation, the technique to put on the record, and
    the converters already applied (the attacker adds its own stack's names)."""

    text: str | None
    end: bool = False
    technique: str | None = None
    converters: tuple[str, ...] = ()


def refused(reply: str) -> bool:
    """The defender declined (a refusal in its opening lines)."""
    return is_refusal(reply)


def complied(reply: str) -> bool:
    """The defender helped: code, and no refusal up front."""
    return bool(reply) and not is_refusal(reply) and has_code(reply)


class Bot:
    """What both sides share: the handshake fields, the side check, think time, and
    running stand-alone.

    Class attributes a bot may set: ``version`` (shown by ``arena-tui bots check``),
    ``concurrency`` (requests in flight per process; replies are ``async``, so keep the
    work in ``attack``/``answer`` non-blocking or short), ``think_ms_env`` (an
    environment variable naming milliseconds of artificial think time per reply, drawn
    0.5x-1.5x from the turn's seed; for live demos).
    """

    side: str = ""
    version = "1.0"
    concurrency = 8
    think_ms_env = "ARENA_THINK_MS"

    def __init__(self, name: str = "", side: str = "") -> None:
        if side and side != self.side:
            raise ValueError(f"{type(self).__name__} is an {self.side} bot, not a {side}")
        self.name = name or type(self).__name__

    async def think(self, turn: Turn) -> None:
        """Sleep the configured think time (nothing when the variable is unset or 0)."""
        raw = os.environ.get(self.think_ms_env, "").strip()
        ms = int(raw) if raw.isdigit() else 0
        if ms:
            await asyncio.sleep(ms * turn.rng("think").uniform(0.5, 1.5) / 1000.0)

    async def respond(self, request: Any) -> str | dict[str, Any] | None:  # pragma: no cover
        raise NotImplementedError

    @classmethod
    def main(cls) -> None:
        """Serve this class on stdin/stdout as a ``command`` bot
        (``if __name__ == "__main__": MyBot.main()``)."""
        from arena_sdk.serve import serve

        raise SystemExit(serve(cls))


async def _maybe(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _reply(text: str | None, end: bool, technique: str | None, converters: Sequence[str]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if text is not None:
        body["content"] = text
    if end:
        body["end"] = True
    if technique:
        body["technique"] = technique
    if converters:
        body["converters"] = list(converters)
    return body


class Attacker(Bot):
    """Base class of attacker bots.

    Either set ``strategy`` (an `arena_sdk.strategies.Strategy`) and optionally
    ``converters`` (a list of `arena_sdk.converters.Converter`, applied in order to
    every message the strategy writes), or override ``attack(turn)`` and return a
    string, a `Move`, or None to end the conversation. ``technique`` names the
    technique on the record when ``attack`` returns a plain string (default: the
    strategy's name).
    """

    side = ATTACKER
    strategy: Strategy | None = None
    converters: Sequence[Converter] = ()
    technique: str | None = None

    async def respond(self, request: Any) -> dict[str, Any]:
        """The protocol entry point (called by the host): one attacker turn."""
        turn = Turn.of(request)
        await self.think(turn)
        view = turn
        for converter in self.converters:
            view = converter.rewind(view)
        move = await _maybe(self.attack(view))
        if move is None:
            return {"end": True}
        if isinstance(move, str):
            move = Move(move, technique=self.technique or (self.strategy.name if self.strategy else None))
        text, names = move.text, list(move.converters)
        if text:
            for converter in self.converters:
                text = await _maybe(converter.convert(text, turn))
                names.append(converter.name)
        return _reply(text, move.end, move.technique, names)

    def attack(self, turn: Turn) -> str | Move | None | Awaitable[str | Move | None]:
        """This turn's message, before the converters. ``turn`` is the conversation as
        the converters present it (`PayloadSplit` shows its pieces as one message).
        The default asks ``strategy``."""
        if self.strategy is None:
            raise NotImplementedError(f"{type(self).__name__} sets no strategy and does not override attack()")
        return self.strategy.next(turn)


class Defender(Bot):
    """Base class of defender bots.

    Override ``answer(turn)`` (the draft reply, a string) and list ``guards``
    (`arena_sdk.guards`): input guards run before ``answer`` and may refuse at once;
    output guards check the draft and may have it repaired (``repair``) or refused.
    ``refusals`` (`arena_sdk.guards.RefusalTemplates`) words a refusal.
    """

    side = DEFENDER
    guards: Sequence[Guard] = ()
    refusals: RefusalTemplates | None = None

    async def respond(self, request: Any) -> dict[str, Any]:
        """The protocol entry point (called by the host): one defender turn."""
        from arena_sdk.guards import DEFAULT_REFUSALS, Verdict

        turn = Turn.of(request)
        await self.think(turn)
        refusals = self.refusals or DEFAULT_REFUSALS
        for guard in self.guards:
            verdict: Verdict | None = await _maybe(guard.check_input(turn))
            if verdict is not None and verdict.block:
                return _reply(refusals.pick(turn, verdict.reason), False, guard.name, ())
        draft = await _maybe(self.answer(turn))
        fired: list[str] = []
        for guard in self.guards:
            outcome = await _maybe(guard.check_output(turn, draft, self))
            if outcome is None:
                continue
            if outcome.block:
                return _reply(refusals.pick(turn, outcome.reason), False, guard.name, ())
            if outcome.text is not None and outcome.text != draft:
                draft = outcome.text
                fired.append(guard.name)
        return _reply(draft, False, "+".join(fired) or None, ())

    def answer(self, turn: Turn) -> str | Awaitable[str]:  # pragma: no cover - abstract
        """The draft reply to this turn."""
        raise NotImplementedError

    def repair(self, turn: Turn, draft: str, problems: str) -> str | None | Awaitable[str | None]:
        """A new draft that fixes ``problems`` (a description of what an output guard
        found in ``draft``); None when this defender cannot repair (the guard then
        refuses). The default cannot."""
        return None
