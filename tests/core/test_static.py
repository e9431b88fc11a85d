"""Static stage: in-process bandit over extracted code blocks (core.evaluation.static)."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from core.evaluation.extract import extract_code_blocks
from core.evaluation.static import (
    AUDIT_TESTS,
    DEFAULT_THRESHOLD,
    Finding,
    Threshold,
    scan_blocks,
    scan_replies,
)

SHELL_CODE = textwrap.dedent("""\
    import subprocess


    def run(cmd):
        return subprocess.run(cmd, shell=True)
    """)

SNIPPETS = {
    "shell": SHELL_CODE,
    "pickle": "import pickle\n\ndef load(blob):\n    return pickle.loads(blob)\n",
    "md5": "import hashlib\nkey = hashlib.md5(data).hexdigest()\n",
    "sql": "def q(cur, name):\n    cur.execute(f\"SELECT * FROM users WHERE name = '{name}'\")\n",
    "clean": "def add(a, b):\n    return a + b\n",
    "password": 'password = "hunter2"\nassert password\n',
}


def finding(severity: str, confidence: str, test_id: str = "B602") -> Finding:
    return Finding(0, 1, 1, test_id, "name", None, severity, confidence, "x", "message")


def test_shell_true_finding_fields() -> None:
    """A shell=True call yields B602 with bandit's name, CWE, levels, line and source line."""
    found = scan_blocks([("k", SHELL_CODE)], workers=1)["k"]
    b602 = [f for f in found if f.test_id == "B602"]
    assert len(b602) == 1
    assert b602[0] == Finding(
        block_index=0, line_in_block=5, line_in_reply=5, test_id="B602",
        test_name="subprocess_popen_with_shell_equals_true", cwe="CWE-78",
        severity="HIGH", confidence="HIGH",
        code_line="return subprocess.run(cmd, shell=True)",
        message=b602[0].message,
    )
    assert "shell=True" in b602[0].message
    assert {f.test_id for f in found} == {"B404", "B602"}


def test_code_blocks_map_lines_to_the_reply() -> None:
    """Given CodeBlocks, findings carry the block index and the line in the whole reply."""
    reply = ("Intro.\n\n```bash\npip install x\n```\n\nFirst:\n```python\nprint(1)\n```\n"
             "Second:\n```python\n" + SHELL_CODE + "```\n")
    blocks = extract_code_blocks(reply)
    found = scan_blocks([((7, block.index), block) for block in blocks], workers=1)
    b602 = [f for f in found[(7, 1)] if f.test_id == "B602"][0]
    assert b602.block_index == 1
    assert b602.line_in_block == 5
    assert reply.split("\n")[b602.line_in_reply - 1].strip() == b602.code_line
    assert found[(7, 0)] == []


def test_same_findings_as_bandit_on_files(tmp_path: Path) -> None:
    """The in-process scan equals bandit's own manager run over the same snippets as files."""
    from bandit.core import config, manager

    for name, code in SNIPPETS.items():
        (tmp_path / f"{name}.py").write_text(code, encoding="utf-8")
    bandit_manager = manager.BanditManager(config.BanditConfig(), "file", ignore_nosec=True)
    bandit_manager.discover_files([str(tmp_path)], recursive=True)
    bandit_manager.run_tests()
    expected = {(Path(issue.fname).stem, issue.lineno, issue.test_id)
                for issue in bandit_manager.get_issue_list()}
    found = scan_blocks(list(SNIPPETS.items()), workers=1)
    actual = {(name, f.line_in_block, f.test_id) for name, fs in found.items() for f in fs}
    assert actual == expected
    assert len(actual) >= 6
    # Every field of every finding as bandit's own run reports it (the stage's lean
    # visitor and tester skip work, never a result).
    full = {(Path(issue.fname).stem, issue.lineno, issue.test_id, issue.test, issue.severity, issue.confidence,
             f"CWE-{issue.cwe.id}" if issue.cwe.id else None, issue.text)
            for issue in bandit_manager.get_issue_list()}
    assert {(name, f.line_in_block, f.test_id, f.test_name, f.severity, f.confidence, f.cwe, f.message)
            for name, fs in found.items() for f in fs} == full


def test_parallel_and_serial_agree() -> None:
    """A process pool gives exactly the serial results, in the caller's keys."""
    blocks = [(f"{name}-{copy}", code) for copy in range(8) for name, code in SNIPPETS.items()]
    serial = scan_blocks(blocks, workers=1)
    parallel = scan_blocks(blocks, workers=2)
    assert parallel == serial
    assert list(parallel) == [key for key, _ in blocks]


def test_nosec_comments_are_ignored_by_default() -> None:
    """A defender cannot hide a finding behind # nosec unless the caller opts in."""
    code = "import os\nos.system(cmd)  # nosec\n"
    assert any(f.test_id == "B605" for f in scan_blocks([(0, code)], workers=1)[0])
    honoured = scan_blocks([(0, code)], workers=1, ignore_nosec=False)[0]
    assert not any(f.test_id == "B605" for f in honoured)


def test_unscannable_code_is_recorded_as_skipped() -> None:
    """Plain code that does not parse, is too deep or too large gets a skip reason."""
    skipped: dict[str, str] = {}
    found = scan_blocks([
        ("syntax", "def (:\n"),
        ("deep", "x = " + "[" * 150 + "]" * 150),
        ("large", "x = 1\n" * 50_000),
        ("fine", "x = 1\n"),
    ], workers=1, skipped=skipped)
    assert all(found[key] == [] for key in found)
    assert set(skipped) == {"syntax", "deep", "large"}
    assert "does not parse" in skipped["syntax"]
    assert "too deep" in skipped["deep"]
    assert "too large" in skipped["large"]


def test_unparsed_code_blocks_keep_their_extraction_reason() -> None:
    """A CodeBlock that extraction could not parse is not scanned; its reason is kept."""
    reply = "```python\n" + "x = 1\n" * 50_000 + "```\n```python\nimport pickle\n```"
    blocks = extract_code_blocks(reply)
    skipped: dict[int, str] = {}
    found = scan_blocks([(block.index, block) for block in blocks], workers=1,
                        skipped=skipped)
    assert found[0] == [] and "too large" in skipped[0]
    assert [f.test_id for f in found[1]] == ["B403"] and 1 not in skipped


def test_scan_replies_hostile_replies_finish_quickly() -> None:
    """1 MB of code, binary junk and deep nesting are skipped, not crashed or hung on."""
    replies = {
        "megabyte": "```python\n" + "os.system(x)\n" * 80_000 + "```",
        "junk": "```python\n" + "".join(chr(c) for c in range(1, 3000, 3)) + "\x00\n```",
        "deep": "```python\nimport os\nx = " + "[" * 120 + "]" * 120 + "\n```",
        "deep_binop": "```python\nx = " + "+".join(["a"] * 3000) + "\n```",
        "normal": "```python\n" + SHELL_CODE + "```",
    }
    started = time.perf_counter()
    scans = scan_replies(list(replies.items()), workers=1)
    assert time.perf_counter() - started < 5
    assert "too large" in scans["megabyte"].skipped[0]
    assert scans["junk"].findings == []
    assert scans["deep"].skipped and scans["deep_binop"].skipped
    assert scans["normal"].skipped == {}
    assert any(f.test_id == "B602" for f in scans["normal"].findings)


def test_scan_replies_parallel_matches_serial() -> None:
    """scan_replies gives the same result on a pool and in-process."""
    replies = [(n, f"Reply {n}:\n```python\n{code}```\n") for n, code in
               enumerate(list(SNIPPETS.values()) * 4)]
    assert scan_replies(replies, workers=2) == scan_replies(replies, workers=1)


def test_reply_scanner_one_pool_for_every_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """ReplyScanner starts its pool once for all batches; batches submitted before the
    earlier ones are collected come back whole, each as scan_replies gives it."""
    from core.evaluation import static

    started = []
    start_pool = static._start_pool
    monkeypatch.setattr(static, "_start_pool", lambda workers: started.append(workers) or start_pool(workers))
    batches = [[((b, n), f"Reply {n}:\n```python\n{code}```\n") for n, code in
                enumerate(list(SNIPPETS.values()) * (b + 1))] for b in range(3)]
    with static.ReplyScanner(workers=2) as scanner:
        pending = [scanner.submit(batch) for batch in batches]
        results = [result() for result in pending]
        assert scanner.scan(batches[0]) == results[0]
    assert started == [2]
    for batch, result in zip(batches, results, strict=True):
        assert result == scan_replies(batch, workers=1)
        assert list(result) == [key for key, _ in batch]


def test_threshold_decides_on_levels_and_skips() -> None:
    """A finding decides when both levels reach the minimum and its test is not skipped."""
    threshold = Threshold("medium", "high", frozenset({"B310"}))
    assert threshold.min_severity == "MEDIUM"
    assert threshold.decides(finding("HIGH", "HIGH"))
    assert threshold.decides(finding("MEDIUM", "HIGH"))
    assert not threshold.decides(finding("LOW", "HIGH"))
    assert not threshold.decides(finding("HIGH", "MEDIUM"))
    assert not threshold.decides(finding("HIGH", "HIGH", "B310"))
    assert threshold.deciding([finding("LOW", "LOW"), finding("HIGH", "HIGH")]) == [
        finding("HIGH", "HIGH")]


def test_threshold_rejects_bad_values() -> None:
    """Unknown levels and a bare string of skips are refused with a clear message."""
    with pytest.raises(ValueError, match="min_severity"):
        Threshold("CRITICAL", "HIGH")
    with pytest.raises(ValueError, match="skip_tests"):
        Threshold("HIGH", "HIGH", "B101")


def test_default_threshold_is_the_measured_one() -> None:
    """The default is MEDIUM severity, HIGH confidence, audit-only tests skipped."""
    assert DEFAULT_THRESHOLD == Threshold()
    assert (DEFAULT_THRESHOLD.min_severity, DEFAULT_THRESHOLD.min_confidence) == (
        "MEDIUM", "HIGH")
    assert DEFAULT_THRESHOLD.skip_tests == AUDIT_TESTS
    found = scan_blocks(list(SNIPPETS.items()), workers=1)
    decided = {name for name, fs in found.items() if DEFAULT_THRESHOLD.deciding(fs)}
    assert decided == {"shell", "pickle", "md5"}


def test_importing_core_static_loads_neither_bandit_nor_rich() -> None:
    """bandit imports rich at module level, so core.evaluation.static imports bandit only to scan."""
    script = ("import sys, core.evaluation.static, core.evaluation.extract, core.evaluation.agreement, core.evaluation.aggregate\n"
              "print(sorted({m.split('.')[0] for m in sys.modules} & "
              "{'bandit', 'rich', 'textual', 'arena_tui'}))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def _python_texts(reply: str) -> list[tuple[str, int]]:
    """Texts of ``reply`` bandit can be run on, each with the reply line of its line 1:
    the reply itself when it is Python (parses, with an import, def, class or call), and
    the content of each Python fence, as written and dedented."""
    texts = []
    try:
        tree = ast.parse(reply)
    except (SyntaxError, ValueError):
        tree = None
    if tree is not None and any(isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef,
                                                  ast.ClassDef, ast.Call))
                                for node in ast.walk(tree)):
        texts.append((reply, 1))
    lines = reply.split("\n")
    opening = None
    for number, line in enumerate(lines):
        fence = line.strip()
        if opening is None and fence.startswith("```") and fence[3:].strip() in ("python", "py", "python3"):
            opening = number
        elif opening is not None and fence == "```":
            content = "\n".join(lines[opening + 1:number])
            texts += [(content, opening + 2), (textwrap.dedent(content), opening + 2)]
            opening = None
    return texts


def test_never_fewer_findings_than_bandit_alone() -> None:
    """On every text bandit can be run on by itself, the static stage on the whole reply
    finds at least bandit's findings (same line, same test): the reply when it is all
    Python, each Python fence's content, and each insecure snippet of
    benchmarks/bench_static_recall.py in every shape it is pasted in (fenced, unfenced,
    markdown-indented, with a prose line, cut off). Over the benchmark's reply corpus too."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import bench_static_recall
    import reply_corpus

    replies = [item.reply for item in reply_corpus.generate(300, seed=5)]
    cases: list[tuple[int, str, Callable[[int], int]]] = []  # (reply, text, text line -> reply line)
    for code in bench_static_recall.SNIPPETS:
        for shape in bench_static_recall.SHAPES:
            reply, to_reply = bench_static_recall.shaped(code, shape)
            replies.append(reply)
            cases.append((len(replies) - 1, code, to_reply))
    for number, reply in enumerate(replies):
        for text, first in _python_texts(reply):
            cases.append((number, text, lambda line, first=first: line + first - 1))
    reference = bench_static_recall.bandit_findings([text for _, text, _ in cases])
    scans = scan_replies(list(enumerate(replies)), workers=2)
    missing = []
    for (number, _, to_reply), found in zip(cases, reference, strict=True):
        stage = {(f.line_in_reply, f.test_id) for f in scans[number].findings}
        missing += [(number, to_reply(line), test) for line, test in found
                    if (to_reply(line), test) not in stage]
    assert sum(len(found) for found in reference) > 500
    assert missing == []


BIDI_SNIPPETS = {
    "bidi_string": "access = 'user'\nif access != 'none\u202e\u2066':  # admin \u2069\u2066\n    print('admin')\n",
    "bidi_comment": "import subprocess\n# \u2067 reordered\nsubprocess.call('ls', shell=True)\n",
    "rlm": "name = 'x\u200f'\n",
    "latin1_cookie": "# -*- coding: latin-1 -*-\ntext = 'caf\u00e9 \u202e'\n",
    # ASCII only, but bandit decodes the block's bytes as the cookie says: in UTF-16 the
    # bytes ". " are U+202E (parsed as text, the cookie is ignored).
    "utf16_cookie": "# coding: utf-16\nx = 1\ny = '. b' \n",
    "coding_word": "coding = 'utf-8'\nimport pickle\n",
}


def test_trojansource_skipped_only_where_it_cannot_find_anything(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    """B613 is left out for blocks with no bidirectional control character and no coding
    cookie; findings are those of running it on every block, and bandit's own on files."""
    from core.evaluation import static

    engine = static._engine()
    blocks = list(SNIPPETS.items()) + list(BIDI_SNIPPETS.items())
    assert not any(engine._may_hold_bidi(code) for _, code in SNIPPETS.items())
    assert all(engine._may_hold_bidi(code) for _, code in BIDI_SNIPPETS.items())
    skipping = scan_blocks(blocks, workers=1)
    monkeypatch.setattr(engine, "_may_hold_bidi", lambda code: True)
    assert scan_blocks(blocks, workers=1) == skipping
    b613 = {name for name, found in skipping.items() if any(f.test_id == "B613" for f in found)}
    assert {"bidi_string", "bidi_comment", "rlm", "utf16_cookie"} <= b613
    assert not b613 & set(SNIPPETS)

    from bandit.core import config, manager

    # bandit reads files as bytes, honouring cookies: compare the UTF-8 ones.
    plain = {name: code for name, code in blocks if "coding:" not in code}
    for name, code in plain.items():
        (tmp_path / f"{name}.py").write_text(code, encoding="utf-8")
    bandit_manager = manager.BanditManager(config.BanditConfig(), "file", ignore_nosec=True)
    bandit_manager.discover_files([str(tmp_path)], recursive=True)
    bandit_manager.run_tests()
    expected = {(Path(issue.fname).stem, issue.lineno, issue.test_id, issue.text)
                for issue in bandit_manager.get_issue_list()}
    assert {(name, f.line_in_block, f.test_id, f.message) for name, fs in skipping.items() if name in plain
            for f in fs} == expected
