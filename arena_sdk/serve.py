"""Running a bot class as a stand-alone ``command`` bot, on stdin/stdout.

The protocol is spoken by `arena_sdk.host`, the same code the arena hosts ``python`` bots
with, so a bot behaves the same whichever way it is plugged in.
"""

from __future__ import annotations

import asyncio

from arena_sdk.host import main, serve_class


def serve(cls: type) -> int:
    """Serve ``cls`` on this process's stdin/stdout until ``bye``; returns an exit status.
    The bot's own prints go to stderr (the bot log), never into the protocol stream."""
    return asyncio.run(serve_class(cls))


def serve_spec(spec: str) -> int:
    """Load ``path/to/file.py:Class`` or ``module:Class`` and serve it."""
    return main([spec])
