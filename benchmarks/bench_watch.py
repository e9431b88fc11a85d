"""Does watching slow a tournament down? The same tournament headless and under `watch`, in one run.

Arena: 5 attackers × 5 defenders (instant bots, benchmarks/instant_bot.py) × N conversations
× 5 adjacency pairs. Headless: `run_tournament` with no reporter. Watched: the same config
run in-process by the watch app (headless Textual via `run_test`, 140×45), with the
follower polling the store, the live static stage and the panes redrawing. Each run goes
into a fresh store. The ratio watched/headless of replies per second is the cost of
watching. Goal: >= 0.95.

Each run also prints its CPU time per reply, of this process (orchestrator, store writer,
and for the watched run the app, its follower and redraws) and of the children (bots,
and the live static stage's passes), and the ratio headless/watched of total CPU per
reply: what the throughput ratio would be if the machine were CPU-bound, and the figure to
trust when the machine is loaded (wall times then measure the other jobs as well).

Usage: python benchmarks/bench_watch.py [--conversations 200] [--concurrency 250] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_orchestrator import write_config  # noqa: E402

from arena_tui.cli.running import make_watch_app  # noqa: E402
from core.store import Store  # noqa: E402
from core.tournament.config import load_config  # noqa: E402
from core.tournament.orchestrator import run_tournament  # noqa: E402

# Upper bound on pilot pauses while waiting for the watched run (a safety net).
MAX_WAITS = 100_000


async def headless(config_path: Path, db: Path) -> tuple[int, float]:
    config = load_config(config_path)
    with Store.open(db) as store:
        summary = await run_tournament(config, store)
    return summary.replies, summary.elapsed


async def watched(config_path: Path, db: Path) -> tuple[int, float]:
    app = make_watch_app(str(config_path), db)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        for _ in range(MAX_WAITS):
            if screen.last_summary is not None or screen.run_state in ("finished", "failed"):
                break
            # A plain sleep, not `pilot.pause`: the pilot's pause waits for every widget's
            # message queue, work no one watching the screen would cause.
            await asyncio.sleep(0.05)
        summary = screen.last_summary
        assert summary is not None, screen.run_error
        await pilot.press("q")
    app.run_spec.store.close()
    return summary.replies, summary.elapsed


def cpu_now() -> tuple[float, float]:
    """(CPU seconds of this process, of its reaped children)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time(), children.ru_utime + children.ru_stime


def measured(label: str, run) -> tuple[float, float]:  # noqa: ANN001
    """Run one side; print it; return (replies per second, total CPU µs per reply)."""
    here, kids = cpu_now()
    n, s = asyncio.run(run)
    here2, kids2 = cpu_now()
    own, child = (here2 - here) / n * 1e6, (kids2 - kids) / n * 1e6
    print(f"{label}: {n} replies in {s:.2f}s = {n / s:,.0f} replies/s; CPU per reply {own:.0f} µs here + {child:.0f} µs in children",
          flush=True)
    return n / s, own + child


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200, help="conversations per matchup (200: the paper's size)")
    parser.add_argument("--concurrency", type=int, default=250, help="conversations in flight")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each (best of)")
    args = parser.parse_args()
    best_headless = best_watched = 0.0
    ratios, cpu_ratios = [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = write_config(folder, args.conversations, args.concurrency)
        for i in range(args.rounds):
            rate_headless, cpu_headless = measured("headless", headless(config, folder / f"headless{i}.db"))
            rate_watched, cpu_watched = measured("watched ", watched(config, folder / f"watched{i}.db"))
            best_headless, best_watched = max(best_headless, rate_headless), max(best_watched, rate_watched)
            ratios.append(rate_watched / rate_headless)
            cpu_ratios.append(cpu_headless / cpu_watched)
    print(f"ratio watched/headless, best of {args.rounds} each: {best_watched / best_headless:.2f}; "
          f"median of the rounds' ratios: {statistics.median(ratios):.2f} (goal >= 0.95)")
    print(f"CPU per reply, headless/watched (median of the rounds): {statistics.median(cpu_ratios):.2f}")


if __name__ == "__main__":
    main()
