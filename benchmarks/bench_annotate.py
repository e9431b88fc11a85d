"""Annotate queue at scale: the virtual queue against a plain DataTable, in the same run.

Builds (or reuses) a store of N conversations with `build_annotate_store.py`, then, each
in a fresh interpreter so peak RSS is its own:

- virtual: `arena-tui annotate`'s app (queue only, then with the live panes), headless at 120×40: time from building the app
  to a drawn queue with the first transcript open, peak RSS, and the time `n` takes to
  open the next transcript (median of 30). With the live panes, the transcripts are
  stepped through and RSS read only once both panes (agreement, leaderboard) have
  computed from the store and their figures have been drawn: the peak includes their
  computation. Goal: peak RSS <= 85 MB on 100,000 conversations.
- datatable: the baseline the issue names: the same queue lines (id, matchup, status)
  read from the store and added to a plain `DataTable`, time to a drawn table, peak RSS.

    python benchmarks/bench_annotate.py [--conversations 100000] [--store PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Transcripts opened with `n` for the next-transcript figure: enough for a stable median.
NEXT_SAMPLES = 30


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB.

    Linux's VmHWM, which starts afresh at exec; `ru_maxrss` would carry over the peak of
    the parent that forked this measurement (e.g. after it built the store).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_now_mb() -> float:
    """This process's resident set size now, in MB (VmRSS)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def _until(pilot, done) -> None:  # noqa: ANN001
    while not done():
        await pilot.pause()


async def measure_virtual(store: Path, panes: bool = True) -> dict:
    """Open time, RSS and next-transcript time of the annotate app (optionally with the
    live panes kept idle, to see the queue's own cost)."""
    from arena_tui.cli.labelling import make_annotate_app
    from arena_tui.common.live_pane import LivePane

    if not panes:
        LivePane.poll = lambda self: None  # type: ignore[method-assign]
    from arena_tui.annotate.widgets.transcript_view import TranscriptView

    start = time.perf_counter()
    app = make_annotate_app(store, "alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await _until(pilot, lambda: getattr(app.screen, "queue_ready", False)
                     and app.screen.loaded_id is not None and app.screen.loaded_id == app.screen.current_id)
        await pilot.pause()
        opened = time.perf_counter() - start
        screen = app.screen
        panes_s = None
        if panes:
            # RSS counts only once every live pane has computed from the store and its
            # result has been drawn on screen (not just scheduled).
            live = list(screen.query(LivePane))
            drawn_panes: set[int] = set()
            await _until(pilot, lambda: all(p.updates >= 1 for p in live))
            for pane in live:
                pane.call_after_refresh(lambda pane=pane: drawn_panes.add(id(pane)))
            await _until(pilot, lambda: len(drawn_panes) == len(live))
            await pilot.pause()
            panes_s = time.perf_counter() - start
            if not live or not all(p.region.area for p in live):
                raise SystemExit("the live panes are not on screen")
        view = screen.query_one(TranscriptView)
        drawn: list[float] = []
        show = view.show

        def timed_show(*args: object) -> None:
            show(*args)
            view.call_after_refresh(lambda: drawn.append(time.perf_counter()))

        view.show = timed_show
        times = []
        for _ in range(NEXT_SAMPLES):
            before, count = screen.current_id, len(drawn)
            # From the `n` action to the next transcript drawn on screen (the pilot's own
            # key-press overhead is not part of what an annotator waits for).
            tick = time.perf_counter()
            screen.action_step(1)
            await _until(pilot, lambda before=before, count=count: screen.current_id != before and len(drawn) > count)
            times.append(drawn[-1] - tick)
        return {"open_s": opened, "rss_mb": peak_rss_mb(), "next_ms": statistics.median(times) * 1000,
                "rows": len(screen.queue.conversation_ids), "panes_s": panes_s, "rss_now_mb": rss_now_mb(),
                "panes_updates": [p.updates for p in screen.query(LivePane)] if panes else None}


async def measure_datatable(store: Path) -> dict:
    """Open time and RSS of a plain DataTable holding every queue line."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from core.store import Store
    from core.store.annotate import QUEUE_DONE, QUEUE_TO_DO

    words = {QUEUE_TO_DO: "to do", QUEUE_DONE: "done"}

    class Baseline(App):
        def compose(self) -> ComposeResult:
            yield DataTable(cursor_type="row")

        def on_mount(self) -> None:
            with Store.open(store, create=False) as db:
                ids, statuses = db.annotator_queue_ids("alice")
                rows = db.queue_rows(ids, "alice")
            table = self.query_one(DataTable)
            table.add_columns("#", "matchup", "status")
            for cid, status in zip(ids, statuses, strict=True):
                row = rows[cid]
                table.add_row(str(cid), f"{row.attacker} vs {row.defender}", words.get(status, "disputed"), key=str(cid))
            self.loaded = True

    start = time.perf_counter()
    app = Baseline()
    async with app.run_test(size=(120, 40)) as pilot:
        await _until(pilot, lambda: getattr(app, "loaded", False))
        await pilot.pause()
        opened = time.perf_counter() - start
        return {"open_s": opened, "rss_mb": peak_rss_mb(), "rows": app.query_one(DataTable).row_count}


def child(kind: str, store: Path) -> None:
    """Run one measurement in this interpreter and print it as JSON."""
    if kind == "datatable":
        result = asyncio.run(measure_datatable(store))
    else:
        result = asyncio.run(measure_virtual(store, panes=kind == "virtual"))
    print(json.dumps(result))


def run_child(kind: str, store: Path) -> dict:
    """One measurement in a fresh interpreter."""
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--store", str(store)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Build the store if needed, measure both, print the figures and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--store", type=Path)
    parser.add_argument("--child", choices=["virtual", "queue-only", "datatable"])
    args = parser.parse_args()
    if args.child:
        child(args.child, args.store)
        return
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or Path(tmp) / "bench.db"
        if not store.exists():
            from benchmarks.build_annotate_store import build

            tick = time.perf_counter()
            build(store, args.conversations)
            print(f"built a store of {args.conversations:,} conversations in {time.perf_counter() - tick:.1f} s")
        virtual = run_child("queue-only", store)
        with_panes = run_child("virtual", store)
        baseline = run_child("datatable", store)
    print(f"queue of {virtual['rows']:,} conversations (annotator alice)")
    print(f"virtual queue : open {virtual['open_s']:.2f} s, peak RSS {virtual['rss_mb']:.0f} MB,"
          f" next transcript {virtual['next_ms']:.1f} ms (median of {NEXT_SAMPLES})")
    print(f"  + live panes: open {with_panes['open_s']:.2f} s, panes drawn at {with_panes['panes_s']:.2f} s,"
          f" peak RSS {with_panes['rss_mb']:.0f} MB (RSS now {with_panes['rss_now_mb']:.0f} MB),"
          f" next transcript {with_panes['next_ms']:.1f} ms (goal: peak RSS <= 85 MB)")
    print(f"plain DataTable: open {baseline['open_s']:.2f} s, peak RSS {baseline['rss_mb']:.0f} MB")
    print(f"ratio (DataTable / virtual): open {baseline['open_s'] / virtual['open_s']:.1f}x,"
          f" RSS {baseline['rss_mb'] / virtual['rss_mb']:.1f}x")


if __name__ == "__main__":
    main()
