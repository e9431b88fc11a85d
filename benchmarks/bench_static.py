"""Static stage and `arena-tui evaluate` vs `bandit -r`, same snippets, same run.

Generates N synthetic defender replies (benchmarks/reply_corpus.py), then, alternately and
--repeat times:

- end to end: ``arena-tui evaluate`` as a subprocess on a fresh copy of a store holding the
  replies as the defender turns of imported conversations (5 replies a conversation,
  3 annotators on the roster): start-up, reading the turns, extraction, bandit, storing
  blocks and findings, the review queue and the verdicts;
- the static stage: ``core.evaluation.static.scan_replies`` on the reply texts (code extraction
  included; the first repetition also pays for importing bandit and loading its plugins);
- the baseline: the parsed code blocks written one file per block to a temporary
  directory (not timed), then ``bandit -r DIR -f json --ignore-nosec`` once, as a
  subprocess (its start-up included, as when it is run for real).

Prints wall and CPU time (CPU of this process for the stage; of the child and the
processes it waited for, for the subprocesses), snippets/s and the ratio of medians, and
asserts that the stage and ``bandit -r`` found the same set of (snippet, line, test id)
and that ``evaluate`` stored the same number of findings. Goal: ``evaluate`` end to end
at least 2x as fast as ``bandit -r``. Not a test: timings depend on the machine and its
load.

    python benchmarks/bench_static.py --replies 2400 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import reply_corpus  # noqa: E402

from core.data.importer import import_conversations, parse_lines  # noqa: E402
from core.evaluation.extract import extract_code_blocks  # noqa: E402
from core.evaluation.settings import EvaluationSettings  # noqa: E402
from core.evaluation.static import scan_replies  # noqa: E402
from core.store import Store  # noqa: E402

REPLIES_PER_CONVERSATION = 5


def _snippet_name(reply_index: int, block_index: int) -> str:
    return f"r{reply_index:05d}_b{block_index:02d}.py"


def _write_snippets(replies: list[str], directory: Path) -> int:
    count = 0
    for reply_index, reply in enumerate(replies):
        for block in extract_code_blocks(reply):
            if block.parsed:
                path = directory / _snippet_name(reply_index, block.index)
                path.write_text(block.code, encoding="utf-8")
                count += 1
    return count


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _build_store(replies: list[str], path: Path) -> None:
    """The replies as the defender turns of imported conversations (attacker turns: a
    one-line request), 3 annotators on the roster as a real tournament has."""
    lines = []
    for start in range(0, len(replies), REPLIES_PER_CONVERSATION):
        messages = []
        for reply in replies[start:start + REPLIES_PER_CONVERSATION]:
            messages += [{"role": "user", "content": "Write the function we talked about."},
                         {"role": "assistant", "content": reply}]
        lines.append(json.dumps({"messages": messages, "attacker": "att", "defender": "def"}))
    with Store.open(path) as store:
        import_conversations(store, parse_lines(lines), name="bench",
                             evaluation=EvaluationSettings(annotators=("ann1", "ann2", "ann3")))


def _run_evaluate(store: Path, fresh: Path) -> tuple[float, float, int]:
    """`arena-tui evaluate` on a fresh copy of `store`: (wall, CPU, findings stored)."""
    shutil.copyfile(store, fresh)
    cpu = _children_cpu()
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, "-m", "arena_tui.cli", "evaluate", "--db", str(fresh)],
                               capture_output=True, text=True, env=dict(os.environ, COLUMNS="120"))
    elapsed = time.perf_counter() - started
    cpu = _children_cpu() - cpu
    if completed.returncode != 0:
        raise SystemExit(f"arena-tui evaluate failed ({completed.returncode}): {completed.stderr}")
    with Store.open_readonly(fresh) as done:
        findings = len(done.tournament_findings(1))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{fresh}{suffix}").unlink(missing_ok=True)
    return elapsed, cpu, findings


def _run_bandit(directory: Path) -> tuple[float, float, set[tuple[str, int, str]], list]:
    report = directory.parent / "bandit-report.json"
    cpu = _children_cpu()
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "bandit", "-r", str(directory), "-f", "json", "-o",
         str(report), "-q", "--ignore-nosec"],
        capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - started
    cpu = _children_cpu() - cpu
    if completed.returncode not in (0, 1):
        raise SystemExit(f"bandit -r failed ({completed.returncode}): {completed.stderr}")
    data = json.loads(report.read_text(encoding="utf-8"))
    found = {(Path(item["filename"]).name, item["line_number"], item["test_id"])
             for item in data["results"]}
    return elapsed, cpu, found, data.get("errors", [])


def _run_stage(replies: list[str], workers: int | None) -> tuple[float, float, set, int]:
    cpu = time.process_time() + _children_cpu()
    started = time.perf_counter()
    scans = scan_replies(list(enumerate(replies)), workers=workers)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() + _children_cpu() - cpu
    found = {(_snippet_name(reply_index, finding.block_index), finding.line_in_block,
              finding.test_id)
             for reply_index, scan in scans.items() for finding in scan.findings}
    skipped = sum(
        1 for scan in scans.values() for index, _ in scan.skipped.items()
        if scan.blocks[index].parsed
    )
    return elapsed, cpu, found, skipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replies", type=int, default=2400, help="replies to generate")
    parser.add_argument("--seed", type=int, default=7, help="corpus seed")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds of each")
    parser.add_argument("--workers", type=int, default=None,
                        help="static-stage workers (default: automatic)")
    args = parser.parse_args()

    replies = [item.reply for item in reply_corpus.generate(args.replies, seed=args.seed)]
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="bench-static-") as temp:
        snippet_dir = Path(temp) / "snippets"
        snippet_dir.mkdir()
        snippets = _write_snippets(replies, snippet_dir)
        store = Path(temp) / "store.db"
        _build_store(replies, store)
        stage, bandit, evaluate = [], [], []
        for round_number in range(args.repeat):
            stage_time, stage_cpu, stage_found, stage_skipped = _run_stage(replies, args.workers)
            bandit_time, bandit_cpu, bandit_found, bandit_errors = _run_bandit(snippet_dir)
            eval_time, eval_cpu, eval_findings = _run_evaluate(store, Path(temp) / "evaluated.db")
            stage.append((stage_time, stage_cpu))
            bandit.append((bandit_time, bandit_cpu))
            evaluate.append((eval_time, eval_cpu))
            print(f"round {round_number + 1}: static stage {stage_time:.2f} s (CPU {stage_cpu:.2f}), "
                  f"bandit -r {bandit_time:.2f} s (CPU {bandit_cpu:.2f}), "
                  f"arena-tui evaluate {eval_time:.2f} s (CPU {eval_cpu:.2f})")
            if stage_found != bandit_found:
                only_stage = sorted(stage_found - bandit_found)[:10]
                only_bandit = sorted(bandit_found - stage_found)[:10]
                raise AssertionError(f"findings differ: only static stage {only_stage}, "
                                     f"only bandit -r {only_bandit}")
            assert stage_skipped == 0 and not bandit_errors, (stage_skipped, bandit_errors)
            assert eval_findings == len(bandit_found), (eval_findings, len(bandit_found))

    def med(runs: list[tuple[float, float]]) -> tuple[float, float]:
        return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)

    s, b, e = med(stage), med(bandit), med(evaluate)
    print(f"{len(replies)} replies, {snippets} snippets, {len(stage_found)} findings "
          f"(identical sets; evaluate stored as many); load average now {os.getloadavg()[0]:.2f}")
    print(f"bandit -r (baseline):      wall {b[0]:6.2f} s  CPU {b[1]:6.2f} s  {snippets / b[0]:7.0f} snippets/s")
    print(f"static stage (in-process): wall {s[0]:6.2f} s  CPU {s[1]:6.2f} s  {snippets / s[0]:7.0f} snippets/s  "
          f"({len(replies) / s[0]:.0f} replies/s, extraction included)   "
          f"ratio wall {b[0] / s[0]:.2f}x  CPU {b[1] / s[1]:.2f}x")
    print(f"arena-tui evaluate:        wall {e[0]:6.2f} s  CPU {e[1]:6.2f} s  {snippets / e[0]:7.0f} snippets/s   "
          f"ratio wall {b[0] / e[0]:.2f}x  CPU {b[1] / e[1]:.2f}x  (median of {args.repeat}; goal >= 2x)")

if __name__ == "__main__":
    main()
