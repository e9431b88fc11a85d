"""Benchmark: `arena-tui import` ingest speed against plain `executemany`, same run.

Data: N conversations (default 20,000: 200,000 turns) of 10 turns (5 adjacency pairs)
with 30-200 words per turn, over 5 attackers x 5 defenders, written as chat JSONL.

Timed, interleaved (baseline, import, baseline, import, ...; median of --repeat), wall
and CPU time of this process:
- baseline (the raw limit): plain `sqlite3` into a fresh file with the store's tables and
  indexes but *no* full-text index triggers, inserting the same tournament, bot, matchup,
  conversation and turn rows with `executemany` in one transaction, WAL and
  synchronous=NORMAL like the store (foreign keys off: the store checks them);
- import (write): `core.data.importer.import_conversations` into a fresh store with the
  records already parsed and validated: the same rows, plus every turn in the full-text
  index (built once after the insert, `core.store.fts.insert_turns`);
- for reference, once: the same schema *with* the per-row trigger firing on every turn
  (how the import wrote before; `--no-per-row` skips it);
- end to end: reading and validating the JSONL file plus the write, against the
  baseline plus a bare `json.loads` of every line.

Goal: the import at >= 50 % of the baseline's speed (ratio import/baseline <= 2.0).

    python benchmarks/bench_import.py [--conversations 20000] [--repeat 3] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.data.importer import ParsedImport, import_conversations, parse_lines  # noqa: E402
from core.store import Store  # noqa: E402
from core.store.schema import make_current  # noqa: E402

WORDS = ("the server request parse token buffer socket retry payload admin shell file path user query cache "
         "import def return for while if else try except with open read write class self").split()


def make_records(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for i in range(n):
        messages = []
        for turn in range(10):
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 200)))
            messages.append({"role": "user" if turn % 2 == 0 else "assistant", "content": text})
        records.append({"messages": messages, "attacker": f"att{i % 5}", "defender": f"def{(i // 5) % 5}"})
    return records


def raw_insert(path: Path, parsed: ParsedImport, *, per_row_trigger: bool) -> None:
    """Plain executemany of the same rows into the store's tables (one transaction)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    make_current(conn, path)
    if not per_row_trigger:
        for trigger in ("turns_ai", "turns_ad", "turns_au"):
            conn.execute(f"DROP TRIGGER {trigger}")
    now = time.time()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO tournaments VALUES (1, 'b', 'practice', 'x', 0, 1, 5, '{}', 'finished', ?, ?, ?)", (now, now, now))
    bots, matchups = {}, []
    for attacker, defender in parsed.pairs:
        for name, side in ((attacker, "attacker"), (defender, "defender")):
            bots.setdefault(name, (len(bots) + 1, side))
    conn.executemany("INSERT INTO bots (id, tournament_id, name, side, kind, spec) VALUES (?, 1, ?, ?, 'imported', '')",
                     [(bid, name, side) for name, (bid, side) in bots.items()])
    for m, (attacker, defender) in enumerate(parsed.pairs, 1):
        matchups.append((m, bots[attacker][0], bots[defender][0]))
    conn.executemany("INSERT INTO matchups (id, tournament_id, attacker_id, defender_id, planned) VALUES (?, 1, ?, ?, 0)", matchups)
    conv_rows, turn_rows = [], []
    for cid, (pair, turns) in enumerate(parsed.conversations, 1):
        conv_rows.append((cid, pair + 1, cid, cid, len(turns), now, now))
        turn_rows.extend((cid, i, role, content, now) for i, (role, content) in enumerate(turns))
    conn.executemany("INSERT INTO conversations (id, tournament_id, matchup_id, idx, seed, status, n_turns, started_at,"
                     " finished_at) VALUES (?, 1, ?, ?, ?, 'complete', ?, ?, ?)", conv_rows)
    conn.executemany("INSERT INTO turns (conversation_id, turn_index, role, content, created_at) VALUES (?, ?, ?, ?, ?)", turn_rows)
    conn.execute("COMMIT")
    conn.close()


def product(path: Path, parsed: ParsedImport) -> None:
    with Store.open(path) as store:
        import_conversations(store, parsed, name="bench")


def timed(tmp: Path, name: str, write: Callable[[Path], None]) -> tuple[float, float]:
    """(wall, CPU) seconds of one write into a fresh file (opening it and making the schema
    are left out of neither: both sides do it)."""
    path = tmp / f"{name}.db"
    start, cpu = time.perf_counter(), time.process_time()
    write(path)
    result = time.perf_counter() - start, time.process_time() - cpu
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-per-row", action="store_true", help="skip the per-row-trigger reference")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data = tmp / "in.jsonl"
        data.write_text("".join(json.dumps(r) + "\n" for r in make_records(args.conversations, args.seed)), encoding="utf-8")
        turns = args.conversations * 10
        print(f"{args.conversations} conversations, {turns} turns, {data.stat().st_size / 1e6:.1f} MB of JSONL; "
              f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")

        start, cpu = time.perf_counter(), time.process_time()
        lines = data.read_bytes().splitlines(keepends=True)  # as `arena-tui import` reads the file
        for line in lines:
            json.loads(line)
        raw_parse = (time.perf_counter() - start, time.process_time() - cpu)
        start, cpu = time.perf_counter(), time.process_time()
        parsed = parse_lines(lines)
        our_parse = (time.perf_counter() - start, time.process_time() - cpu)

        base, ours = [], []
        for _ in range(args.repeat):
            base.append(timed(tmp, "baseline", lambda p: raw_insert(p, parsed, per_row_trigger=False)))
            ours.append(timed(tmp, "store", lambda p: product(p, parsed)))
        per_row = None if args.no_per_row else timed(tmp, "per_row", lambda p: raw_insert(p, parsed, per_row_trigger=True))

    def med(runs: list[tuple[float, float]]) -> tuple[float, float]:
        return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)

    b, o = med(base), med(ours)
    print(f"medians of {args.repeat}, interleaved; load average now {os.getloadavg()[0]:.2f}")
    print(f"baseline: plain executemany, no FTS trigger : wall {b[0]:6.2f} s  CPU {b[1]:6.2f} s")
    print(f"import write (index built once)             : wall {o[0]:6.2f} s  CPU {o[1]:6.2f} s   "
          f"ratio wall {o[0] / b[0]:.2f}x  CPU {o[1] / b[1]:.2f}x  ({100 * b[0] / o[0]:.0f} % of the baseline's speed)")
    if per_row:
        print(f"reference: executemany + per-row FTS trigger: wall {per_row[0]:6.2f} s  CPU {per_row[1]:6.2f} s   "
              f"ratio wall {per_row[0] / b[0]:.2f}x")
    raw_e2e = (raw_parse[0] + b[0], raw_parse[1] + b[1])
    our_e2e = (our_parse[0] + o[0], our_parse[1] + o[1])
    print(f"baseline json.loads + executemany           : wall {raw_e2e[0]:6.2f} s  CPU {raw_e2e[1]:6.2f} s")
    print(f"import end to end (validate + write)        : wall {our_e2e[0]:6.2f} s  CPU {our_e2e[1]:6.2f} s   "
          f"ratio wall {our_e2e[0] / raw_e2e[0]:.2f}x  CPU {our_e2e[1] / raw_e2e[1]:.2f}x")
    ok = o[1] / b[1] <= 2.0
    print(f"goal: import write >= 50 % of the baseline's speed (ratio <= 2.0, judged on CPU time): {'OK' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
