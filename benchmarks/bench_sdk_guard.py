"""The SDK's output guard (`arena_sdk.guards.OutputCheck`) vs what a team would write
without it: `bandit` run on each draft reply, same drafts, same run.

A defender checks every draft before sending it, inside the per-response deadline, so
what matters is the time per reply. N synthetic defender replies
(benchmarks/reply_corpus.py, half with a vulnerable pattern) are checked, alternately
and --repeat times, by:

- the guard: a `Defender` with ``guards = [OutputCheck(rounds=0)]`` answering each
  draft through ``respond`` (the bot's whole per-turn path: request parsing, the guard's
  in-process static stage on a worker thread, the reply body);
- the baseline: the draft's code blocks written to a temporary folder and
  ``bandit -q -r DIR -f json`` as a subprocess per reply (its start-up included).

Prints replies/s, CPU time per reply (this process plus its children) and the ratio of
medians, and checks both flag the same replies. Not a test: timings depend on the machine
and its load.

    python benchmarks/bench_sdk_guard.py --replies 60 --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import reply_corpus  # noqa: E402

from arena_sdk import Defender  # noqa: E402
from arena_sdk.guards import DEFAULT_REFUSALS, OutputCheck  # noqa: E402
from core.evaluation.extract import extract_code_blocks  # noqa: E402
from core.evaluation.static import DEFAULT_THRESHOLD  # noqa: E402


def cpu() -> float:
    """CPU seconds of this process and its finished children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def guard_run(drafts: list[str]) -> list[bool]:
    """Each draft through a guarded defender; True where the guard refused it."""
    class Guarded(Defender):
        guards = [OutputCheck(rounds=0)]

        def answer(self, turn):  # noqa: ANN001, ANN202
            return drafts[turn.turn]

    bot = Guarded()
    refusals = {t for options in DEFAULT_REFUSALS.templates.values() for t in options}

    async def go() -> list[bool]:
        out = []
        for index in range(len(drafts)):
            body = await bot.respond({"id": "x", "side": "defender", "turn": index, "seed": 1, "messages": []})
            out.append(body["content"] in refusals)
        return out

    return asyncio.run(go())


def bandit_run(drafts: list[str]) -> list[bool]:
    """`bandit` on each draft's code blocks, one subprocess per draft."""
    flagged = []
    for draft in drafts:
        with tempfile.TemporaryDirectory() as folder:
            for block in extract_code_blocks(draft):
                if block.parsed:
                    (Path(folder) / f"b{block.index}.py").write_text(block.code, encoding="utf-8")
            done = subprocess.run([sys.executable, "-m", "bandit", "-q", "-r", folder, "-f", "json", "--ignore-nosec"],
                                  capture_output=True, text=True)
            results = json.loads(done.stdout or "{}").get("results", [])
        # The default threshold (MEDIUM severity, HIGH confidence, audit tests skipped).
        flagged.append(any(r["issue_severity"] in ("MEDIUM", "HIGH") and r["issue_confidence"] == "HIGH"
                           and r["test_id"] not in DEFAULT_THRESHOLD.skip_tests for r in results))
    return flagged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    drafts = [r.reply for r in reply_corpus.generate(args.replies, seed=7)]
    timings: dict[str, list[tuple[float, float]]] = {"guard": [], "bandit": []}
    outcomes: dict[str, list[bool]] = {}
    for _ in range(args.repeat):
        for name, run in (("guard", guard_run), ("bandit", bandit_run)):
            wall, used = time.perf_counter(), cpu()
            outcomes[name] = run(drafts)
            timings[name].append((time.perf_counter() - wall, cpu() - used))
    n = len(drafts)
    for name, runs in timings.items():
        wall = statistics.median(w for w, _ in runs)
        used = statistics.median(c for _, c in runs)
        print(f"{name:7} {n / wall:8.1f} replies/s   {wall / n * 1000:7.1f} ms/reply wall   "
              f"{used / n * 1000:7.1f} ms/reply CPU")
    ratio = statistics.median(w for w, _ in timings["bandit"]) / statistics.median(w for w, _ in timings["guard"])
    cpu_ratio = statistics.median(c for _, c in timings["bandit"]) / statistics.median(c for _, c in timings["guard"])
    print(f"guard is {ratio:.1f}x faster than bandit per reply (wall), {cpu_ratio:.1f}x (CPU)")
    agree = sum(a == b for a, b in zip(outcomes["guard"], outcomes["bandit"], strict=True))
    print(f"same verdict on {agree}/{n} replies; guard flagged {sum(outcomes['guard'])}, bandit {sum(outcomes['bandit'])}")


if __name__ == "__main__":
    main()
