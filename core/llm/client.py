"""An asynchronous client for OpenAI-compatible ``/chat/completions`` endpoints.

One `ChatClient` per endpoint user (one per HTTP bot, one per judge): its own aiohttp
connection pool, no thread, at most `max_in_flight` requests in flight. Everything a
caller needs is one call::

    client = ChatClient("http://127.0.0.1:8000/v1", api_key_env="MY_KEY", max_in_flight=64)
    result = await client.chat(
        [{"role": "system", "content": "..."}, {"role": "user", "content": "hi"}],
        GenerationSettings(model="m", temperature=0.7, max_tokens=256, stream=True),
        deadline=45.0, seed=1234, on_partial=lambda text_so_far: ...,
    )
    result.text, result.finish_reason, result.prompt_tokens, result.completion_tokens
    await client.close()

Guarantees:

- **Deadline from send.** A request waits for a free slot (`max_in_flight`) without a
  clock; once it has one, `deadline` seconds bound connecting, the first byte and the
  whole body, so a server that trickles bytes (slowloris) or stops mid-body is cut off.
- **Retries.** HTTP 429, 5xx and a refused or dropped connection are retried with
  exponential backoff and jitter, honouring ``Retry-After``, at most `RetryPolicy.retries`
  times and within `RetryPolicy.budget_s` seconds of waiting; the slot is given back
  while waiting. `on_retry` hears of each. A timeout is not retried (the deadline is the
  cap). The final failure is a `ChatError` whose `reason` says which: ``rate_limited``,
  ``server_error``, ``timeout``, ``refused``, ``client_error`` (another 4xx),
  ``protocol_error`` (not a chat completion) or ``oversized_reply``.
- **Streaming.** With ``stream=True`` the server's events (SSE) are read as they come and
  `on_partial` gets the text so far after each one.
- **Secrets.** The API key is read from the environment variable named by `api_key_env`
  when the client is made, sent only in the Authorization header, never part of a
  result, an error or the client's repr; any echo of it in a server's error text is
  replaced by ``***``.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

RATE_LIMITED = "rate_limited"
SERVER_ERROR = "server_error"
TIMEOUT = "timeout"
REFUSED = "refused"
CLIENT_ERROR = "client_error"
PROTOCOL_ERROR = "protocol_error"
OVERSIZED = "oversized_reply"

# Reasons worth another attempt.
RETRIABLE = (RATE_LIMITED, SERVER_ERROR, REFUSED)
# Largest error body kept in a message.
ERROR_TEXT = 300


class ChatError(Exception):
    """A chat request that failed for good; `reason` is one of the module's reasons."""

    def __init__(self, reason: str, detail: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class GenerationSettings:
    """What to ask the model for: sent in the request body as named (``extra`` last, so
    it may carry any field a server understands: ``top_k``, ``repetition_penalty``...)."""

    model: str
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    stream: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    def body(self, messages: Sequence[Mapping[str, str]], seed: int | None) -> dict[str, Any]:
        """The JSON body of a request."""
        body: dict[str, Any] = {"model": self.model, "messages": list(messages)}
        for key in ("temperature", "top_p", "max_tokens"):
            value = getattr(self, key)
            if value is not None:
                body[key] = value
        if self.stop:
            body["stop"] = list(self.stop)
        if seed is not None:
            body["seed"] = seed
        if self.stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        body.update(self.extra)
        return body


@dataclass(frozen=True)
class RetryPolicy:
    """How failed attempts are retried: at most `retries` more attempts, waiting
    ``backoff_s × 2^n`` (capped at `max_backoff_s`, half of it random jitter, or the
    server's ``Retry-After`` when longer), and at most `budget_s` seconds of waiting in all."""

    retries: int = 3
    backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    budget_s: float = 120.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before attempt `attempt` + 1 (attempt counts from 0)."""
        cap = min(self.max_backoff_s, self.backoff_s * (2 ** attempt))
        wait = cap / 2 + rng.uniform(0, cap / 2)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return wait


NO_RETRY = RetryPolicy(retries=0)


@dataclass(frozen=True)
class ChatResult:
    """One chat completion: the text, why it stopped, what it cost, how long it took
    (`latency`: the successful attempt, from send) and how many attempts it needed."""

    text: str
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    latency: float
    attempts: int

    @property
    def truncated(self) -> bool:
        """True when the reply was cut at ``max_tokens``."""
        return self.finish_reason == "length"


# on_retry(reason, detail, wait_s): an attempt failed and another follows after wait_s.
RetrySink = Callable[[str, str, float], None]
PartialSink = Callable[[str], None]


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """The ``Retry-After`` header in seconds: delta-seconds or an HTTP date; None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class ChatClient:
    """An OpenAI-compatible endpoint (`base_url` ends before ``/chat/completions``,
    e.g. ``http://host:8000/v1``)."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key_env: str | None = None,
        max_in_flight: int = 8,
        max_response_bytes: int = 1 << 20,
        retry: RetryPolicy = RetryPolicy(),
        on_retry: RetrySink | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_in_flight = max_in_flight
        self.max_response_bytes = max_response_bytes
        self.retry = retry
        self.on_retry = on_retry
        self._key = os.environ.get(api_key_env, "") if api_key_env else ""
        self._slots = asyncio.Semaphore(max_in_flight)
        self._session: aiohttp.ClientSession | None = None
        self._rng = random.Random()
        self.in_flight = 0
        self.peak_in_flight = 0

    def __repr__(self) -> str:
        return f"ChatClient({self.base_url!r}, max_in_flight={self.max_in_flight})"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        return headers

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # One connection per slot: a request that holds a slot never waits for a connection.
            connector = aiohttp.TCPConnector(limit=self.max_in_flight, limit_per_host=0, keepalive_timeout=60)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=None),  # the deadline is ours (asyncio.timeout)
                headers=self._headers(),
                auto_decompress=True,
                trust_env=False,
            )
        return self._session

    async def close(self) -> None:
        """Close the connection pool."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def models(self, deadline: float = 10.0) -> int:
        """GET ``/models``: the HTTP status (any status means the server is there).
        Raises `ChatError` (``refused`` or ``timeout``) when it cannot be reached."""
        try:
            async with asyncio.timeout(deadline):
                async with self._get_session().get(self.base_url + "/models") as resp:
                    await resp.read()
                    return resp.status
        except TimeoutError:
            raise ChatError(TIMEOUT, f"no answer within {deadline:g}s") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise ChatError(REFUSED, f"cannot reach the server: {self._scrub(str(exc) or type(exc).__name__)}") from None

    async def chat(
        self,
        messages: Sequence[Mapping[str, str]],
        settings: GenerationSettings,
        *,
        deadline: float,
        seed: int | None = None,
        on_partial: PartialSink | None = None,
        retry: RetryPolicy | None = None,
    ) -> ChatResult:
        """Send one chat completion request; retry per `retry` (default: the client's).

        Raises `ChatError` with the last attempt's reason when every attempt failed."""
        policy = retry or self.retry
        body = json.dumps(settings.body(messages, seed), ensure_ascii=False).encode("utf-8")
        waited = 0.0
        attempt = 0
        while True:
            try:
                async with self._slots:
                    self.in_flight += 1
                    self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
                    try:
                        started = time.perf_counter()
                        async with asyncio.timeout(deadline):
                            text, finish, usage = await self._attempt(body, settings.stream, on_partial)
                        latency = time.perf_counter() - started
                    finally:
                        self.in_flight -= 1
            except TimeoutError:
                raise ChatError(TIMEOUT, f"no complete reply within {deadline:g}s") from None
            except ChatError as exc:
                if exc.reason not in RETRIABLE or attempt >= policy.retries:
                    if attempt:
                        exc.detail += f" (after {attempt + 1} attempts)"
                    raise
                wait = policy.delay(attempt, exc.retry_after, self._rng)
                if waited + wait > policy.budget_s:
                    exc.detail += f" (after {attempt + 1} attempts; the next wait, {wait:.1f}s, exceeds the retry budget)"
                    raise
                if self.on_retry is not None:
                    self.on_retry(exc.reason, exc.detail, wait)
                await asyncio.sleep(wait)
                waited += wait
                attempt += 1
                continue
            return ChatResult(text, finish, _tokens(usage, "prompt_tokens"), _tokens(usage, "completion_tokens"),
                              latency, attempt + 1)

    async def _attempt(self, body: bytes, stream: bool, on_partial: PartialSink | None) -> tuple[str, str | None, Any]:
        try:
            async with self._get_session().post(self.base_url + "/chat/completions", data=body) as resp:
                if resp.status != 200:
                    raw = await _read_capped(resp, ERROR_TEXT * 4)
                    text = self._scrub(raw.decode("utf-8", "replace").strip()[:ERROR_TEXT])
                    detail = f"HTTP {resp.status}" + (f": {text}" if text else "")
                    if resp.status == 429:
                        raise ChatError(RATE_LIMITED, detail, resp.status, retry_after_seconds(resp.headers.get("Retry-After")))
                    if resp.status >= 500:
                        raise ChatError(SERVER_ERROR, detail, resp.status, retry_after_seconds(resp.headers.get("Retry-After")))
                    raise ChatError(CLIENT_ERROR, detail, resp.status)
                if stream and resp.content_type == "text/event-stream":
                    return await self._read_stream(resp, on_partial)
                raw = await _read_capped(resp, self.max_response_bytes * 2 + 65536)
                if len(raw) > self.max_response_bytes * 2 + 65535:
                    raise ChatError(OVERSIZED, f"response larger than {self.max_response_bytes} bytes")
                return _parse_completion(raw)
        except ChatError:
            raise
        except aiohttp.ClientResponseError as exc:
            raise ChatError(PROTOCOL_ERROR, f"bad HTTP response: {self._scrub(exc.message)}") from None
        except aiohttp.ClientConnectorError as exc:
            raise ChatError(REFUSED, f"cannot connect: {self._scrub(str(exc.os_error) or str(exc))}") from None
        except (aiohttp.ClientError, ConnectionError, OSError) as exc:
            # Dropped mid-request or mid-body (ServerDisconnectedError, ClientPayloadError...).
            raise ChatError(REFUSED, f"connection dropped: {self._scrub(str(exc) or type(exc).__name__)}") from None

    async def _read_stream(self, resp: aiohttp.ClientResponse, on_partial: PartialSink | None) -> tuple[str, str | None, Any]:
        """Read server-sent events until ``[DONE]`` or the end of the body."""
        parts: list[str] = []
        size = 0
        finish: str | None = None
        usage: Any = None
        buffer = b""
        done = False
        async for chunk in resp.content.iter_any():
            buffer += chunk
            if len(buffer) > self.max_response_bytes * 2 + 65536:
                raise ChatError(OVERSIZED, f"an event larger than {self.max_response_bytes} bytes")
            *lines, buffer = buffer.split(b"\n")
            changed = False
            for line in lines:
                line = line.rstrip(b"\r")
                if not line.startswith(b"data:"):
                    continue  # comments, event names, ids, blank separators
                data = line[5:].strip()
                if data == b"[DONE]":
                    done = True
                    break
                try:
                    event = json.loads(data)
                    if event.get("usage"):
                        usage = event["usage"]
                    choices = event.get("choices") or []
                    if choices:
                        choice = choices[0]
                        delta = (choice.get("delta") or {}).get("content")
                        if delta:
                            if not isinstance(delta, str):
                                raise TypeError("delta content is not a string")
                            parts.append(delta)
                            size += len(delta)
                            changed = True
                        if choice.get("finish_reason"):
                            finish = clean_finish_reason(choice["finish_reason"]) or "unknown"
                except (ValueError, AttributeError, TypeError) as exc:
                    raise ChatError(PROTOCOL_ERROR, f"not a chat-completions event: {exc}") from None
                if size > self.max_response_bytes:
                    raise ChatError(OVERSIZED, f"reply larger than {self.max_response_bytes} bytes")
            if changed and on_partial is not None:
                on_partial("".join(parts))
            if done:
                break
        if finish is None:
            # Every complete stream says why it stopped; one that does not was cut short
            # (the connection dropped, or the server gave up the request: llama.cpp's
            # server does so to a streaming request when another arrives, unless started
            # with --interrupt_requests False).
            raise ChatError(REFUSED, "connection dropped: the event stream ended before the reply did"
                            + (" ([DONE] without a finish_reason)" if done else ""))
        if done and not resp.content.at_eof():
            # Read the end of the body (the chunked terminator) so the connection can be
            # reused; a server that keeps the stream open after [DONE] is not waited for.
            with contextlib.suppress(TimeoutError, aiohttp.ClientError):
                async with asyncio.timeout(0.2):
                    while await resp.content.readany():
                        pass
        return "".join(parts), finish, usage


async def _read_capped(resp: aiohttp.ClientResponse, cap: int) -> bytes:
    """The body, at most `cap` bytes (one more byte tells the caller it was larger)."""
    chunks: list[bytes] = []
    size = 0
    while size <= cap:
        chunk = await resp.content.read(65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _parse_completion(raw: bytes) -> tuple[str, str | None, Any]:
    try:
        message = json.loads(raw.decode("utf-8"))
        choice = message["choices"][0]
        content = choice["message"].get("content")
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise TypeError("content is not a string")
        return content, clean_finish_reason(choice.get("finish_reason")), message.get("usage")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise ChatError(PROTOCOL_ERROR, f"not a chat-completions response: {type(exc).__name__}: {exc}") from None


def clean_finish_reason(value: Any) -> str | None:
    """A finish reason as stored: a short word of lowercase letters, digits and ``_``
    (``stop``, ``length``, ``content_filter``...), or None for anything else."""
    if isinstance(value, str) and 0 < len(value) <= 40 and all(c.isascii() and (c.isalnum() or c == "_") for c in value):
        return value.lower()
    return None


def _tokens(usage: Any, key: str) -> int | None:
    if isinstance(usage, dict):
        value = usage.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


@contextlib.asynccontextmanager
async def chat_client(base_url: str, **kwargs: Any):  # noqa: ANN201
    """`ChatClient` as an async context manager (closed on exit)."""
    client = ChatClient(base_url, **kwargs)
    try:
        yield client
    finally:
        await client.close()
