"""Benchmark: `arena-tui import` ingest speed against raw sqlite3.executemany, same run.

Data: N conversations (default 5,000) of 10 turns (5 adjacency pairs) with 200-1,200
characters per turn, over 5 attackers x 5 defenders, written as chat JSONL.

Timed:
- import (write): `core.data.importer.import_conversations` with the records already parsed
  and validated (one transaction, executemany, FTS trigger firing on every turn);
- baseline (write): plain `sqlite3` in a fresh file created with the *same* schema
  (`core.store.schema.make_current`, so the same tables, indexes, FTS5 index and triggers),
  inserting the same tournament, bot, matchup, conversation and turn rows with
  `executemany` in one transaction, WAL and synchronous=NORMAL like the store;
- import (end to end): reading and validating the JSONL file plus the write, against
  the baseline plus a bare `json.loads` of every line.

Goal: import within 2x of the baseline. Prints both ratios.

    python benchmarks/bench_import.py [--conversations 5000] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.data.importer import import_conversations, parse_lines  # noqa: E402
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


def baseline(path: Path, parsed) -> float:  # noqa: ANN001
    """Raw executemany of the same rows into the same schema (tables, indexes, FTS trigger)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    make_current(conn, path)
    now = time.time()
    start = time.perf_counter()
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
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "in.jsonl"
        data.write_text("".join(json.dumps(r) + "\n" for r in make_records(args.conversations, args.seed)), encoding="utf-8")
        turns = args.conversations * 10
        print(f"{args.conversations} conversations, {turns} turns, {data.stat().st_size / 1e6:.1f} MB of JSONL")

        start = time.perf_counter()
        lines = data.read_bytes().splitlines(keepends=True)  # as `arena-tui import` reads the file
        for line in lines:
            json.loads(line)
        raw_parse = time.perf_counter() - start
        start = time.perf_counter()
        parsed = parse_lines(lines)
        our_parse = time.perf_counter() - start

        raw_write = baseline(Path(tmp) / "baseline.db", parsed)
        with Store.open(Path(tmp) / "store.db") as store:
            start = time.perf_counter()
            import_conversations(store, parsed, name="bench")
            our_write = time.perf_counter() - start

    print(f"baseline executemany (same schema + FTS trigger): {raw_write:6.2f} s")
    print(f"import write                                    : {our_write:6.2f} s   ratio {our_write / raw_write:.2f}x")
    print(f"baseline json.loads + executemany              : {raw_parse + raw_write:6.2f} s")
    print(f"import end to end (validate + write)            : {our_parse + our_write:6.2f} s   "
          f"ratio {(our_parse + our_write) / (raw_parse + raw_write):.2f}x")
    print("goal: within 2x")


if __name__ == "__main__":
    main()
