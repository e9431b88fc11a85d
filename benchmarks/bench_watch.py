"""Does watching slow a tournament down? The same tournament headless and under `watch`, in one run.

Arena: 5 attackers × 5 defenders (instant bots, benchmarks/instant_bot.py) × N conversations
× 5 adjacency pairs. Headless: `run_tournament` with no reporter. Watched: the same config
run in-process by the watch app (headless Textual via `run_test`, 140×45), with the
follower polling the store, the live static stage and the panes redrawing. Each run goes
into a fresh store. The ratio watched/headless of replies per second is the cost of
watching. Goal: >= 0.9.

Usage: python benchmarks/bench_watch.py [--conversations 200] [--concurrency 250] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200, help="conversations per matchup (200: the paper's size)")
    parser.add_argument("--concurrency", type=int, default=250, help="conversations in flight")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each (best of)")
    args = parser.parse_args()
    best_headless = best_watched = 0.0
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = write_config(folder, args.conversations, args.concurrency)
        for i in range(args.rounds):
            n, s = asyncio.run(headless(config, folder / f"headless{i}.db"))
            rate_headless = n / s
            print(f"headless: {n} replies in {s:.2f}s = {rate_headless:,.0f} replies/s")
            n, s = asyncio.run(watched(config, folder / f"watched{i}.db"))
            rate_watched = n / s
            print(f"watched:  {n} replies in {s:.2f}s = {rate_watched:,.0f} replies/s")
            best_headless, best_watched = max(best_headless, rate_headless), max(best_watched, rate_watched)
            ratios.append(rate_watched / rate_headless)
    print(f"ratio watched/headless, best of {args.rounds} each: {best_watched / best_headless:.2f}; "
          f"median of the rounds' ratios: {statistics.median(ratios):.2f} (goal >= 0.9)")


if __name__ == "__main__":
    main()
