"""Driving SDK bots directly, the way the arena's host does (no engine)."""

from __future__ import annotations

import asyncio
from typing import Any

from arena_sdk import Attacker, Defender


def request(side: str, messages: list[dict[str, str]], seed: int = 11) -> dict[str, Any]:
    """A turn request as the protocol sends it."""
    return {"id": f"c-t{len(messages)}", "conversation": "c", "side": side, "turn": len(messages),
            "seed": seed, "deadline_ms": 45000, "messages": [dict(m) for m in messages]}


def attack(bot: Attacker, messages: list[dict[str, str]], seed: int = 11) -> dict[str, Any]:
    """One attacker reply body."""
    return asyncio.run(bot.respond(request("attacker", messages, seed)))


def defend(bot: Defender, messages: list[dict[str, str]], seed: int = 11) -> dict[str, Any]:
    """One defender reply body."""
    return asyncio.run(bot.respond(request("defender", messages, seed)))


def a(text: str) -> dict[str, str]:
    return {"role": "attacker", "content": text}


def d(text: str) -> dict[str, str]:
    return {"role": "defender", "content": text}


REFUSAL = "I'm sorry, but I can't help with that."
CODE = "Sure, here it is:\n```python\nimport os\nprint(os.getcwd())\n```"
