"""arena_sdk: a kit for Adversarial Arena bots (docs/sdk.md).

An attacker or defender is a subclass of `Attacker` or `Defender`; strategies
(`arena_sdk.strategies`), converters (`arena_sdk.converters`) and guards
(`arena_sdk.guards`) are the parts. The kit has no UI and no store, and ``import
arena_sdk`` pulls in nothing of the arena (the defender's `OutputCheck` imports the
arena's static stage when it first scans).
"""

from arena_sdk.bot import (
           ATTACKER,
           DEFENDER,
           Attacker,
           Bot,
           Defender,
           Move,
           Turn,
           complied,
           make_rng,
           refused,
)

__all__ = ["ATTACKER", "DEFENDER", "Attacker", "Bot", "Defender", "Move", "Turn", "complied", "make_rng",
           "refused"]
