"""The orchestrator's writes, one small record per kind, applied in batches by `Store.apply`.

A run queues these as they happen (`core.tournament.orchestrator.StoreWriter`) and the
store writes a batch in one transaction, in order; `Store.apply` dispatches on the type.
They are named tuples, cheap to make (a run makes one per turn), each a type of its own:
a bare tuple is not an op.
"""

from __future__ import annotations

from typing import NamedTuple


class StartOp(NamedTuple):
    """A conversation starts (or starts again): status running, one more attempt, a ``started`` event."""

    conversation_id: int
    tournament_id: int
    at: float


class TurnOp(NamedTuple):
    """One turn of a conversation; ``technique``/``converters`` as the reply named them."""

    conversation_id: int
    turn_index: int
    role: str
    content: str
    latency: float | None
    at: float
    # What the reply cost and why it stopped, when the bot says (an LLM's usage).
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None
    technique: str | None = None
    converters: tuple[str, ...] = ()


class FinishOp(NamedTuple):
    """A conversation ended: its status, reason and turn count, and an event named after the status."""

    conversation_id: int
    tournament_id: int
    status: str
    reason: str | None
    detail: str | None
    ended_by: str | None
    n_turns: int
    at: float


class EventOp(NamedTuple):
    """An entry of the event log (a bot failed, restarted or was given up: kind ``bot_<what>``)."""

    tournament_id: int
    kind: str
    conversation_id: int | None
    bot: str | None
    detail: str | None
    at: float


class BotVersionOp(NamedTuple):
    """The version a bot announced in its handshake."""

    tournament_id: int
    bot: str
    version: str | None


StoreOp = StartOp | TurnOp | FinishOp | EventOp | BotVersionOp
