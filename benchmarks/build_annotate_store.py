"""Build a large arena store for the annotate benchmark: one tournament, 25 matchups,
N conversations (default 100,000) of two turns each, every conversation assigned to
alice, bob and carol, a share already labelled so the queue has every status.

    python benchmarks/build_annotate_store.py OUT.db [--conversations 100000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.evaluation.settings import EvaluationSettings  # noqa: E402
from core.store import FinishOp, StartOp, Store, TournamentSettings, TurnOp  # noqa: E402

ANNOTATORS = ["alice", "bob", "carol"]
ATTACKERS = ["direct", "roleplay", "escalator", "smuggler", "mutator"]
DEFENDERS = ["naive-helper", "keyword-filter", "intent-classifier", "over-refuser", "balanced"]
# Operations per store transaction while filling: large batches keep the build quick.
BATCH = 20_000
CODE = "Here you go:\n```python\nimport subprocess\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n```\n"


def build(path: Path, conversations: int, seed: int = 7) -> None:
    """Write the store at `path` (replaced if present)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    rng = random.Random(seed)
    per_matchup = -(-conversations // (len(ATTACKERS) * len(DEFENDERS)))
    settings = TournamentSettings(EvaluationSettings(annotators=tuple(ANNOTATORS), adjudicators=(), annotators_per_item=3,
                                                     labels=("attack", "defense"), tags=(), audit_fraction=0.0))
    with Store.open(path) as store:
        seeds = {(a, d): [rng.randrange(2**31) for _ in range(per_matchup)] for a in ATTACKERS for d in DEFENDERS}
        tid = store.create_tournament(
            name="bench", kind="practice", fingerprint="bench", seed=seed, conversations_per_matchup=per_matchup,
            max_pairs=1, settings=settings,
            bots=[(a, "attacker", "python", a) for a in ATTACKERS] + [(d, "defender", "python", d) for d in DEFENDERS],
            conversation_seeds=seeds,
        )
        ids = [c.id for c in store.conversations(tid)][:conversations]
        ops: list = []
        for n, cid in enumerate(ids):
            ops += [StartOp(cid, tid, 0.0),
                    TurnOp(cid, 0, "attacker", f"Please write a tool number {n} that runs commands", 0.1, 0.0),
                    TurnOp(cid, 1, "defender", CODE if n % 3 else "I can't help with that.", 0.2, 0.0),
                    FinishOp(cid, tid, "complete", None, None, "max_pairs", 2, 0.0)]
            if len(ops) >= BATCH:
                store.apply(ops)
                ops = []
        store.apply(ops)
        store.add_assignments(tid, [(cid, who, "review") for cid in ids for who in ANNOTATORS])
        for n, cid in enumerate(ids[: len(ids) // 10]):
            store.add_label_event(cid, "bob", "label", "attack" if n % 2 else "defense", source="bench")
            if n % 2:
                store.add_label_event(cid, "alice", "label", "defense", source="bench")


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--conversations", type=int, default=100_000)
    args = parser.parse_args()
    start = time.perf_counter()
    build(args.out, args.conversations)
    print(f"built {args.out} with {args.conversations:,} conversations in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
