"""Orchestrator throughput at the paper's size, against the raw pipe limit measured in the same run.

Arena: 5 attackers × 5 defenders × 200 conversations × 5 adjacency pairs = 50,000 bot
replies, 64 conversations in flight, every turn stored in SQLite (WAL, full-text index).
The bots are minimal echo children (benchmarks/echo_child.py: one process each, every
reply the same 300 bytes), so nearly all the CPU is the orchestrator's and the store's.

Raw limit: JSON lines between asyncio and the same minimal echo children, nothing else:
the same 10 children, 64 requests in flight, the same requests (each carries the
conversation so far, as the protocol does), encoded with `json.dumps`, replies decoded
with `json.loads` and matched to a future by id; nothing validated, supervised or stored.

Both are timed from "every child answered its hello" to "every reply received (and, for
the arena, stored)", in alternating rounds, and each prints wall time, the CPU time of
this process (the orchestrator with its store-writer thread; for the arena, split into
the event loop with the bots' handling and the store's writes) and of the children. The
ratio arena/raw of replies per second says what the orchestrator and the store cost;
goals: ratio >= 0.25 and <= 30 µs of this process's CPU per turn.

Usage: python benchmarks/bench_orchestrator.py [--conversations 200] [--concurrency 64] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from core.store import Store  # noqa: E402
from core.tournament.config import load_config  # noqa: E402
from core.tournament.orchestrator import run_tournament  # noqa: E402
from core.tournament.reporter import NullReporter  # noqa: E402

N_SIDE = 5
PAIRS = 5
ECHO_CHILD = HERE / "echo_child.py"
INSTANT_BOT = HERE / "instant_bot.py"


def write_config(folder: Path, conversations: int, concurrency: int, bot: Path = INSTANT_BOT) -> Path:
    """A benchmark tournament: 5 × 5 bots running `bot`, `conversations` per matchup."""
    lines = [
        'name = "bench"',
        f"conversations_per_matchup = {conversations}",
        f"max_pairs = {PAIRS}",
        f"concurrency = {concurrency}",
        "timeout = 60",
    ]
    for side in ("attackers", "defenders"):
        for i in range(N_SIDE):
            lines += [f"[[{side}]]", f'name = "{side[0]}{i}"', f'command = ["{sys.executable}", "{bot}"]']
    path = folder / "bench.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class Measure:
    """One timed phase: replies, wall seconds, CPU seconds of this process and of its children."""

    replies: int
    wall: float
    cpu: float
    child_cpu: float
    # Of `cpu`, what the store writes took (the arena's store-writer thread); None: no store.
    store_cpu: float | None = None

    @property
    def rate(self) -> float:
        return self.replies / self.wall

    def us(self, seconds: float) -> float:
        """CPU seconds as µs per turn."""
        return seconds / self.replies * 1e6

    def line(self, label: str) -> str:
        split = ""
        if self.store_cpu is not None:
            split = f" = {self.us(self.cpu - self.store_cpu):.1f} event loop and bots + {self.us(self.store_cpu):.1f} store"
        return (f"{label}: {self.replies} replies in {self.wall:.2f}s wall = {self.rate:,.0f} replies/s; "
                f"CPU {self.cpu:.2f}s here ({self.us(self.cpu):.1f} µs/turn{split}), "
                f"{self.child_cpu:.2f}s in the children")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class _Clock:
    """Starts the clock when the first conversation starts (every bot has said hello)."""

    def __init__(self) -> None:
        self.wall = self.cpu = self.child = 0.0
        self.started = False

    def start(self) -> None:
        if not self.started:
            self.started = True
            self.wall, self.cpu, self.child = time.perf_counter(), time.process_time(), children_cpu()

    def stop(self, replies: int) -> Measure:
        return Measure(replies, time.perf_counter() - self.wall, time.process_time() - self.cpu,
                       children_cpu() - self.child)


class _StartReporter(NullReporter):
    def __init__(self, clock: _Clock) -> None:
        self.clock = clock

    def conversation_started(self, conv) -> None:  # noqa: ANN001
        self.clock.start()


async def arena(config_path: Path, db: Path) -> Measure:
    config = load_config(config_path)
    clock = _Clock()
    with Store.open(db) as store:
        summary = await run_tournament(config, store, _StartReporter(clock))
        measure = clock.stop(summary.replies)
        measure.store_cpu = summary.store_cpu
        stored = store.conn.execute("SELECT COUNT(*) FROM turns").fetchone()[0]
    assert stored == summary.replies == 2 * PAIRS * N_SIDE * N_SIDE * config.conversations_per_matchup, (stored, summary.replies)
    return measure


async def raw_limit(conversations: int, concurrency: int) -> Measure:
    procs = []
    for _ in range(2 * N_SIDE):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(ECHO_CHILD),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=1 << 22,
        )
        proc.stdin.write(b'{"type": "hello", "protocol": 1}\n')
        await proc.stdin.drain()
        await proc.stdout.readline()
        procs.append(proc)
    clock = _Clock()
    clock.start()
    pending: dict[str, asyncio.Future] = {}

    async def reader(proc) -> None:  # noqa: ANN001
        while line := await proc.stdout.readline():
            message = json.loads(line)
            pending.pop(message["id"]).set_result(message["content"])

    readers = [asyncio.create_task(reader(p)) for p in procs]
    queue = iter([(a, d, i) for i in range(conversations) for a in range(N_SIDE) for d in range(N_SIDE)])
    loop = asyncio.get_running_loop()
    replies = 0

    async def conversation(a: int, d: int, i: int) -> None:
        nonlocal replies
        seed = a * 1_000_003 + d * 10_007 + i
        history: list[dict[str, str]] = []
        for turn in range(2 * PAIRS):
            proc = procs[a] if turn % 2 == 0 else procs[N_SIDE + d]
            rid = f"{seed:016x}-t{turn}"
            request = {"type": "turn", "id": rid, "conversation": f"{seed:016x}", "side": "attacker" if turn % 2 == 0 else "defender",
                       "turn": turn, "seed": seed, "deadline_ms": 60000, "messages": history}
            future = loop.create_future()
            pending[rid] = future
            proc.stdin.write(json.dumps(request, ensure_ascii=False).encode() + b"\n")
            content = await future
            history = [*history, {"role": request["side"], "content": content}]
            replies += 1

    async def worker() -> None:
        for a, d, i in queue:
            await conversation(a, d, i)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    for proc in procs:
        proc.stdin.write(b'{"type": "bye"}\n')
        proc.stdin.close()
        await proc.wait()
    measure = clock.stop(replies)
    for task in readers:
        task.cancel()
    return measure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200, help="conversations per matchup (paper: 200)")
    parser.add_argument("--concurrency", type=int, default=64, help="conversations (requests) in flight")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each; medians are reported")
    args = parser.parse_args()
    raws, arenas = [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = write_config(folder, args.conversations, args.concurrency, ECHO_CHILD)
        for i in range(args.rounds):
            raws.append(asyncio.run(raw_limit(args.conversations, args.concurrency)))
            print(raws[-1].line("raw limit (pipes + asyncio, no store)"), flush=True)
            arenas.append(asyncio.run(arena(config, folder / f"bench{i}.db")))
            print(arenas[-1].line("arena (orchestrator + SQLite store)  "), flush=True)
    raw_rate = statistics.median(m.rate for m in raws)
    arena_rate = statistics.median(m.rate for m in arenas)
    raw_us = statistics.median(m.cpu / m.replies * 1e6 for m in raws)
    arena_us = statistics.median(m.cpu / m.replies * 1e6 for m in arenas)
    store_us = statistics.median(m.us(m.store_cpu or 0.0) for m in arenas)
    print(f"medians of {args.rounds}: raw {raw_rate:,.0f} replies/s ({raw_us:.1f} µs CPU/turn), "
          f"arena {arena_rate:,.0f} replies/s ({arena_us:.1f} µs CPU/turn, of which the store {store_us:.1f})")
    print(f"ratio arena/raw: {arena_rate / raw_rate:.2f} (goal >= 0.25); "
          f"arena CPU per turn: {arena_us:.1f} µs (goal <= 30); CPU ratio raw/arena: {raw_us / arena_us:.2f}")


if __name__ == "__main__":
    main()
