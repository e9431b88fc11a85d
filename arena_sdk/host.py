"""The protocol host: serves a bot class over the bot protocol on stdin/stdout.

Loads the bot class, then speaks the bot protocol (docs/bot-protocol.md) on its behalf.
The bot's own prints go to stderr (the bot log), never into the protocol stream. An
exception inside ``respond`` becomes an ``error`` reply; the host keeps going.

The arena hosts ``python`` bots with it (``python -m core.tournament.bothost SPEC``, a
re-export of this module), and the SDK serves ``command`` bots with it (``python -m
arena_sdk SPEC``, ``Bot.main()``): one implementation of the protocol's bot side. It lives
in the SDK, standard library only, so that a bot file runs with the SDK alone (on a
team's laptop, say), without the engine's dependencies.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import inspect
import json
import os
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

PROTOCOL_VERSION = 1
# Requests carry the whole conversation so far; allow long lines.
REQUEST_LINE_LIMIT = 256 << 20


@dataclass
class TurnRequest:
    """What a hosted bot's ``respond`` receives."""

    id: str
    conversation: str
    side: str
    turn: int
    seed: int
    deadline_ms: int
    messages: list[dict[str, str]] = field(default_factory=list)


def load_class(spec: str) -> type:
    """Import ``file.py:Class`` (path relative to the working directory) or ``module:Class``."""
    target, _, class_name = spec.rpartition(":")
    if target.endswith(".py"):
        path = Path(target).resolve()
        module_name = f"arena_bot_{path.stem}"
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        if module_spec is None or module_spec.loader is None:
            raise ImportError(f"cannot load {target}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        sys.path.insert(0, str(path.parent))
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    try:
        cls = getattr(module, class_name)
    except AttributeError:
        raise ImportError(f"{target} has no class {class_name}") from None
    if not callable(getattr(cls, "respond", None)):
        raise ImportError(f"{spec} has no respond() method")
    return cls


def normalise(result: Any, side: str) -> dict[str, Any]:
    """Turn what ``respond`` returned into the body of a reply message."""
    if result is None:
        if side == "attacker":
            return {"end": True}
        raise TypeError("respond() returned None (only attackers may end a conversation)")
    if isinstance(result, str):
        return {"content": result}
    if isinstance(result, dict):
        body: dict[str, Any] = {}
        if "content" in result:
            body["content"] = result["content"]
        if result.get("end"):
            body["end"] = True
        for key in ("technique", "converters"):  # optional, checked by the arena
            if result.get(key) is not None:
                body[key] = result[key]
        for key in ("usage", "finish_reason"):  # optional, for bots in front of a model
            if key in result:
                body[key] = result[key]
        return body
    raise TypeError(f"respond() must return a str, a dict or None, not {type(result).__name__}")


class Host:
    """Runs one bot instance behind the protocol."""

    def __init__(self, cls: type, out: BinaryIO) -> None:
        self.cls = cls
        self.out = out
        self.bot: Any = None
        self.side = "defender"
        self.is_async = inspect.iscoroutinefunction(cls.respond)
        concurrency = getattr(cls, "concurrency", 1)
        self.concurrency = concurrency if self.is_async and isinstance(concurrency, int) and concurrency > 0 else 1
        self.tasks: set[asyncio.Task[None]] = set()
        self.slots = asyncio.Semaphore(self.concurrency)

    def send(self, message: dict[str, Any]) -> None:
        try:
            line = json.dumps(message, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate in a str: send it as a JSON escape (the arena replaces it).
            line = json.dumps(message).encode("ascii")
        self.out.write(line + b"\n")
        self.out.flush()

    def hello(self, message: dict[str, Any]) -> None:
        self.side = str(message.get("side", "defender"))
        name = str(message.get("name", self.cls.__name__))
        try:
            self.bot = self.cls(name=name, side=self.side)
        except TypeError:
            self.bot = self.cls()
        self.send(
            {
                "type": "hello",
                "protocol": PROTOCOL_VERSION,
                "name": getattr(self.bot, "name", None) or name,
                "version": str(getattr(self.bot, "version", "0")),
                "concurrency": self.concurrency,
            }
        )

    async def turn(self, message: dict[str, Any]) -> None:
        request_id = str(message.get("id"))
        try:
            request = TurnRequest(
                id=request_id,
                conversation=str(message.get("conversation", "")),
                side=str(message.get("side", self.side)),
                turn=int(message["turn"]),
                seed=int(message["seed"]),
                deadline_ms=int(message.get("deadline_ms", 0)),
                messages=list(message.get("messages", [])),
            )
            result = self.bot.respond(request)
            if inspect.isawaitable(result):
                result = await result
            body = normalise(result, request.side)
            self.send({"type": "reply", "id": request_id, **body})
        except Exception as exc:  # the bot's own bug: report it, keep serving
            traceback.print_exc(file=sys.stderr)
            self.send({"type": "error", "id": request_id, "message": f"{type(exc).__name__}: {exc}"[:500]})

    async def _bounded_turn(self, message: dict[str, Any]) -> None:
        async with self.slots:
            await self.turn(message)

    async def serve(self, reader: asyncio.StreamReader) -> None:
        while True:
            line = await reader.readline()
            if not line:
                break
            try:
                message = json.loads(line)
            except ValueError:
                print(f"bothost: ignoring a line that is not JSON: {line[:80]!r}", file=sys.stderr)
                continue
            kind = message.get("type") if isinstance(message, dict) else None
            if kind == "hello":
                self.hello(message)
            elif kind == "turn":
                if self.is_async:
                    task = asyncio.create_task(self._bounded_turn(message))
                    self.tasks.add(task)
                    task.add_done_callback(self.tasks.discard)
                else:
                    await self.turn(message)
            elif kind == "bye":
                break
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)


async def _main(spec: str) -> int:
    # Keep the protocol stream for ourselves; anything the bot prints goes to stderr.
    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        cls = load_class(spec)
    except Exception as exc:
        print(f"bothost: cannot load {spec}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=REQUEST_LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await Host(cls, protocol_out).serve(reader)
    return 0


def main(argv: list[str] | None = None, prog: str = "python -m arena_sdk") -> int:
    """Entry point: ``PROG path/to/file.py:ClassName``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(f"usage: {prog} path/to/file.py:ClassName", file=sys.stderr)
        return 2
    return asyncio.run(_main(args[0]))


async def serve_class(cls: type) -> int:
    """Serve an already imported class (what ``Bot.main()`` runs)."""
    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=REQUEST_LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await Host(cls, protocol_out).serve(reader)
    return 0
