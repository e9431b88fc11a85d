"""Benchmark: the data products of `arena-tui export` against their baselines, same run.

Data: N conversations (default 5,000) of 10 turns with 30-200 words per turn over
5 attackers x 5 defenders (`bench_import.make_records`), imported, then labelled in one
transaction: every conversation has three annotators' labels, a third of them attack
with the landing turn marked, and the attacker openings repeat (one of 50), so held
defenders exist for the preference pairs. Verdicts are computed by the pipeline.

Timed, interleaved (each round runs every variant once), wall and CPU time, median of
the rounds:
- `sft`: `export_conversations` chat-jsonl, JSONL only (the existing export);
- `sft+parquet` against `sft then convert`: the JSONL export followed by what one would
  otherwise do by hand, `pyarrow.json.read_json` of that file and `pq.write_table`;
- `preference` against `sft`: two passes over the store against one;
- `sft+dedup` against `sft`: MinHash/LSH near-duplicate removal on every record;
- MinHash against exact all-pairs Jaccard on the first 300 records (the naive way).

    python benchmarks/bench_export.py [--conversations 5000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_import import make_records  # noqa: E402

from core.data.dedup import NearDuplicates, record_text, shingles  # noqa: E402
from core.data.export import ExportFilters, ExportOptions, export_conversations  # noqa: E402
from core.data.importer import import_conversations, parse_lines  # noqa: E402
from core.evaluation.pipeline import refresh_verdicts  # noqa: E402
from core.evaluation.settings import EvaluationSettings  # noqa: E402
from core.store import Store  # noqa: E402

ANNOTATORS = ("ann1", "ann2", "ann3")


def build(path: Path, n: int, seed: int) -> tuple[Store, int]:
    import json
    import random

    records = make_records(n, seed)
    rng = random.Random(seed)
    openings = [records[i]["messages"][0]["content"] for i in range(50)]
    for record in records:
        record["messages"][0]["content"] = rng.choice(openings)
    lines = [(json.dumps(r) + "\n").encode() for r in records]
    parsed = parse_lines(lines, origin="bench.jsonl")
    store = Store.open(path)
    settings = EvaluationSettings(annotators=ANNOTATORS, annotators_per_item=3, audit_fraction=0.0)
    tid = import_conversations(store, parsed, name="bench", evaluation=settings)
    ids = [c.id for page in store.iter_conversations([tid]) for c in page]
    now = time.time()
    events = []
    for cid in ids:
        attack = rng.random() < 1 / 3
        turn = rng.choice((1, 3, 5)) if attack else None
        events += [{"conversation_id": cid, "annotator": who, "action": "label", "label": "attack" if attack else "defense",
                    "turn": turn, "source": "bench", "created_at": now} for who in ANNOTATORS]
    store.append_labels(events)
    store.conn.execute("INSERT OR IGNORE INTO scans (conversation_id, tournament_id, blocks, parsed_blocks, findings, "
                       "scanned_at) SELECT id, tournament_id, 0, 0, 0, 0 FROM conversations")  # nothing flagged
    refresh_verdicts(store, tid)
    return store, tid


def timed(fn) -> tuple[float, float]:  # noqa: ANN001
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        store, tid = build(folder / "arena.db", args.conversations, args.seed)
        print(f"store: {args.conversations} conversations, built in {time.perf_counter() - t0:.1f} s")
        filters = ExportFilters()
        counted = export_conversations(store, [tid], filters, None, fmt="preference")
        print(f"preference pairs: {counted.written} from {counted.considered} attack successes ({counted.chosen_sources})")

        def export(fmt: str = "chat-jsonl", **options: object) -> None:
            export_conversations(store, [tid], filters, folder / "out.jsonl", fmt=fmt, options=ExportOptions(**options))

        def convert_after() -> None:
            export()
            pq.write_table(pj.read_json(folder / "out.jsonl"), folder / "converted.parquet")

        variants = {
            "sft": export,
            "sft+parquet": lambda: export(parquet=True),
            "sft then convert": convert_after,
            "preference": lambda: export("preference"),
            "sft+dedup": lambda: export(dedup_threshold=0.8),
        }
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        for _ in range(args.rounds):
            for name, fn in variants.items():
                times[name].append(timed(fn))
        med = {name: (statistics.median(w for w, _ in ts), statistics.median(c for _, c in ts)) for name, ts in times.items()}
        for name, (wall, cpu) in med.items():
            print(f"{name:18s} wall {wall:6.2f} s  cpu {cpu:6.2f} s")

        def ratio(a: str, b: str) -> str:
            return f"{med[a][0] / med[b][0]:.2f}x wall, {med[a][1] / med[b][1]:.2f}x cpu"

        print(f"sft+parquet / (sft then convert): {ratio('sft+parquet', 'sft then convert')}")
        print(f"preference / sft:                 {ratio('preference', 'sft')}")
        print(f"sft+dedup / sft:                  {ratio('sft+dedup', 'sft')}")

        records = []
        from core.data.export import iter_records

        for record in iter_records(store, [tid], filters):
            records.append(record_text(record))
            if len(records) == 300:
                break

        def minhash() -> None:
            dedup = NearDuplicates(0.8)
            for text in records:
                dedup.is_new(text)

        def exact() -> None:
            sets = [shingles(text) for text in records]
            for i in range(len(sets)):
                for j in range(i):
                    _ = len(sets[i] & sets[j]) / len(sets[i] | sets[j])

        m, e = timed(minhash), timed(exact)
        print(f"{len(records)} records: MinHash/LSH wall {m[0]:.2f} s cpu {m[1]:.2f} s; exact all-pairs Jaccard wall {e[0]:.2f} s "
              f"cpu {e[1]:.2f} s ({e[0] / m[0]:.1f}x slower; grows with the square of N)")
        store.close()


if __name__ == "__main__":
    main()
