"""A local OpenAI-compatible server for tests and benchmarks: real sockets on 127.0.0.1.

Raw asyncio (no framework), so a test decides every byte: a normal completion, a stream
of server-sent events, an HTTP 429 with ``Retry-After``, a 5xx, a body trickled a byte
at a time (slowloris), a body that stops half-way or a dropped connection. Keep-alive,
``Content-Length`` bodies, chunked event streams.

In a test: ``with OpenAIStub(behaviour) as stub: stub.url`` runs it on a thread of its
own; `behaviour(payload, n)` gets the request body and the request's number and returns
an `Answer` (default: `default_answer`). As a process (benchmarks):
``python tests/openai_stub.py --delay 1 --max-requests N --max-seconds S`` prints its URL
on its first line and stops by itself after N requests or S seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Answer:
    """What the stub does with one request."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0  # before the status line
    # Streamed (chunked) pieces after the headers: (seconds to wait first, bytes).
    chunks: list[tuple[float, bytes]] | None = None
    # Body sent `trickle_bytes` at a time, `trickle_s` apart (slowloris).
    trickle_s: float = 0.0
    trickle_bytes: int = 1
    # Send only this many bytes of the body, then stall (hang=True) or close the connection.
    cut_at: int | None = None
    hang: bool = False
    drop: bool = False  # close the connection without answering


def completion(content: str, finish_reason: str = "stop", prompt_tokens: int = 7, completion_tokens: int | None = None,
               delay: float = 0.0) -> Answer:
    """A chat completion (JSON) with usage."""
    tokens = completion_tokens if completion_tokens is not None else len(content.split())
    body = json.dumps({
        "id": "cmpl-stub", "object": "chat.completion", "model": "stub",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": tokens, "total_tokens": prompt_tokens + tokens},
    }).encode()
    return Answer(headers={"Content-Type": "application/json"}, body=body, delay=delay)


def stream(pieces: list[str], finish_reason: str = "stop", gap: float = 0.0, prompt_tokens: int = 7,
           delay: float = 0.0) -> Answer:
    """A streamed chat completion: one event per piece, `gap` seconds apart, usage last."""
    events = [{"choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}]
    events += [{"choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]} for p in pieces]
    events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": finish_reason}]})
    events.append({"choices": [], "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(pieces)}})
    chunks = [(gap, b"data: " + json.dumps(e).encode() + b"\n\n") for e in events] + [(0.0, b"data: [DONE]\n\n")]
    return Answer(headers={"Content-Type": "text/event-stream"}, chunks=chunks, delay=delay)


def default_answer(payload: dict[str, Any], n: int) -> Answer:
    """A deterministic reply naming the seed and the number of messages."""
    content = f"reply seed={payload.get('seed')} messages={len(payload.get('messages', []))}"
    if payload.get("stream"):
        return stream(content.split(" "))
    return completion(content)


Behaviour = Callable[[dict[str, Any], int], Answer]


class OpenAIStub:
    """The server; `requests` keeps every request body, `peak` the most requests in
    flight at once."""

    def __init__(self, behaviour: Behaviour = default_answer, *, delay: float = 0.0, port: int = 0,
                 max_requests: int | None = None) -> None:
        self.behaviour = behaviour
        self.delay = delay
        self.port = port
        self.max_requests = max_requests
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.count = 0
        self.in_flight = 0
        self.peak = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, backlog=4096)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path = lines[0].split(" ")[:2]
                headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if method == "GET":
                    await self._write(writer, Answer(headers={"Content-Type": "application/json"}, body=b'{"data": [{"id": "stub"}]}'))
                    continue
                payload = json.loads(body) if body else {}
                self.requests.append(payload)
                self.headers.append(headers)
                n = self.count
                self.count += 1
                if self.max_requests is not None and self.count > self.max_requests:
                    await self._write(writer, Answer(status=503, body=b'{"error": "stub request limit reached"}'))
                    continue
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
                try:
                    answer = self.behaviour(payload, n)
                    if self.delay:
                        await asyncio.sleep(self.delay)
                    keep = await self._write(writer, answer)
                finally:
                    self.in_flight -= 1
                if not keep:
                    return
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, ValueError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _write(self, writer: asyncio.StreamWriter, answer: Answer) -> bool:
        """Send one answer; False when the connection is to be closed."""
        if answer.delay:
            await asyncio.sleep(answer.delay)
        if answer.drop:
            writer.transport.abort()
            return False
        reason = {200: "OK", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}.get(answer.status, "X")
        head = [f"HTTP/1.1 {answer.status} {reason}"]
        headers = {"Content-Type": "application/json", **answer.headers}
        if answer.chunks is not None:
            headers["Transfer-Encoding"] = "chunked"
        else:
            headers["Content-Length"] = str(len(answer.body))
        head += [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
        if answer.chunks is not None:
            for wait, data in answer.chunks:
                if wait:
                    await writer.drain()
                    await asyncio.sleep(wait)
                writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return True
        body = answer.body if answer.cut_at is None else answer.body[: answer.cut_at]
        if answer.trickle_s:
            for i in range(0, len(body), answer.trickle_bytes):
                writer.write(body[i : i + answer.trickle_bytes])
                await writer.drain()
                await asyncio.sleep(answer.trickle_s)
        else:
            writer.write(body)
            await writer.drain()
        if answer.cut_at is not None:
            if answer.hang:
                await asyncio.sleep(3600)
            writer.transport.abort()
            return False
        return True

    # --- on a thread of its own, for tests ---------------------------------------------

    def __enter__(self) -> OpenAIStub:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self.start())
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self.stop())
            self._loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._thread is not None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


async def _main(args: argparse.Namespace) -> None:
    stub = OpenAIStub(delay=args.delay, port=args.port, max_requests=args.max_requests)
    await stub.start()
    print(stub.url, flush=True)
    deadline = asyncio.get_running_loop().time() + args.max_seconds
    while asyncio.get_running_loop().time() < deadline and (args.max_requests is None or stub.count < args.max_requests):
        await asyncio.sleep(0.1)
    print(json.dumps({"requests": stub.count, "peak_in_flight": stub.peak}), flush=True)
    await stub.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=1.0, help="seconds before each answer")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--max-requests", type=int, default=None, help="stop after this many requests")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="stop after this long")
    asyncio.run(_main(parser.parse_args()))
