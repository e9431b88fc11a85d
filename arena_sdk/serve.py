"""Running a bot class as a stand-alone ``command`` bot, on stdin/stdout.

The protocol is spoken by the arena's own host (``core.tournament.bothost``, the same
code that hosts ``python`` bots), so a bot behaves the same whichever way it is
plugged in. It is imported here, when a bot is served, never at ``import arena_sdk``.
"""

from __future__ import annotations

import asyncio
import os
import sys


def serve_class(cls: type) -> int:
    """Serve ``cls`` on this process's stdin/stdout until ``bye``; returns an exit status.
    The bot's own prints go to stderr (the bot log), never into the protocol stream."""
    from core.tournament.bothost import REQUEST_LINE_LIMIT, Host

    async def run() -> int:
        protocol_out = os.fdopen(os.dup(1), "wb")
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=REQUEST_LINE_LIMIT)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        await Host(cls, protocol_out).serve(reader)
        return 0

    return asyncio.run(run())


def serve_spec(spec: str) -> int:
    """Load ``path/to/file.py:Class`` or ``module:Class`` and serve it."""
    from core.tournament.bothost import main

    return main([spec])
