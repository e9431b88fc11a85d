"""The orchestrator: plays every conversation of a tournament and stores every turn.

Each conversation gets a seed derived from the tournament seed and its place in the grid
(attacker, defender, index), so deterministic bots give identical transcripts at any
concurrency. Conversations are planned in the store before play; turns are written in
small batched transactions as they happen; a killed run resumes by redoing only what was
unfinished.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import sqlite3
import time
from pathlib import Path
from typing import Any

from core.store import (
    BotVersionOp,
    ConversationRow,
    EventOp,
    FinishOp,
    StartOp,
    Store,
    StoreOp,
    TournamentSettings,
    TurnOp,
)
from core.text import valid_text
from core.tournament.bots import (
    BUDGET_SPENT,
    INTERRUPTED,
    NO_EXCHANGE,
    STORE_ERROR,
    UNAVAILABLE,
    Bot,
    BotFailure,
    make_bot,
)
from core.tournament.config import TournamentConfig
from core.tournament.isolation import hidden_for_store
from core.tournament.reporter import (
    BotStats,
    ConversationRef,
    NullReporter,
    Reporter,
    RunSummary,
    TournamentInfo,
)
from core.tournament.wire import History

# Turns are flushed to the store at least this often, so a watcher in another process
# sees them promptly, and in batches, so 50,000 replies cost few transactions.
FLUSH_INTERVAL_S = 0.05
# Errors caused by one row's values, not by the store: a batch that raises one is written
# again row by row, so only that row's conversation suffers.
ROW_ERRORS = (ValueError, OverflowError, sqlite3.IntegrityError, sqlite3.DataError, sqlite3.InterfaceError)


class RunError(Exception):
    """A run that cannot start: tournament already stored, config changed, ..."""


def conversation_seed(tournament_seed: int, attacker: str, defender: str, idx: int) -> int:
    """The seed of one conversation: a 63-bit hash of its place in the grid."""
    key = f"{tournament_seed}\x1f{attacker}\x1f{defender}\x1f{idx}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") >> 1


def log_dir_for(store_path: Path, tournament: str) -> Path:
    """Where bot stderr logs go: ``<store>.logs/<tournament>/``."""
    return store_path.with_name(store_path.name + ".logs") / tournament


class RunControl:
    """Pause, resume and stop a running tournament (from a signal handler or the TUI)."""

    def __init__(self, pace: float = 0.0) -> None:
        self._running = asyncio.Event()
        self._running.set()
        self.stop_requested = False
        self._on_stop: list[Any] = []
        # Seconds each conversation waits before each turn request (see `delay`): a watched
        # demo unfolds at a speed people can follow. 0: full speed.
        self.pace = pace

    def delay(self, seed: int, turn: int) -> float:
        """The wait before one turn at this pace: 0.5x-1.5x `pace`, spread by the
        conversation's seed and the turn (timing only: transcripts do not depend on it)."""
        return self.pace * (0.5 + ((seed >> (turn * 6 % 56)) & 0xFF) / 255)

    def on_stop(self, callback: Any) -> None:
        """Call `callback` when `stop` is requested (the run cancels its conversations)."""
        self._on_stop.append(callback)

    def forget(self, callback: Any) -> None:
        """Undo `on_stop`."""
        if callback in self._on_stop:
            self._on_stop.remove(callback)

    @property
    def paused(self) -> bool:
        """True while paused: no new turn requests are sent."""
        return not self._running.is_set()

    def pause(self) -> None:
        """Hold every conversation before its next turn."""
        self._running.clear()

    def resume(self) -> None:
        """Carry on after `pause`."""
        self._running.set()

    def stop(self) -> None:
        """Stop gracefully: running conversations are marked interrupted; --resume redoes them."""
        if self.stop_requested:
            return
        self.stop_requested = True
        self._running.set()
        for callback in self._on_stop:
            callback()

    async def gate(self) -> None:
        """Wait here while paused."""
        await self._running.wait()


class StoreWriter:
    """Queues store writes and applies them in batched transactions off the event loop.

    A row the store refuses (`ROW_ERRORS`) never costs the rest of its batch: the batch is
    written again one row at a time, and the conversation of the refused row is finished
    as incomplete with reason ``store_error`` (a refused finish leaves it running, for
    ``--resume`` to redo; a refused event or bot version is dropped).
    """

    def __init__(self, store: Store, interval: float = FLUSH_INTERVAL_S) -> None:
        self.store = store
        self.interval = interval
        self.ops: list[StoreOp] = []
        self.refused: dict[int, str] = {}  # conversation id -> why one of its rows was refused
        self.cpu_seconds = 0.0  # CPU time spent writing (in the writer's thread)
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        # A thread of its own: store writes never queue behind anything else run in threads.
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="arena-store")

    def add(self, op: StoreOp) -> None:
        """Queue one write (see `Store.apply`)."""
        self.ops.append(op)

    def start(self) -> None:
        """Start flushing periodically."""
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), self.interval)
            except TimeoutError:
                pass
            await self.flush()

    async def flush(self) -> None:
        """Write everything queued so far, in one transaction.

        The write runs in a thread and is never abandoned half-way: if the caller is
        cancelled, the flush still completes before the cancellation goes on, so the
        connection is never used by two threads or closed under a running write.
        """
        async with self._lock:
            if not self.ops:
                return
            ops, self.ops = self.ops, []
            write = asyncio.get_running_loop().run_in_executor(self._thread, self._write, ops)
            try:
                await asyncio.shield(write)
            except asyncio.CancelledError:
                await write
                raise

    def _write(self, ops: list[StoreOp]) -> None:
        started = time.thread_time()
        try:
            self._write_batch(ops)
        finally:
            self.cpu_seconds += time.thread_time() - started

    def _write_batch(self, ops: list[StoreOp]) -> None:
        try:
            self.store.apply([self._checked(op) for op in ops] if self.refused else ops)
        except ROW_ERRORS:
            for op in ops:
                try:
                    self.store.apply([self._checked(op)])
                except ROW_ERRORS as exc:
                    if isinstance(op, TurnOp):
                        what = f"turn {op.turn_index}"
                    elif isinstance(op, StartOp | FinishOp):
                        what = "its start" if isinstance(op, StartOp) else "its finish"
                    else:
                        continue  # a refused event or bot version is dropped
                    self.refused.setdefault(op.conversation_id, valid_text(f"{what} could not be stored: {exc}")[:1000])

    def _checked(self, op: StoreOp) -> StoreOp:
        """The op to write: the finish of a conversation with a refused row says so."""
        if isinstance(op, FinishOp) and op.conversation_id in self.refused:
            return op._replace(status="incomplete", reason=STORE_ERROR, detail=self.refused[op.conversation_id], ended_by=None)
        return op

    async def close(self) -> None:
        """Stop the periodic flush and write what is left."""
        if self._task is not None:
            self._stopping.set()
            await self._task
        await self.flush()
        self._thread.shutdown(wait=False)


class _Run:
    """State of one run of one tournament."""

    def __init__(
        self,
        config: TournamentConfig,
        store: Store,
        tournament_id: int,
        reporter: Reporter,
        control: RunControl,
        log_dir: Path | None,
    ) -> None:
        self.config = config
        self.store = store
        self.tid = tournament_id
        self.reporter = reporter
        self.control = control
        self.writer = StoreWriter(store)
        self.stats = {b.name: BotStats(b.name, b.side) for b in config.bots}
        hidden = hidden_for_store(store.path)  # a sandboxed bot never sees the store or its logs
        self.bots: dict[str, Bot] = {b.name: make_bot(b, log_dir, handshake_timeout=config.timeout, on_event=self.on_bot_event,
                                                      hidden=hidden) for b in config.bots}
        self.requests: dict[str, tuple[ConversationRef, int]] = {}
        self.replies = 0
        self.played = 0
        # Token budgets: tokens spent per bot (stored turns of earlier runs included) and
        # the bots whose budget is spent; their conversations not started yet stay pending.
        self.budgets = {b.name: b.token_budget for b in config.bots if b.token_budget is not None}
        self.spent: dict[str, int] = {}
        if self.budgets:
            self.spent = {u.bot: u.tokens for u in store.token_usage([tournament_id])}
        self.budget_spent: list[str] = []
        self.left_pending = 0
        for bot in self.bots.values():
            bot.on_partial = self.on_partial

    def on_partial(self, request_id: str, content: str) -> None:
        """A bot streamed part of a reply: pass it to the reporter (never stored)."""
        found = self.requests.get(request_id)
        if found is not None:
            self.reporter.partial(found[0], found[1], content)

    def on_bot_event(self, bot: str, kind: str, detail: str) -> None:
        """A bot restarted an instance, retried a request or was given up (failed requests
        go through `_failed`)."""
        stats = self.stats[bot]
        if kind == "restart":
            stats.restarts += 1
        elif kind == "retry":
            stats.retries += 1
        else:
            stats.gave_up = detail
        self._event(bot, kind, detail)

    def _failed(self, bot: str, failure: BotFailure) -> None:
        """One request failed: counted once, here, for the summary, the store and the reporter."""
        stats = self.stats[bot]
        stats.failures[failure.reason] = stats.failures.get(failure.reason, 0) + 1
        stats.last_error = failure.detail
        self._event(bot, failure.reason, failure.detail)

    def _event(self, bot: str, kind: str, detail: str) -> None:
        self.writer.add(EventOp(self.tid, f"bot_{kind}", None, bot, detail[:1000], time.time()))
        self.reporter.bot_event(bot, kind, detail)

    def over_budget(self, row: ConversationRow) -> bool:
        """True when a bot of this conversation has spent its token budget (said once per bot)."""
        over = False
        for name in (row.attacker, row.defender):
            budget = self.budgets.get(name)
            if budget is not None and self.spent.get(name, 0) >= budget:
                over = True
                if name not in self.budget_spent:
                    self.budget_spent.append(name)
                    self._event(name, BUDGET_SPENT, f"token budget of {budget} spent ({self.spent[name]} tokens); "
                                "its conversations not started yet stay pending (--resume with a larger budget plays them)")
        if over:
            self.left_pending += 1
        return over

    async def start_bots(self) -> None:
        async def start(name: str, bot: Bot) -> None:
            try:
                hello = await bot.start()
            except BotFailure as exc:
                self.on_bot_event(name, "gave_up", exc.detail)
                return
            self.stats[name].version = hello.version
            self.writer.add(BotVersionOp(self.tid, name, hello.version))

        await asyncio.gather(*(start(n, b) for n, b in self.bots.items()))

    async def close_bots(self) -> None:
        await asyncio.gather(*(b.close() for b in self.bots.values()), return_exceptions=True)

    async def play(self, row: ConversationRow) -> None:
        """Play one conversation to its end and record the outcome."""
        conv = ConversationRef(row.id, row.attacker, row.defender, row.idx, row.seed)
        opaque = f"{row.seed:016x}"
        self.writer.add(StartOp(row.id, self.tid, time.time()))
        self.reporter.conversation_started(conv)
        messages = History()
        status, reason, detail, ended_by = "complete", None, None, "max_pairs"
        deadline_ms = int(self.config.timeout * 1000)
        try:
            for turn in range(2 * self.config.max_pairs):
                if self.control.paused:
                    await self.control.gate()
                if self.control.pace:
                    await asyncio.sleep(self.control.delay(row.seed, turn))
                side = "attacker" if turn % 2 == 0 else "defender"
                bot_name = row.attacker if side == "attacker" else row.defender
                request = {
                    "type": "turn",
                    "id": f"{opaque}-t{turn}",
                    "conversation": opaque,
                    "side": side,
                    "turn": turn,
                    "seed": row.seed,
                    "deadline_ms": deadline_ms,
                    "messages": messages,
                }
                self.requests[request["id"]] = (conv, turn)
                try:
                    reply = await self.bots[bot_name].ask(request, self.config.timeout)
                except BotFailure as exc:
                    status, reason, detail = "incomplete", exc.reason, f"turn {turn} ({bot_name}): {exc.detail}"
                    if exc.reason != UNAVAILABLE:
                        self._failed(bot_name, exc)
                    break
                finally:
                    self.requests.pop(request["id"], None)
                self.replies += 1
                stats = self.stats[bot_name]
                stats.replies += 1
                stats.latencies.append(reply.latency)
                used = reply.prompt_tokens is not None or reply.completion_tokens is not None
                if used:
                    stats.count_tokens(reply.prompt_tokens, reply.completion_tokens)
                if bot_name in self.budgets:
                    self.spent[bot_name] = self.spent.get(bot_name, 0) + (reply.prompt_tokens or 0) + (reply.completion_tokens or 0)
                if reply.end and not reply.content:
                    ended_by = "attacker"
                    break
                messages = messages.plus(side, reply.content)
                self.writer.ops.append(TurnOp(row.id, turn, side, reply.content, reply.latency, time.time(),
                                              reply.prompt_tokens, reply.completion_tokens, reply.finish_reason,
                                              reply.technique, reply.converters))
                self.reporter.turn(conv, turn, side, reply.content, reply.latency)
                if used:
                    self.reporter.usage(conv, turn, side, reply.prompt_tokens, reply.completion_tokens)
                if reply.end:
                    ended_by = "attacker"
                    break
            if status == "complete" and not any(m["role"] == "defender" for m in messages):
                status, reason, detail = "incomplete", NO_EXCHANGE, "the attacker ended the conversation before any defender turn"
        except asyncio.CancelledError:
            status, reason, detail = "incomplete", INTERRUPTED, "the run was stopped"
            self._finish(row, conv, status, reason, detail, None, len(messages))
            raise
        self.played += 1
        self._finish(row, conv, status, reason, detail, ended_by if status == "complete" else None, len(messages))

    def _finish(self, row: ConversationRow, conv: ConversationRef, status: str, reason: str | None,
                detail: str | None, ended_by: str | None, n_turns: int) -> None:
        self.writer.add(FinishOp(row.id, self.tid, status, reason, detail, ended_by, n_turns, time.time()))
        self.reporter.conversation_finished(conv, status, reason, detail)


def _prepare(config: TournamentConfig, store: Store, resume: bool, retry_incomplete: bool) -> tuple[int, bool]:
    """Create the tournament in the store, or check it can be resumed. Returns (id, resumed)."""
    existing = store.tournament(config.name)
    if existing is not None:
        if not resume:
            raise RunError(
                f"tournament {config.name!r} is already in {store.path}; "
                "use --resume to continue it, or another --db"
            )
        if existing.fingerprint != config.fingerprint():
            raise RunError(
                f"tournament {config.name!r} in {store.path} was started with a different config "
                "(bots, seed, size or pairs changed); it cannot be resumed with this one"
            )
        store.reset_unfinished(existing.id, retry_incomplete=retry_incomplete)
        return existing.id, True
    seeds = {
        (a.name, d.name): [conversation_seed(config.seed, a.name, d.name, i) for i in range(config.conversations_per_matchup)]
        for a in config.attackers
        for d in config.defenders
    }
    tid = store.create_tournament(
        name=config.name,
        kind=config.kind,
        fingerprint=config.fingerprint(),
        seed=config.seed,
        conversations_per_matchup=config.conversations_per_matchup,
        max_pairs=config.max_pairs,
        settings=TournamentSettings(evaluation=config.evaluation, timeout=config.timeout),
        bots=[(b.name, b.side, b.kind, b.describe()) for b in config.bots],
        conversation_seeds=seeds,
    )
    return tid, False


async def run_tournament(
    config: TournamentConfig,
    store: Store,
    reporter: Reporter | None = None,
    *,
    resume: bool = False,
    retry_incomplete: bool = False,
    control: RunControl | None = None,
    log_dir: Path | None = None,
) -> RunSummary:
    """Play a tournament (or the unfinished rest of it) into `store`.

    Raises `RunError` before anything is written if the tournament cannot be run.
    """
    reporter = reporter or NullReporter()
    control = control or RunControl()
    tid, resumed = _prepare(config, store, resume, retry_incomplete)
    if log_dir is None:
        log_dir = log_dir_for(store.path, config.name)
    run = _Run(config, store, tid, reporter, control, log_dir)
    pending = store.pending_conversations(tid)
    counts = store.status_counts(tid)
    planned = sum(counts.values())
    reporter.tournament_started(
        TournamentInfo(
            id=tid,
            name=config.name,
            kind=config.kind,
            attackers=tuple(b.name for b in config.attackers),
            defenders=tuple(b.name for b in config.defenders),
            planned=planned,
            already_done=planned - len(pending),
            to_play=len(pending),
            resumed=resumed,
        )
    )
    store.set_tournament_status(tid, "running")
    started = time.perf_counter()
    run.writer.start()
    tasks: set[asyncio.Task[None]] = set()

    def cancel_all() -> None:
        for task in list(tasks):
            task.cancel()

    control.on_stop(cancel_all)
    try:
        await run.start_bots()
        queue = iter(pending)

        async def worker() -> None:
            for row in queue:
                if control.stop_requested:
                    return
                await control.gate()
                if control.stop_requested:
                    return
                if run.budgets and run.over_budget(row):
                    continue
                await run.play(row)

        for _ in range(min(config.concurrency, max(1, len(pending)))):
            task = asyncio.create_task(worker())
            tasks.add(task)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                raise result
    finally:
        control.forget(cancel_all)
        await run.close_bots()
        await run.writer.close()
    counts = store.status_counts(tid)
    stopped = control.stop_requested
    store.set_tournament_status(tid, "stopped" if stopped or run.left_pending else "finished")
    summary = RunSummary(
        tournament_id=tid,
        name=config.name,
        planned=planned,
        complete=counts["complete"],
        incomplete=counts["incomplete"],
        pending=counts["pending"] + counts["running"],
        incomplete_reasons=store.incomplete_reasons(tid),
        played_now=run.played,
        replies=run.replies,
        elapsed=time.perf_counter() - started,
        stopped=stopped,
        bots=run.stats,
        budget_spent=tuple(run.budget_spent),
        store_cpu=run.writer.cpu_seconds,
    )
    reporter.tournament_finished(summary)
    return summary
