"""One live static-stage pass, in a process of its own: ``python -m core.evaluation.static_pass DB TOURNAMENT_ID``.

The watch screen scans conversations with bandit while its tournament plays. Extraction
and bandit are CPU-bound: in a thread of the watch process they would hold the GIL
against the event loop the tournament plays on, and every bot reply would wait for it
(see ``benchmarks/bench_watch.py``). In a child process they cost the tournament only
the CPU they use.

A pass (`core.evaluation.pipeline.static_pass`: scan the complete conversations not scanned yet,
with one worker, then refresh the stored verdicts; one BLAS thread: the watch must not
take every core) prints one JSON line: per matchup id, ``[complete conversations scanned,
static attack successes]`` (`static_results`). It runs at the lowest CPU priority, so on
a busy machine it takes the cycles the tournament leaves. Errors go to stderr as one
line, exit status 1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from core.evaluation.pipeline import EvaluationError, static_pass
from core.store import Store, StoreError

# How often the parent checks whether it should give up on a running pass.
CANCEL_CHECK_S = 0.1


class StaticPassError(Exception):
    """A pass failed; the message is the child's last error line."""


def run_pass_in_child(db: str | Path, tournament_id: int,
                      cancelled: Callable[[], bool] = lambda: False) -> dict[int, tuple[int, int]] | None:
    """Run one pass in a child process and return its counts; None if `cancelled()`
    turned true first (the child is killed: its open transaction rolls back, and the
    next pass scans what this one did not store). Raises `StaticPassError`."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "core.evaluation.static_pass", str(db), str(tournament_id)], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while True:
        try:
            out, err = proc.communicate(timeout=CANCEL_CHECK_S)
            break
        except subprocess.TimeoutExpired:
            if cancelled():
                proc.kill()
                proc.communicate()
                return None
    if proc.returncode != 0:
        lines = err.strip().splitlines()
        raise StaticPassError(lines[-1] if lines else f"the static pass exited with status {proc.returncode}")
    try:
        counts = json.loads(out)
        return {int(matchup): (int(n[0]), int(n[1])) for matchup, n in counts.items()}
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        raise StaticPassError(f"unreadable static pass output: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    """Command line: DB TOURNAMENT_ID; prints the counts as JSON."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or not args[1].isdigit():
        print("usage: python -m core.evaluation.static_pass DB TOURNAMENT_ID", file=sys.stderr)
        return 2
    if hasattr(os, "nice"):
        os.nice(19)  # behind the tournament: this pass takes the cycles it leaves
    try:
        # The watch that starts this pass holds the store open (and checked it).
        with Store.open(Path(args[0]), create=False, helper=True) as store:
            counts = static_pass(store, int(args[1]))
    except (StoreError, EvaluationError) as exc:
        print(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, file=sys.stderr)
        return 1
    print(json.dumps({str(matchup): list(n) for matchup, n in counts.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
