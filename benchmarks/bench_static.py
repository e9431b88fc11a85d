"""Static stage vs `bandit -r`, same snippets, same run.

Generates N synthetic defender replies (benchmarks/reply_corpus.py), then, alternately and
--repeat times:

- the static stage: ``core.evaluation.static.scan_replies`` on the reply texts (code extraction
  included; the first repetition also pays for importing bandit and loading its plugins);
- the baseline: the parsed code blocks written one file per block to a temporary
  directory (not timed), then ``bandit -r DIR -f json --ignore-nosec`` once, as a
  subprocess (its start-up included, as when it is run for real).

Prints snippets/s for both and the ratio of medians, and asserts that both found the same
set of (snippet, line, test id). Not a test: timings depend on the machine and its load.

    python benchmarks/bench_static.py --replies 2400 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import reply_corpus  # noqa: E402

from core.evaluation.extract import extract_code_blocks  # noqa: E402
from core.evaluation.static import scan_replies  # noqa: E402


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


def _run_bandit(directory: Path) -> tuple[float, set[tuple[str, int, str]], list]:
    report = directory.parent / "bandit-report.json"
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "bandit", "-r", str(directory), "-f", "json", "-o",
         str(report), "-q", "--ignore-nosec"],
        capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - started
    if completed.returncode not in (0, 1):
        raise SystemExit(f"bandit -r failed ({completed.returncode}): {completed.stderr}")
    data = json.loads(report.read_text(encoding="utf-8"))
    found = {(Path(item["filename"]).name, item["line_number"], item["test_id"])
             for item in data["results"]}
    return elapsed, found, data.get("errors", [])


def _run_stage(replies: list[str], workers: int | None) -> tuple[float, set, int]:
    started = time.perf_counter()
    scans = scan_replies(list(enumerate(replies)), workers=workers)
    elapsed = time.perf_counter() - started
    found = {(_snippet_name(reply_index, finding.block_index), finding.line_in_block,
              finding.test_id)
             for reply_index, scan in scans.items() for finding in scan.findings}
    skipped = sum(
        1 for scan in scans.values() for index, _ in scan.skipped.items()
        if scan.blocks[index].parsed
    )
    return elapsed, found, skipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replies", type=int, default=2400, help="replies to generate")
    parser.add_argument("--seed", type=int, default=7, help="corpus seed")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds of each")
    parser.add_argument("--workers", type=int, default=None,
                        help="static-stage workers (default: automatic)")
    args = parser.parse_args()

    replies = [item.reply for item in reply_corpus.generate(args.replies, seed=args.seed)]
    with tempfile.TemporaryDirectory(prefix="bench-static-") as temp:
        snippet_dir = Path(temp) / "snippets"
        snippet_dir.mkdir()
        snippets = _write_snippets(replies, snippet_dir)
        stage_times, bandit_times = [], []
        for round_number in range(args.repeat):
            stage_time, stage_found, stage_skipped = _run_stage(replies, args.workers)
            bandit_time, bandit_found, bandit_errors = _run_bandit(snippet_dir)
            stage_times.append(stage_time)
            bandit_times.append(bandit_time)
            print(f"round {round_number + 1}: static stage {stage_time:.2f} s, "
                  f"bandit -r {bandit_time:.2f} s")
            if stage_found != bandit_found:
                only_stage = sorted(stage_found - bandit_found)[:10]
                only_bandit = sorted(bandit_found - stage_found)[:10]
                raise AssertionError(f"findings differ: only static stage {only_stage}, "
                                     f"only bandit -r {only_bandit}")
            assert stage_skipped == 0 and not bandit_errors, (stage_skipped, bandit_errors)

    stage_median = statistics.median(stage_times)
    bandit_median = statistics.median(bandit_times)
    print(f"{len(replies)} replies, {snippets} snippets, {len(stage_found)} findings "
          "(identical sets)")
    print(f"static stage: {snippets / stage_median:8.0f} snippets/s "
          f"({len(replies) / stage_median:.0f} replies/s, extraction included)")
    print(f"bandit -r:    {snippets / bandit_median:8.0f} snippets/s")
    print(f"ratio:        {bandit_median / stage_median:8.2f}x (median of {args.repeat})")


if __name__ == "__main__":
    main()
