"""Orchestrator throughput at the paper's size, against the raw limit measured in the same run.

Arena: 5 attackers × 5 defenders (instant bots, one process each) × 200 conversations ×
5 adjacency pairs = 50,000 bot replies, every turn stored in SQLite (WAL, FTS index).

Raw limit: the same 10 child processes (the same instant bot script), the same number of
conversations in flight, the same request sizes (each request carries the conversation so
far, as the protocol does), but nothing else: requests pre-encoded, replies matched by id,
nothing validated or stored. The ratio arena/raw says how much the orchestrator and the
store cost. Goal: >= 0.25.

Usage: python benchmarks/bench_orchestrator.py [--conversations 200] [--concurrency 250]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from core.store import Store  # noqa: E402
from core.tournament.config import load_config  # noqa: E402
from core.tournament.orchestrator import run_tournament  # noqa: E402

sys.path.insert(0, str(HERE))
from instant_bot import reply_text  # noqa: E402

N_SIDE = 5
PAIRS = 5


def write_config(folder: Path, conversations: int, concurrency: int) -> Path:
    bot = HERE / "instant_bot.py"
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


async def arena(config_path: Path, db: Path) -> tuple[int, float]:
    config = load_config(config_path)
    with Store.open(db) as store:
        started = time.perf_counter()
        summary = await run_tournament(config, store)
        elapsed = time.perf_counter() - started
        stored = store.conn.execute("SELECT COUNT(*) FROM turns").fetchone()[0]
    assert stored == summary.replies, (stored, summary.replies)
    return summary.replies, elapsed


async def raw_limit(conversations: int, concurrency: int) -> tuple[int, float]:
    procs = []
    for _ in range(2 * N_SIDE):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(HERE / "instant_bot.py"),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=1 << 22,
        )
        proc.stdin.write(b'{"type": "hello", "protocol": 1}\n')
        await proc.stdin.drain()
        await proc.stdout.readline()
        procs.append(proc)
    pending: dict[str, asyncio.Future] = {}

    async def reader(proc) -> None:  # noqa: ANN001
        while line := await proc.stdout.readline():
            message = json.loads(line)
            pending.pop(message["id"]).set_result(message["content"])

    readers = [asyncio.create_task(reader(p)) for p in procs]
    grid = [(a, d, i) for i in range(conversations) for a in range(N_SIDE) for d in range(N_SIDE)]
    queue = iter(grid)
    loop = asyncio.get_running_loop()
    replies = 0

    async def conversation(a: int, d: int, i: int) -> None:
        nonlocal replies
        seed = a * 1_000_003 + d * 10_007 + i
        history: list[dict[str, str]] = []
        for turn in range(2 * PAIRS):
            proc = procs[a] if turn % 2 == 0 else procs[N_SIDE + d]
            rid = f"{seed:x}-t{turn}"
            request = {"type": "turn", "id": rid, "conversation": f"{seed:x}", "side": "attacker" if turn % 2 == 0 else "defender",
                       "turn": turn, "seed": seed, "deadline_ms": 60000, "messages": history}
            future = loop.create_future()
            pending[rid] = future
            proc.stdin.write((json.dumps(request) + "\n").encode())
            content = await future
            history = [*history, {"role": request["side"], "content": content}]
            replies += 1

    async def worker() -> None:
        for a, d, i in queue:
            await conversation(a, d, i)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    for proc in procs:
        proc.stdin.close()
        await proc.wait()
    for task in readers:
        task.cancel()
    return replies, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200, help="conversations per matchup (paper: 200)")
    parser.add_argument("--concurrency", type=int, default=250, help="conversations in flight")
    args = parser.parse_args()
    assert len(reply_text(1, 2)) == 300
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = write_config(folder, args.conversations, args.concurrency)
        raw_n, raw_s = asyncio.run(raw_limit(args.conversations, args.concurrency))
        arena_n, arena_s = asyncio.run(arena(config, folder / "bench.db"))
    raw_rate, arena_rate = raw_n / raw_s, arena_n / arena_s
    print(f"raw limit (pipes + asyncio, no store): {raw_n} replies in {raw_s:.2f}s = {raw_rate:,.0f} replies/s")
    print(f"arena (orchestrator + SQLite store):   {arena_n} replies in {arena_s:.2f}s = {arena_rate:,.0f} replies/s")
    print(f"ratio arena/raw: {arena_rate / raw_rate:.2f} (goal >= 0.25)")


if __name__ == "__main__":
    main()
