"""Bot clients: child processes speaking the bot protocol, and OpenAI-compatible HTTP bots.

Every bot, whatever its kind, is used the same way: ``await bot.ask(request, timeout)``
returns a `Reply` or raises `BotFailure` carrying one of the documented reasons
(docs/bot-protocol.md). Process bots are supervised here: scrubbed environment, resource
limits, stderr to a capped log, restart after a crash or a stuck request, and a bounded
number of consecutive failed restarts before the bot is given up. Each process bot runs
under a keeper (core.tournament.botkeeper) that kills everything the bot started when it ends,
and, where bubblewrap runs, in a sandbox of its own (core.tournament.isolation).
Text from a bot is made valid Unicode where it enters (`valid_text`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import heapq
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from core.llm.client import (
    CLIENT_ERROR,
    ChatClient,
    ChatError,
    GenerationSettings,
    RetryPolicy,
    clean_finish_reason,
)
from core.text import valid_text
from core.tournament import isolation
from core.tournament.bothost import PROTOCOL_VERSION
from core.tournament.botkeeper import living_descendants
from core.tournament.config import BotSpec
from core.tournament.wire import encode_line

# Reasons a conversation can be stored as incomplete (docs/bot-protocol.md).
TIMEOUT = "timeout"
CRASH = "crash"
PROTOCOL_ERROR = "protocol_error"
OVERSIZED = "oversized_reply"
BOT_ERROR = "bot_error"
UNAVAILABLE = "bot_unavailable"
INTERRUPTED = "interrupted"
NO_EXCHANGE = "no_exchange"
STORE_ERROR = "store_error"
# HTTP bots: the last of the attempts (core.llm.client) failed this way.
RATE_LIMITED = "rate_limited"
SERVER_ERROR = "server_error"
REFUSED = "refused"
# A bot's token budget was spent: its conversations not started yet stay pending.
BUDGET_SPENT = "budget_spent"

# Turn requests shorter than this, to a bot that keeps up reading, are sent together with
# the others queued in the same turn of the event loop (`_Instance._send`).
COALESCE_MAX_BYTES = 16 << 10
# Bytes read from a bot's stdout at a time (`_Instance._pump_stdout`).
READ_CHUNK = 256 << 10
# Time a bot gets to read "bye" and exit before it is killed.
SHUTDOWN_GRACE_S = 2.0
# Time a keeper gets to kill its bot's processes when told to; then it is killed itself.
KEEPER_GRACE_S = 5.0
KEEPER = Path(__file__).with_name("botkeeper.py")
# Environment variables passed through to bot processes; everything else is dropped so
# the organizer's API keys and tokens never reach a bot.
PASSTHROUGH_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


class _Expired(TimeoutError):
    """A request's deadline passed before its reply came (`_Instance._expire_at`)."""


class BotFailure(Exception):
    """A bot could not produce a reply; `reason` is one of the documented reasons."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class Reply(NamedTuple):
    """A bot's answer to one turn request, with what it cost when the bot says so, and the
    technique and converters it says it used (optional protocol fields; None and () when absent).

    A named tuple rather than a frozen dataclass: one is made per turn, and a frozen
    dataclass sets each of its fields through ``object.__setattr__``."""

    content: str
    end: bool
    latency: float
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None
    technique: str | None = None
    converters: tuple[str, ...] = ()


# What a reply's `technique` and each of its `converters` may be (docs/bot-protocol.md):
# they are stored and shown in tables, so a short name, never free text.
TECHNIQUE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:+/-]{0,63}")
MAX_CONVERTERS = 8


@dataclass(frozen=True)
class Hello:
    """What a bot said in its handshake."""

    name: str | None
    version: str | None
    concurrency: int
    latency: float
    # How the bot runs: "sandbox", "sandbox, no process limit", "none" or "" (http).
    isolation: str = ""


# A bot event callback: (bot name, kind, detail). Kinds: "restart" (an instance came
# back; detail says after what) and "gave_up". Failed requests are the run's to count.
EventSink = Callable[[str, str, str], None]
PartialSink = Callable[[str, str], None]


def _no_event(bot: str, kind: str, detail: str) -> None:
    return None


# Built once: `json.loads` checks its arguments and looks its decoder up on every call.
_DECODER = json.JSONDecoder()
_decode_json = _DECODER.decode
_scan_json = _DECODER.scan_once


def _parse_json(text: str) -> Any:
    """`text` as JSON, as `json.loads` reads it. A line that is one JSON value and its
    newline is scanned directly; anything else (whitespace around it, extra data, not
    JSON) goes through the decoder's checks, which raise ValueError where loads would."""
    try:
        value, end = _scan_json(text, 0)
    except (StopIteration, ValueError):
        return _decode_json(text)
    if end == len(text) or text[end:] == "\n":
        return value
    return _decode_json(text)


def decode_message(line: bytes) -> Any:
    """One protocol line: JSON whose top-level strings are valid text (`valid_text`).

    Raises UnicodeDecodeError or ValueError for a line that is not UTF-8 JSON."""
    text = line.decode("utf-8")
    message = _parse_json(text)
    # A lone surrogate can only come from a ``\\u`` escape (the line is valid UTF-8): a
    # line without one needs no repair.
    if "\\u" in text and isinstance(message, dict):
        message = {key: valid_text(value) if isinstance(value, str) else value for key, value in message.items()}
    return message


# --- process bots ---------------------------------------------------------------------


def bot_argv(spec: BotSpec) -> list[str]:
    """The command line of one instance of a process bot."""
    if spec.kind == "command":
        return list(spec.command)
    if spec.kind == "python":
        return [sys.executable, "-m", "core.tournament.bothost", spec.python]
    raise ValueError(f"{spec.name} is not a process bot")


def keeper_argv(spec: BotSpec, *, sandboxed: bool = False, hidden: tuple[Path, ...] = (),
                net_dir: str | None = None) -> list[str]:
    """The command line that starts one instance: the bot under its keeper, in its
    sandbox when `sandboxed` (`hidden`: paths it must not see; `net_dir`: the folder of
    its network relays' sockets)."""
    limits = spec.limits
    options: dict[str, Any] = {"memory_mb": limits.memory_mb, "cpu_seconds": limits.cpu_seconds,
                               "file_mb": limits.file_mb, "open_files": limits.open_files}
    command = bot_argv(spec)
    if sandboxed:
        plan = isolation.sandbox_argv(spec, command, hidden=hidden, net_dir=net_dir)
        if plan.own_user:  # the instance's own user: RLIMIT_NPROC counts only its processes
            options["processes"] = limits.processes
        if net_dir is not None:
            options["relays"] = isolation.relays(spec, net_dir)
        command = plan.argv
    return [sys.executable, "-I", "-S", str(KEEPER), str(os.getpid()), json.dumps(options), *command]


def exit_detail(spec: BotSpec, code: int | None, sandboxed: bool) -> str:
    """Why a bot process ended, from its exit status: which limit, when one explains it.

    The keeper dies of the bot's signal (negative code); bubblewrap reports a bot killed
    by a signal as 128 + the signal."""
    number = -code if code is not None and code < 0 else None
    if sandboxed and code is not None and code > 128:
        number = code - 128
    if number is None:
        return f"process exited with code {code}"
    limits = spec.limits
    known = {
        signal.SIGXFSZ: f"a file reached the file size limit ({limits.file_mb} MB)",
        signal.SIGXCPU: f"the CPU time limit ({limits.cpu_seconds} s) was reached",
        signal.SIGKILL: "killed (SIGKILL)",
        signal.SIGSEGV: "crashed (segmentation fault)",
    }
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    return f"process killed by {name}" + (f": {known[number]}" if number in known else "")


def bot_env(spec: BotSpec) -> dict[str, str]:
    """The scrubbed environment a bot process gets."""
    env = {k: os.environ[k] for k in PASSTHROUGH_ENV if k in os.environ}
    env.setdefault("PATH", os.defpath)
    env["ARENA_BOT_NAME"] = spec.name
    env["ARENA_BOT_SIDE"] = spec.side
    env["PYTHONUNBUFFERED"] = "1"
    if spec.kind == "python":
        # The host must import `core` even when the project is run from a checkout.
        env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    env.update(spec.env)
    return env


class BotLog:
    """A bot's stderr log file, capped at ``limits.log_mb``; remembers the last line."""

    def __init__(self, path: Path | None, cap_bytes: int) -> None:
        self.path = path
        self.cap = cap_bytes
        self.written = 0
        self.last_line = ""
        self._fh = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = path.open("ab")

    def write(self, data: bytes) -> None:
        """Append bytes (bot stderr, or an arena note) unless the cap is reached."""
        text = data.decode("utf-8", "replace").strip()
        if text:
            self.last_line = text.splitlines()[-1][:500]
        if self._fh is None:
            return
        if self.cap and self.written + len(data) > self.cap:
            if self.written <= self.cap:
                self._fh.write(b"\n[arena] log cap reached; further output dropped\n")
                self.written = self.cap + 1
            return
        self._fh.write(data)
        self.written += len(data)
        self._fh.flush()

    def note(self, message: str) -> None:
        """Record something the arena did to the bot (restart, kill)."""
        self.write(f"[arena {time.strftime('%H:%M:%S')}] {message}\n".encode())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class _Instance:
    """One running process of a bot."""

    def __init__(self, bot: ProcessBot, index: int) -> None:
        self.bot = bot
        self.index = index
        self.proc: asyncio.subprocess.Process | None = None
        self.concurrency = 1
        self.inflight: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.alive = False
        self.failed = False
        self.tasks: list[asyncio.Task[None]] = []
        # Turn request lines written in this turn of the event loop, sent in one write
        # when it ends (`_flush_outbox`): one system call and one wake-up of the bot for
        # all of them, instead of one each.
        self.outbox: list[bytes] = []
        self.net_dir: str | None = None
        # (deadline, sequence, future) of the requests written, and the timer of the
        # earliest (`_expire_at`).
        self.deadlines: list[tuple[float, int, asyncio.Future[dict[str, Any]]]] = []
        self._deadline_seq = 0
        self._timer: asyncio.TimerHandle | None = None

    def limit_note(self) -> str:
        """"; ..." naming the process limit when the instance has reached it (a fork bomb
        does not answer: this is what its timeout says), else ""."""
        limit = self.bot.spec.limits.processes
        if not self.bot.sandboxed or not limit or self.proc is None or self.proc.returncode is not None:
            return ""
        # The keeper's descendants: bubblewrap (2 processes), maybe the relay, then the bot's.
        count = len(living_descendants(self.proc.pid))
        return f"; the bot reached its process limit ({limit} processes)" if count >= limit else ""

    async def start(self) -> Hello:
        spec = self.bot.spec
        limits = spec.limits
        if self.bot.sandboxed and spec.network:
            self.net_dir = tempfile.mkdtemp(prefix="arena-net-")
            os.chmod(self.net_dir, 0o755)
        self.proc = await asyncio.create_subprocess_exec(
            *keeper_argv(spec, sandboxed=self.bot.sandboxed, hidden=self.bot.hidden, net_dir=self.net_dir),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=str(spec.workdir),
            env=bot_env(spec),
            start_new_session=True,
            limit=limits.max_reply_bytes + 1024,
        )
        self.tasks = [asyncio.create_task(self._pump_stderr())]
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.bot.handshake_timeout):
                await self._send({"type": "hello", "protocol": PROTOCOL_VERSION, "name": spec.name, "side": spec.side})
                line = await self.proc.stdout.readline()
        except TimeoutError:
            await self.kill()
            raise BotFailure(UNAVAILABLE, f"no handshake within {self.bot.handshake_timeout:g}s") from None
        except (ValueError, ConnectionError, BrokenPipeError) as exc:
            await self.kill()
            raise BotFailure(UNAVAILABLE, f"handshake failed: {exc}") from None
        latency = time.perf_counter() - started
        if not line:
            code = await self._wait_exit()
            await asyncio.sleep(0.05)  # let the stderr pump catch the last words
            last = self.bot.log.last_line
            raise BotFailure(UNAVAILABLE, f"exited with code {code} before the handshake" + (f": {last}" if last else ""))
        try:
            hello = decode_message(line)
            if not isinstance(hello, dict) or hello.get("type") != "hello":
                raise ValueError("expected a hello message")
            if hello.get("protocol") != PROTOCOL_VERSION:
                raise ValueError(f"protocol {hello.get('protocol')!r} is not supported (this arena speaks {PROTOCOL_VERSION})")
            concurrency = hello.get("concurrency", 1)
            if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
                raise ValueError("concurrency must be a positive integer")
        except (ValueError, UnicodeDecodeError) as exc:
            await self.kill()
            raise BotFailure(UNAVAILABLE, f"bad handshake: {exc}") from None
        self.concurrency = concurrency
        self.alive = True
        self.tasks.append(asyncio.create_task(self._pump_stdout()))
        return Hello(
            name=str(hello["name"]) if "name" in hello else None,
            version=str(hello["version"]) if "version" in hello else None,
            concurrency=concurrency,
            latency=latency,
        )

    async def _send(self, message: dict[str, Any]) -> None:
        """Write one message now (hello, bye)."""
        await self._write(encode_line(message))

    def _queue(self, line: bytes) -> bool:
        """Queue a turn request line for the one write at the end of this turn of the loop
        (`_flush_outbox`) when it is short and the bot keeps up reading: the pipe takes what
        it is given, so there is nothing to wait for. False: write it with `_write`."""
        assert self.proc is not None and self.proc.stdin is not None
        transport = self.proc.stdin.transport
        if len(line) >= COALESCE_MAX_BYTES or transport.get_write_buffer_size() or transport.is_closing():
            return False
        if not self.outbox:
            asyncio.get_running_loop().call_soon(self._flush_outbox)
        self.outbox.append(line)
        return True

    async def _write(self, line: bytes) -> None:
        """Write a line at once, after the requests queued before it (hello, bye, a long
        request, or one to a bot that is behind reading), and wait while the bot does not
        read (`drain`); a broken pipe raises here."""
        assert self.proc is not None and self.proc.stdin is not None
        self._flush_outbox()
        stdin = self.proc.stdin
        stdin.write(line)
        await stdin.drain()

    def _flush_outbox(self) -> None:
        """Write the queued turn requests. A pipe that breaks fails the instance through
        its stdout (end of file) or the next request's drain, as a single write would."""
        if not self.outbox:
            return
        data = b"".join(self.outbox)
        self.outbox.clear()
        assert self.proc is not None and self.proc.stdin is not None
        with contextlib.suppress(ConnectionError, RuntimeError):
            self.proc.stdin.write(data)

    async def _pump_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        stream = self.proc.stderr
        while True:
            try:
                chunk = await stream.read(65536)
            except (ValueError, ConnectionError):
                return
            if not chunk:
                return
            self.bot.log.write(chunk)

    async def _pump_stdout(self) -> None:
        """Read the bot's replies in chunks as they come and hand each line to `_receive`.

        Lines are split here rather than read one `readline` at a time: one read, and one
        wake-up of this task, for every line the bot wrote since the last. A line longer
        than the reader's limit (the reply limit plus room for the envelope) fails the
        instance as ``oversized_reply``, as `readline` would."""
        assert self.proc is not None and self.proc.stdout is not None
        stream = self.proc.stdout
        limit = self.bot.spec.limits.max_reply_bytes + 1024  # the reader's limit (`start`)
        pending = b""
        while self.alive:
            try:
                chunk = await stream.read(READ_CHUNK)
            except ConnectionError as exc:
                await self.fail(CRASH, f"stdout closed: {exc}")
                return
            data = pending + chunk if pending else chunk
            start = 0
            end = data.find(b"\n", len(pending))  # `pending` holds no newline
            while end >= 0:
                if end - start > limit:
                    await self.fail(OVERSIZED, f"a reply line exceeded {self.bot.spec.limits.max_reply_bytes} bytes")
                    return
                problem = self._receive(data[start:end + 1])
                if problem is not None:
                    await self.fail(*problem)
                    return
                start = end + 1
                end = data.find(b"\n", start)
            pending = data[start:] if start else data
            if len(pending) > limit:
                await self.fail(OVERSIZED, f"a reply line exceeded {self.bot.spec.limits.max_reply_bytes} bytes")
                return
            if not chunk:
                # End of file; a last line without its newline is a line still.
                if pending and (problem := self._receive(pending)) is not None:
                    await self.fail(*problem)
                    return
                code = await self._wait_exit()
                await asyncio.sleep(0.05)  # let the stderr pump catch the last words
                last = self.bot.log.last_line
                detail = exit_detail(self.bot.spec, code, self.bot.sandboxed)
                await self.fail(CRASH, detail + (f" (last log line: {last[:200]})" if last and code not in (0, None) else ""))
                return

    def _receive(self, line: bytes) -> tuple[str, str] | None:
        """One line from the bot: resolve the request it answers (or pass on a partial
        reply). Returns (reason, detail) when the line is not a protocol message."""
        try:
            message = decode_message(line)
        except UnicodeDecodeError:
            return PROTOCOL_ERROR, "a reply line is not valid UTF-8"
        except ValueError:
            return PROTOCOL_ERROR, f"a reply line is not JSON: {line[:80]!r}"
        if type(message) is not dict or type(rid := message.get("id")) is not str:
            return PROTOCOL_ERROR, "a reply is not a JSON object with a string id"
        future = self.inflight.get(rid)
        if future is None:
            self.bot.log.note(f"ignored a message for unknown or expired id {rid[:60]!r}")
            return None
        if message.get("type") == "partial":
            if isinstance(message.get("content"), str) and self.bot.on_partial is not None:
                self.bot.on_partial(rid, message["content"])
            return None
        del self.inflight[rid]
        if not future.done():
            future.set_result(message)
        return None

    async def _wait_exit(self) -> int | None:
        assert self.proc is not None
        try:
            return await asyncio.wait_for(self.proc.wait(), 2.0)
        except TimeoutError:
            return None

    async def fail(self, reason: str, detail: str) -> None:
        """The instance is unusable: fail its in-flight requests, kill it, restart later."""
        for future in self.inflight.values():
            if not future.done():
                future.set_exception(BotFailure(reason, detail))
        self.inflight.clear()
        if self.failed:
            return
        self.failed = True
        self.alive = False
        self.bot.log.note(f"instance {self.index}: {reason}: {detail}")
        await self.kill()
        self.bot.instance_failed(self, reason, detail)

    async def ask(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Write the request and wait for its reply, both within `timeout`."""
        rid = request["id"]
        loop = asyncio.get_running_loop()
        future = self.inflight.get(rid)
        if future is None:
            future = loop.create_future()
            self.inflight[rid] = future
        if not self.alive and not future.done():
            future.set_exception(BotFailure(CRASH, "the process died before the request was sent"))
        deadline = loop.time() + timeout
        written = False
        try:
            if not future.done():
                line = encode_line(request)
                if not (request.get("type") == "turn" and self._queue(line)):
                    async with asyncio.timeout_at(deadline):
                        await self._write(line)
            written = True
            if not future.done():
                self._expire_at(deadline, future)
            return await future
        except (ConnectionError, BrokenPipeError, RuntimeError) as exc:  # from _write
            await self.fail(CRASH, f"cannot write to the bot: {exc}")
            return await future  # raises the failure just set
        except TimeoutError:  # the write's (`asyncio.timeout_at`) or the reply's (`_Expired`)
            self.inflight.pop(rid, None)
            if not written:
                # The bot does not read its stdin: nothing more can be sent to it.
                detail = f"did not read the request within {timeout:g}s"
                await self.fail(TIMEOUT, detail)
                raise BotFailure(TIMEOUT, detail) from None
            note = self.limit_note()
            if self.concurrency == 1:
                # A one-at-a-time bot that is stuck would block every later request.
                await self.fail(TIMEOUT, f"restarted after request {rid} timed out{note}")
            raise BotFailure(TIMEOUT, f"no reply within {timeout:g}s{note}") from None
        finally:
            self.inflight.pop(rid, None)

    def _expire_at(self, deadline: float, future: asyncio.Future[dict[str, Any]]) -> None:
        """Fail `future` with `_Expired` if it is still waiting at `deadline` (loop time).

        One heap of deadlines and one timer per instance, rather than a timer (and a
        cancellation) per request: answered requests stay in the heap until they reach its
        top or it is compacted, and cost nothing when their deadline comes."""
        heap = self.deadlines
        if len(heap) > 2 * len(self.inflight) + 64:
            heap[:] = [entry for entry in heap if not entry[2].done()]
            heapq.heapify(heap)
        self._deadline_seq += 1
        heapq.heappush(heap, (deadline, self._deadline_seq, future))
        timer = self._timer
        if timer is None or deadline < timer.when():
            if timer is not None:
                timer.cancel()
            self._timer = asyncio.get_running_loop().call_at(deadline, self._expire)

    def _expire(self) -> None:
        """The timer of the earliest deadline: fail what waits past its deadline, then
        wait for the next one still waiting."""
        self._timer = None
        heap = self.deadlines
        now = asyncio.get_running_loop().time()
        while heap and (heap[0][0] <= now or heap[0][2].done()):
            future = heapq.heappop(heap)[2]
            if not future.done():
                future.set_exception(_Expired())
        if heap:
            self._timer = asyncio.get_running_loop().call_at(heap[0][0], self._expire)

    async def kill(self) -> None:
        """Stop the bot and every process it started: its keeper kills them and exits.

        A keeper that does not exit in time (the bot may have stopped it) is killed; the
        bot dies with it (parent-death signal)."""
        self.alive = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        proc = self.proc
        if proc is None:
            return
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), KEEPER_GRACE_S)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(proc.wait(), 5.0)
        await self._stop_tasks()
        # Close the pipes now, on this loop: left to the garbage collector, the transport
        # would try to close them on a loop that may already be closed.
        transport = getattr(proc, "_transport", None)
        if transport is not None:
            transport.close()
        if self.net_dir is not None:
            shutil.rmtree(self.net_dir, ignore_errors=True)
            self.net_dir = None

    async def _stop_tasks(self) -> None:
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current and not task.done():
                task.cancel()
        for task in self.tasks:
            if task is not current:
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass

    async def shutdown(self) -> None:
        """Polite stop: bye, close stdin, wait, then kill."""
        proc = self.proc
        if proc is None:
            return
        self.alive = False
        self.failed = True  # exiting now is expected, not a crash
        if proc.returncode is None:
            try:
                async with asyncio.timeout(SHUTDOWN_GRACE_S):
                    await self._send({"type": "bye"})
                    assert proc.stdin is not None
                    proc.stdin.close()
                    await proc.wait()
            except (TimeoutError, ConnectionError, BrokenPipeError, RuntimeError):
                pass
        await self.kill()


class ProcessBot:
    """A `command` or `python` bot: `instances` supervised processes."""

    def __init__(
        self,
        spec: BotSpec,
        log_path: Path | None,
        on_event: EventSink,
        handshake_timeout: float,
        hidden: tuple[Path, ...] = (),
    ) -> None:
        self.spec = spec
        self.hidden = hidden
        self.sandboxed = False
        self.log = BotLog(log_path, spec.limits.log_mb << 20)
        self.on_event = on_event
        self.on_partial: Callable[[str, str], None] | None = None
        self.handshake_timeout = handshake_timeout
        self.instances = [_Instance(self, i) for i in range(spec.instances)]
        self.consecutive_failures = 0
        self.gave_up: str | None = None
        self._slots = asyncio.Condition()
        self._waiting = 0  # requests waiting in `ask` for a free slot
        self._restarting: set[int] = set()
        self._closing = False

    async def start(self) -> Hello:
        """Start every instance; the bot's hello is the first instance's."""
        try:
            self.sandboxed = isolation.uses_sandbox(self.spec)
        except isolation.IsolationError as exc:
            self.gave_up = str(exc)
            self.log.close()
            raise BotFailure(UNAVAILABLE, str(exc)) from None
        hellos = await asyncio.gather(*(inst.start() for inst in self.instances), return_exceptions=True)
        for h in hellos:
            if isinstance(h, BaseException):
                await self.close()
                self.gave_up = str(h)
                raise h if isinstance(h, BotFailure) else BotFailure(UNAVAILABLE, str(h))
        where = "in the sandbox" if self.sandboxed else "without the sandbox"
        self.log.note(f"started {len(self.instances)} instance(s) {where}: {self.spec.describe()}")
        kind = "none"
        if self.sandboxed:
            note = isolation.sandbox_argv(self.spec, bot_argv(self.spec)).note
            kind = "sandbox, no process limit" if note else "sandbox"
            if note:
                self.log.note(note)
        return dataclasses.replace(hellos[0], isolation=kind)  # type: ignore[type-var]

    def instance_failed(self, inst: _Instance, reason: str, detail: str) -> None:
        """Called by an instance that died; schedules its restart or gives the bot up.

        The failed requests themselves are counted by the run, once each; the bot reports
        only what happens to it: a restart or being given up."""
        if self._closing or inst.index in self._restarting:
            return
        self.consecutive_failures += 1
        if self.consecutive_failures > self.spec.limits.max_restarts:
            self._give_up(f"gave up after {self.consecutive_failures} consecutive failures; last: {reason}: {detail}")
            return
        self._restarting.add(inst.index)
        asyncio.get_running_loop().create_task(self._restart(inst, f"{reason}: {detail}"))

    def _give_up(self, why: str) -> None:
        if self.gave_up is None:
            self.gave_up = why
            self.log.note(why)
            self.on_event(self.spec.name, "gave_up", why)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._slots:
            self._slots.notify_all()

    async def _restart(self, inst: _Instance, why: str) -> None:
        try:
            fresh = _Instance(self, inst.index)
            try:
                await fresh.start()
            except BotFailure as exc:
                self._give_up(f"restart failed: {exc.detail}")
                return
            self.instances[inst.index] = fresh
            self.log.note(f"instance {inst.index} restarted")
            self.on_event(self.spec.name, "restart", f"instance {inst.index} after {why}")
        finally:
            self._restarting.discard(inst.index)
            await self._notify()

    def _free_instance(self) -> _Instance | None:
        best = None
        for inst in self.instances:
            if inst.alive and len(inst.inflight) < inst.concurrency:
                if best is None or len(inst.inflight) < len(best.inflight):
                    best = inst
        return best

    async def ask(self, request: dict[str, Any], timeout: float) -> Reply:
        """Send one turn request to a free instance and wait for the reply."""
        # A free slot and nobody waiting for one: take it without the condition (nothing
        # runs between finding the slot and reserving it).
        inst = self._free_instance() if self.gave_up is None and not self._waiting else None
        if inst is None:
            inst = await self._wait_for_slot()
        # Reserve the slot.
        inst.inflight[request["id"]] = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        try:
            message = await inst.ask(request, timeout)
        finally:
            if self._waiting:  # a slot is free again: wake whoever waits for one
                await self._notify()
        latency = time.perf_counter() - started
        if len(message) == 3 and message.get("type") == "reply" and type(message.get("content")) is str:
            # The common reply, {"type", "id", "content"}: nothing optional to check.
            self.consecutive_failures = 0
            return Reply(message["content"], False, latency)
        content, end, technique, converters = parse_reply(message, request["side"])
        self.consecutive_failures = 0
        return Reply(content, end, latency, *parse_usage(message), technique=technique, converters=converters)

    async def _wait_for_slot(self) -> _Instance:
        """Wait for an instance with a free slot; raises `BotFailure` once the bot is given up."""
        async with self._slots:
            while True:
                if self.gave_up is not None:
                    raise BotFailure(UNAVAILABLE, self.gave_up)
                inst = self._free_instance()
                if inst is not None:
                    return inst
                self._waiting += 1
                try:
                    await self._slots.wait()
                finally:
                    self._waiting -= 1

    async def close(self) -> None:
        """Stop every instance politely and close the log."""
        self._closing = True
        await asyncio.gather(*(inst.shutdown() for inst in self.instances), return_exceptions=True)
        self.log.close()


def parse_usage(message: dict[str, Any]) -> tuple[int | None, int | None, str | None]:
    """The optional ``usage`` ({"prompt_tokens", "completion_tokens"}) and
    ``finish_reason`` of a reply; what is absent or malformed is None (never an error:
    the fields are optional and only informative)."""
    usage = message.get("usage")
    tokens: list[int | None] = [None, None]
    if isinstance(usage, dict):
        for i, key in enumerate(("prompt_tokens", "completion_tokens")):
            value = usage.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 40:
                tokens[i] = value
    return tokens[0], tokens[1], clean_finish_reason(message.get("finish_reason"))


def parse_reply(message: dict[str, Any], side: str) -> tuple[str, bool, str | None, tuple[str, ...]]:
    """Validate a reply message; return (content, end, technique, converters)."""
    kind = message.get("type", "reply")
    if kind == "error":
        raise BotFailure(BOT_ERROR, str(message.get("message", "the bot reported an error"))[:500])
    if kind != "reply":
        raise BotFailure(PROTOCOL_ERROR, f"unexpected message type {kind!r}")
    end = message.get("end", False)
    if not isinstance(end, bool):
        raise BotFailure(PROTOCOL_ERROR, "'end' must be true or false")
    if end and side != "attacker":
        raise BotFailure(PROTOCOL_ERROR, "only attackers may end a conversation")
    content = message.get("content", "" if end else None)
    if content is None:
        content = ""
        if not end:
            raise BotFailure(PROTOCOL_ERROR, "a reply needs 'content'")
    if not isinstance(content, str):
        raise BotFailure(PROTOCOL_ERROR, "'content' must be a string")
    technique = message.get("technique")
    if technique is not None and not (isinstance(technique, str) and TECHNIQUE_NAME.fullmatch(technique)):
        raise BotFailure(PROTOCOL_ERROR, "'technique' must be a name of 1-64 letters, digits or _.:+/-")
    converters = message.get("converters", [])
    if converters is None:
        converters = []
    if (not isinstance(converters, list) or len(converters) > MAX_CONVERTERS
            or not all(isinstance(c, str) and TECHNIQUE_NAME.fullmatch(c) for c in converters)):
        raise BotFailure(PROTOCOL_ERROR, f"'converters' must be a list of at most {MAX_CONVERTERS} names "
                                         "of 1-64 letters, digits or _.:+/-")
    return content, end, technique, tuple(converters)


# --- HTTP bots ------------------------------------------------------------------------


def system_prompt(spec: BotSpec) -> str:
    """The system message of an HTTP bot: its prompt, then (attackers with a `goal`) the
    goal and how to end the conversation."""
    assert spec.http is not None
    http = spec.http
    parts = [http.system_prompt] if http.system_prompt else []
    if spec.side == "attacker" and http.goal:
        parts.append(f"You are the attacker in this conversation. Your goal: {http.goal}")
        parts.append(f"When you are done, reply with exactly {http.end_marker} to end the conversation.")
    return "\n\n".join(parts)


def chat_messages(spec: BotSpec, request: dict[str, Any]) -> list[dict[str, str]]:
    """Map a turn request to chat-completions messages from the bot's own side."""
    assert spec.http is not None
    out: list[dict[str, str]] = []
    system = system_prompt(spec)
    if system:
        out.append({"role": "system", "content": system})
    history = request["messages"]
    if spec.side == "attacker":
        # Chat templates expect a user turn first; the attacker's conversation opens with one.
        out.append({"role": "user", "content": spec.http.opening_prompt})
    for message in history:
        role = "assistant" if message["role"] == spec.side else "user"
        out.append({"role": role, "content": message["content"]})
    return out


def generation_settings(spec: BotSpec) -> GenerationSettings:
    """What an HTTP bot asks its model for, from its config."""
    http = spec.http
    assert http is not None
    return GenerationSettings(model=http.model, temperature=http.temperature, top_p=http.top_p,
                              max_tokens=http.max_tokens, stop=http.stop, stream=http.stream, extra=http.extra)


def request_seed(request: dict[str, Any]) -> int:
    """The `seed` sent to the model server: the conversation's seed plus the turn, in 31
    bits (servers read it as a signed 32-bit integer)."""
    return (request["seed"] + request["turn"]) % (1 << 31)


class HttpBot:
    """An OpenAI-compatible `/v1/chat/completions` endpoint, through `core.llm.client`:
    at most `instances` (`max_in_flight`) requests in flight, each with the turn's
    deadline from when it is sent; retries are reported as ``retry`` bot events."""

    def __init__(self, spec: BotSpec, log_path: Path | None, on_event: EventSink = _no_event,
                 handshake_timeout: float = 10.0) -> None:
        assert spec.http is not None
        self.spec = spec
        self.handshake_timeout = handshake_timeout
        self.log = BotLog(log_path, spec.limits.log_mb << 20)
        self.on_event = on_event
        self.on_partial: Callable[[str, str], None] | None = None
        self.gave_up: str | None = None
        http = spec.http
        self.settings = generation_settings(spec)
        self.client = ChatClient(
            http.url,
            api_key_env=http.api_key_env,
            max_in_flight=spec.instances,
            max_response_bytes=spec.limits.max_reply_bytes,
            retry=RetryPolicy(retries=http.retries, backoff_s=http.retry_backoff_s, budget_s=http.retry_budget_s),
            on_retry=self._retrying,
        )

    def _retrying(self, reason: str, detail: str, wait: float) -> None:
        note = f"{reason}: {detail}; retrying in {wait:.1f}s"
        self.log.note(note)
        self.on_event(self.spec.name, "retry", note)

    async def start(self) -> Hello:
        """HTTP bots have no handshake; check that the server answers /models within the
        handshake timeout (the config's `timeout`: a server busy generating may be slow)."""
        started = time.perf_counter()
        try:
            await self.client.models(self.handshake_timeout)  # any HTTP status means "reachable"
        except ChatError as exc:
            self.gave_up = f"{self.spec.http.url}/models: {exc.detail}"  # type: ignore[union-attr]
            raise BotFailure(UNAVAILABLE, self.gave_up) from None
        return Hello(name=self.spec.name, version=self.spec.http.model, concurrency=self.spec.instances,  # type: ignore[union-attr]
                     latency=time.perf_counter() - started)

    async def ask(self, request: dict[str, Any], timeout: float) -> Reply:
        """POST the conversation and return the assistant message."""
        http = self.spec.http
        assert http is not None
        if self.gave_up is not None:
            raise BotFailure(UNAVAILABLE, self.gave_up)
        on_partial = None
        if http.stream and self.on_partial is not None:
            sink, rid = self.on_partial, request["id"]

            def on_partial(text: str) -> None:
                sink(rid, valid_text(text))

        try:
            result = await self.client.chat(chat_messages(self.spec, request), self.settings, deadline=timeout,
                                            seed=request_seed(request), on_partial=on_partial)
        except ChatError as exc:
            reason = BOT_ERROR if exc.reason == CLIENT_ERROR else exc.reason
            self.log.note(f"{request['id']}: {reason}: {exc.detail}")
            raise BotFailure(reason, exc.detail) from None
        content = valid_text(result.text)
        if len(content.encode("utf-8")) > self.spec.limits.max_reply_bytes:
            raise BotFailure(OVERSIZED, f"reply larger than {self.spec.limits.max_reply_bytes} bytes")
        end = False
        if request["side"] == "attacker":
            stripped = content.rstrip()
            if stripped.endswith(http.end_marker):
                content, end = stripped[: -len(http.end_marker)].rstrip(), True
        return Reply(content, end, result.latency, result.prompt_tokens, result.completion_tokens, result.finish_reason)

    async def close(self) -> None:
        await self.client.close()
        self.log.close()


Bot = ProcessBot | HttpBot


def make_bot(spec: BotSpec, log_dir: Path | None, *, handshake_timeout: float, on_event: EventSink = _no_event,
             hidden: tuple[Path, ...] = ()) -> Bot:
    """A client for one configured bot (not started yet); a process bot gets
    `handshake_timeout` seconds for its hello (the config's `timeout`) and never sees
    the `hidden` paths (the store: `isolation.hidden_for_store`) when sandboxed."""
    log_path = log_dir / f"{spec.name}.log" if log_dir is not None else None
    if spec.kind == "http":
        return HttpBot(spec, log_path, on_event, handshake_timeout)  # no instances to restart: it reports retries
    return ProcessBot(spec, log_path, on_event, handshake_timeout, hidden)


async def check_bot(spec: BotSpec, timeout: float, log_dir: Path | None = None) -> Hello:
    """Start a bot, take its handshake, stop it. Raises `BotFailure`."""
    bot = make_bot(spec, log_dir, handshake_timeout=timeout)
    try:
        return await bot.start()
    finally:
        await bot.close()
