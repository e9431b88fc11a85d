"""What the bot sandbox (bubblewrap, core.tournament.isolation) costs, against today's
launch without it, measured in the same run, interleaved (A B A B ...).

1. Start-up: start one bot instance and take its handshake, then stop it; a `python`
   bot (the sample's DirectAttacker, hosted) and a `command` bot (benchmarks/instant_bot.py).
2. Per turn: round trips of one turn request each, one at a time, on a running bot.
3. The sample tournament (`arena-tui run`, 5 x 5 bots, 10 conversations per matchup):
   wall time and CPU time (the arena and every process it started). Goal: the sandboxed
   run at most 10 % slower.

Wall times are medians; CPU is user + system of this process and its reaped children.
The machine may be shared: read the ratios, run it twice.

Usage: python benchmarks/bench_sandbox.py [--starts 10] [--turns 300] [--runs 3] [--conversations 10]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from core.tournament import isolation  # noqa: E402
from core.tournament.bots import make_bot  # noqa: E402
from core.tournament.config import load_config  # noqa: E402

MODES = ("off", "auto")  # today's launch, then the sandbox


def cpu_now() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def specs():  # noqa: ANN201
    sample = load_config(ROOT / "sample_data" / "tournament.toml")
    python_bot = dataclasses.replace(sample.attackers[0], env={"SAMPLE_THINK_MS": "0"})
    command_bot = dataclasses.replace(python_bot, name="instant", kind="command", python="",
                                      command=(sys.executable, str(HERE / "instant_bot.py")), folder=None)
    return {"python": python_bot, "command": command_bot}


async def start_once(spec) -> tuple[float, float, float]:  # noqa: ANN001
    """(seconds to the handshake, seconds to stopped, CPU seconds)."""
    cpu = cpu_now()
    started = time.perf_counter()
    bot = make_bot(spec, None, handshake_timeout=30)
    await bot.start()
    ready = time.perf_counter() - started
    await bot.close()
    return ready, time.perf_counter() - started, cpu_now() - cpu


async def turns(spec, n: int) -> tuple[float, float]:  # noqa: ANN001
    """(median seconds per round trip, CPU seconds per turn) over n sequential turns."""
    bot = make_bot(spec, None, handshake_timeout=30)
    await bot.start()
    times = []
    cpu = cpu_now()
    try:
        for i in range(n):
            request = {"type": "turn", "id": f"t{i}", "conversation": "c", "side": spec.side, "turn": 0,
                       "seed": i, "deadline_ms": 30000, "messages": []}
            started = time.perf_counter()
            await bot.ask(request, 30)
            times.append(time.perf_counter() - started)
    finally:
        spent = cpu_now() - cpu
        await bot.close()
    return statistics.median(times), spent / n


def sample_copy(folder: Path, mode: str) -> Path:
    """The bundled sample tournament, with isolation = MODE (a copy: the bots' paths
    are relative to the config)."""
    target = folder / f"sample-{mode}"
    shutil.copytree(ROOT / "sample_data", target)
    config = target / "tournament.toml"
    text = config.read_text()
    config.write_text(text.replace('kind = "practice"\n', f'kind = "practice"\nisolation = "{mode}"\n', 1))
    return config


def run_sample(config: Path, db: Path, conversations: int) -> tuple[float, float]:
    cpu = cpu_now()
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "arena_tui.cli", "run", str(config), "--db", str(db), "-q",
                    "--conversations", str(conversations)], check=True, capture_output=True)
    return time.perf_counter() - started, cpu_now() - cpu


def ratio_line(label: str, base: float, sandboxed: float, unit: str = "ms", scale: float = 1000) -> str:
    return (f"{label:<34} today {base * scale:9.1f} {unit}   sandbox {sandboxed * scale:9.1f} {unit}   "
            f"ratio {sandboxed / base:5.2f}  (+{(sandboxed - base) * scale:.1f} {unit})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=10)
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--conversations", type=int, default=10)
    args = parser.parse_args()
    status = isolation.status()
    if not status.available:
        sys.exit(f"the sandbox cannot run here: {status.why}")
    print(f"sandbox: {status.bwrap} ({'root: a user per instance' if status.root else 'user namespace'})")
    bots = specs()

    print(f"\n1. start-up: start + handshake, then stop (median of {args.starts}, interleaved)")
    for kind, spec in bots.items():
        found: dict[str, list[tuple[float, float, float]]] = {m: [] for m in MODES}
        for _ in range(args.starts):
            for mode in MODES:
                found[mode].append(asyncio.run(start_once(dataclasses.replace(spec, isolation=mode))))
        for index, what in ((0, "to handshake"), (1, "start + stop")):
            base, box = (statistics.median(r[index] for r in found[m]) for m in MODES)
            print(ratio_line(f"{kind} bot, {what}", base, box))
        base, box = (statistics.median(r[2] for r in found[m]) for m in MODES)
        print(ratio_line(f"{kind} bot, CPU per start", base, box))

    print(f"\n2. per turn: {args.turns} sequential round trips (two blocks per mode, interleaved)")
    for kind, spec in bots.items():
        per: dict[str, list[tuple[float, float]]] = {m: [] for m in MODES}
        for _ in range(2):
            for mode in MODES:
                per[mode].append(asyncio.run(turns(dataclasses.replace(spec, isolation=mode), args.turns)))
        base, box = (statistics.median(r[0] for r in per[m]) for m in MODES)
        print(ratio_line(f"{kind} bot, round trip", base, box, "us", 1e6))
        base, box = (statistics.median(r[1] for r in per[m]) for m in MODES)
        print(ratio_line(f"{kind} bot, CPU per turn", base, box, "us", 1e6))

    print(f"\n3. the sample tournament ({args.conversations} conversations per matchup), "
          f"{args.runs} runs per mode, interleaved")
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as tmp:
        folder = Path(tmp)
        configs = {mode: sample_copy(folder, mode) for mode in MODES}
        results: dict[str, list[tuple[float, float]]] = {m: [] for m in MODES}
        for i in range(args.runs):
            for mode in MODES:
                results[mode].append(run_sample(configs[mode], folder / f"{mode}-{i}.db", args.conversations))
        base, box = (statistics.median(r[0] for r in results[m]) for m in MODES)
        print(ratio_line("sample tournament, wall", base, box, "s", 1))
        wall_ratio = box / base
        base, box = (statistics.median(r[1] for r in results[m]) for m in MODES)
        print(ratio_line("sample tournament, CPU", base, box, "s", 1))
    verdict = "meets" if wall_ratio <= 1.10 else "misses"
    print(f"\nsandboxed sample tournament: {100 * (wall_ratio - 1):+.1f} % wall time; {verdict} the goal (<= +10 %)")


if __name__ == "__main__":
    main()
