"""HTTP bots at scale: a tournament of 1,000 conversations in flight against a model server
that answers in 1 s, next to the raw client limit measured in the same run.

Server: tests/openai_stub.py in a process of its own on 127.0.0.1, answering every chat
completion after a fixed delay (1 s), bounded in requests and time (it stops by itself).

Arena: one `http` attacker and one `http` defender on that server (max_in_flight 1,000
each), `--conversations` conversations × `--pairs` adjacency pairs, concurrency =
conversations, every turn stored in SQLite. Run in a child process so its CPU time and
peak RSS are its own.

Raw limit: the same requests (the same growing message lists, the same number of
conversations in flight, each conversation's turns one after another, one connection pool
per side as the arena has one per bot) sent straight from aiohttp, nothing validated or
stored, in a child process too.

Printed per mode (plain JSON, then stream=true with server-sent events): conversations in
flight (peak, as the reporter saw them), requests in flight at the server (peak),
replies/s, the ratio arena/raw, the arena's CPU seconds and peak RSS.
Goal: >= 1,000 conversations in flight, ratio >= 0.8.

Usage: python benchmarks/bench_http.py [--conversations 1000] [--pairs 2] [--delay 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))


def start_stub(delay: float, max_requests: int, max_seconds: float) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "openai_stub.py"), "--delay", str(delay),
         "--max-requests", str(max_requests), "--max-seconds", str(max_seconds)],
        stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    return proc, url


def stop_stub(proc: subprocess.Popen) -> dict:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return {}


def usage() -> tuple[float, float]:
    """CPU seconds (user + system) and peak RSS in MiB of this process."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


# --- child: the arena ---------------------------------------------------------------------


def arena_child(url: str, conversations: int, pairs: int, stream: bool, timeout: float) -> dict:
    from core.store import Store
    from core.tournament.config import load_config
    from core.tournament.orchestrator import run_tournament
    from core.tournament.reporter import NullReporter

    class InFlight(NullReporter):
        def __init__(self) -> None:
            self.now = self.peak = 0

        def conversation_started(self, conv) -> None:  # noqa: ANN001
            self.now += 1
            self.peak = max(self.peak, self.now)

        def conversation_finished(self, conv, status, reason, detail) -> None:  # noqa: ANN001
            self.now -= 1

    folder = Path(tempfile.mkdtemp(prefix="bench-http-"))
    flag = "true" if stream else "false"
    config_path = folder / "t.toml"
    config_path.write_text(f"""
name = "bench-http"
conversations_per_matchup = {conversations}
max_pairs = {pairs}
concurrency = {conversations}
timeout = {timeout}
[[attackers]]
name = "att"
max_in_flight = {conversations}
http = {{ url = "{url}", model = "stub", system_prompt = "attack", stream = {flag}, retries = 0 }}
[[defenders]]
name = "def"
max_in_flight = {conversations}
http = {{ url = "{url}", model = "stub", system_prompt = "defend", stream = {flag}, retries = 0 }}
""", encoding="utf-8")
    reporter = InFlight()
    cpu0, _ = usage()
    with Store.open(folder / "arena.db") as store:
        started = time.perf_counter()
        summary = asyncio.run(run_tournament(load_config(config_path), store, reporter))
        elapsed = time.perf_counter() - started
        stored = len(store.turns_after(0, 10**9))
    cpu1, rss = usage()
    return {"replies": summary.replies, "stored_turns": stored, "complete": summary.complete,
            "incomplete": summary.incomplete_reasons, "elapsed": elapsed, "conversations_peak": reporter.peak,
            "cpu_s": cpu1 - cpu0, "peak_rss_mib": rss}


# --- child: the raw client limit --------------------------------------------------------


def raw_child(url: str, conversations: int, pairs: int, stream: bool, timeout: float) -> dict:
    import aiohttp

    async def main() -> dict:
        now = peak = replies = 0
        # One connection pool per side, as the arena has one per bot (so the same connections
        # are opened: a pool shared by both sides would reuse the attacker's connection for
        # the defender's turn and open half as many).
        timeout_ = aiohttp.ClientTimeout(total=timeout)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conversations, limit_per_host=0),
                                         timeout=timeout_) as attacker, \
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conversations, limit_per_host=0),
                                      timeout=timeout_) as defender:

            async def conversation(i: int) -> None:
                nonlocal now, peak, replies
                now += 1
                peak = max(peak, now)
                history: list[dict[str, str]] = []
                for turn in range(2 * pairs):
                    system = "attack" if turn % 2 == 0 else "defend"
                    body = {"model": "stub", "messages": [{"role": "system", "content": system}, *history], "seed": i + turn}
                    if stream:
                        body["stream"] = True
                    session = attacker if turn % 2 == 0 else defender
                    async with session.post(url + "/chat/completions", json=body) as resp:
                        raw = await resp.read()
                    if stream:
                        text = "".join(json.loads(line[5:])["choices"][0]["delta"].get("content") or ""
                                       for line in raw.decode().splitlines()
                                       if line.startswith("data:") and line[5:].strip() != "[DONE]"
                                       and json.loads(line[5:])["choices"])
                    else:
                        text = json.loads(raw)["choices"][0]["message"]["content"]
                    history.append({"role": "user" if turn % 2 == 0 else "assistant", "content": text})
                    replies += 1
                now -= 1

            started = time.perf_counter()
            await asyncio.gather(*(conversation(i) for i in range(conversations)))
            return {"replies": replies, "elapsed": time.perf_counter() - started, "conversations_peak": peak}

    cpu0, _ = usage()
    out = asyncio.run(main())
    cpu1, rss = usage()
    out.update(cpu_s=cpu1 - cpu0, peak_rss_mib=rss)
    return out


def child(kind: str, url: str, args: argparse.Namespace, stream: bool) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--url", url, "--conversations", str(args.conversations),
         "--pairs", str(args.pairs), "--timeout", str(args.timeout)] + (["--stream"] if stream else []),
        capture_output=True, text=True, timeout=600,
    )
    if result.returncode != 0:
        raise SystemExit(f"{kind} child failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(kind: str, args: argparse.Namespace, stream: bool) -> dict:
    requests = args.conversations * args.pairs * 2
    stub, url = start_stub(args.delay, requests + 10, 300)
    try:
        out = child(kind, url, args, stream)
    finally:
        stop_stub(stub)
    out["replies_per_s"] = out["replies"] / out["elapsed"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--child", choices=("arena", "raw"))
    parser.add_argument("--url")
    parser.add_argument("--stream", action="store_true")
    args = parser.parse_args()
    if args.child:
        run = arena_child if args.child == "arena" else raw_child
        print(json.dumps(run(args.url, args.conversations, args.pairs, args.stream, args.timeout)))
        return
    print(f"{args.conversations} conversations x {args.pairs} pairs against a {args.delay:g} s server "
          f"({args.conversations * args.pairs * 2} replies); machine: {__import__('os').cpu_count()} cores")
    for stream in (False, True):
        raw = measure("raw", args, stream)
        arena = measure("arena", args, stream)
        ratio = arena["replies_per_s"] / raw["replies_per_s"]
        label = "stream=true " if stream else "stream=false"
        print(f"{label} raw:   {raw['replies']} replies in {raw['elapsed']:.2f}s = {raw['replies_per_s']:.0f}/s, "
              f"{raw['conversations_peak']} conversations in flight, CPU {raw['cpu_s']:.2f}s, peak RSS {raw['peak_rss_mib']:.0f} MiB")
        print(f"{label} arena: {arena['replies']} replies in {arena['elapsed']:.2f}s = {arena['replies_per_s']:.0f}/s, "
              f"{arena['conversations_peak']} conversations in flight, {arena['stored_turns']} turns stored, "
              f"{arena['complete']} complete, incomplete {arena['incomplete'] or 'none'}, "
              f"CPU {arena['cpu_s']:.2f}s, peak RSS {arena['peak_rss_mib']:.0f} MiB")
        print(f"{label} ratio arena/raw: {ratio:.2f}  (goal >= 0.80; in flight goal >= 1000: "
              f"{'met' if arena['conversations_peak'] >= 1000 else 'NOT met'})")


if __name__ == "__main__":
    main()
