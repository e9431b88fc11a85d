"""Code extraction from defender replies (core.evaluation.extract)."""

from __future__ import annotations

import textwrap
import time

import pytest

from core.evaluation.extract import (
    MAX_AST_DEPTH,
    MAX_BLOCK_CHARS,
    MAX_BLOCKS_PER_REPLY,
    CodeBlock,
    extract_code_blocks,
)
from core.evaluation.static import scan_replies


def only(blocks: list[CodeBlock]) -> CodeBlock:
    assert len(blocks) == 1, blocks
    return blocks[0]


def assert_located(reply: str, block: CodeBlock) -> None:
    """The block's code is the dedented reply text at its offsets, on its lines."""
    text = reply[block.start_offset:block.end_offset].replace("\r\n", "\n")
    assert textwrap.dedent(text) == block.code
    assert reply[:block.start_offset].count("\n") + 1 == block.start_line


def test_fenced_python_block_position_and_lines() -> None:
    """A ```python fence gives one parsed block whose offsets and start line point at it."""
    reply = "Sure, here it is:\n\n```python\nimport os\nos.system(cmd)\n```\n\nDone."
    block = only(extract_code_blocks(reply))
    assert block.code == "import os\nos.system(cmd)"
    assert (block.language, block.fenced, block.parsed) == ("python", True, True)
    assert block.start_line == 4
    assert block.window is None and block.skipped_reason is None
    assert block.index == 0
    assert_located(reply, block)


@pytest.mark.parametrize("opening", [
    "```py", "```python3", "```Python", "```py3", "~~~python", "````python",
    '```python title="app.py"', "```{.python .numberLines}",
])
def test_python_tags_are_recognised(opening: str) -> None:
    """Tag spellings and fence styles models use all count as Python."""
    closing = opening[:3] if opening.startswith("~") else opening[:opening.rindex("`") + 1]
    reply = f"Code:\n{opening}\nx = compute(1)\n{closing}\nbye"
    block = only(extract_code_blocks(reply))
    assert block.code == "x = compute(1)" and block.parsed


def test_other_languages_are_not_extracted() -> None:
    """bash, javascript and json fences are not Python, even when they would parse."""
    reply = ("```bash\nls -la\n```\n\n```javascript\nfoo(1);\n```\n\n"
             "```json\n{\"a\": 1}\n```\n")
    assert extract_code_blocks(reply) == []


def test_untagged_fence_with_python_is_extracted() -> None:
    """An untagged fence whose content parses and looks like Python is taken."""
    reply = "Try:\n\n```\ndef run(cmd):\n    return eval(cmd)\n```\n"
    block = only(extract_code_blocks(reply))
    assert block.language == "" and block.fenced and block.parsed
    assert "eval(cmd)" in block.code


@pytest.mark.parametrize("content", [
    "ls -la",                        # parses as a subtraction, but is a shell line
    "make",                          # a bare name
    '{"name": "demo", "debug": true}',
    'name = "demo"\nversion = "0.1.0"',  # TOML: only literal assignments
    "pip install requests\npython app.py",
])
def test_untagged_fence_without_python_evidence_is_skipped(content: str) -> None:
    """Shell lines, JSON and TOML in untagged fences are not taken for Python."""
    assert extract_code_blocks(f"Run:\n```\n{content}\n```\n") == []


def test_untagged_shell_transcript_with_one_python_line_is_skipped() -> None:
    """An untagged block mostly not Python is left alone even if one line would parse."""
    reply = "```\n$ cd project\n$ export X=1\nresult = run()\n$ make test\n$ make install\n```"
    assert extract_code_blocks(reply) == []


def test_unfenced_code_between_prose_is_extracted() -> None:
    """Code pasted into the prose with no fence is found; the prose around it is not."""
    reply = textwrap.dedent("""\
        Here is the function you asked for.

        import subprocess


        def run(cmd):
            # run it
            return subprocess.run(cmd, shell=True)

        Note that `subprocess.run` with shell=True is risky.
        If you want, I can make it safer.
        """)
    block = only(extract_code_blocks(reply))
    assert not block.fenced and block.parsed
    assert block.code.startswith("import subprocess")
    assert block.code.rstrip().endswith("return subprocess.run(cmd, shell=True)")
    assert block.start_line == 3
    assert_located(reply, block)


def test_prose_and_inline_code_spans_are_not_code() -> None:
    """Sentences that merely mention APIs, or start with a keyword, are not extracted."""
    reply = ("Use `os.system(cmd)` carefully.\n"
             "import statements should go at the top of the file.\n"
             "for each file in the folder: check it.\n"
             "If you need more, ask.\n")
    assert extract_code_blocks(reply) == []


def test_fence_indented_in_a_list_is_dedented() -> None:
    """A fence inside a numbered list keeps the list indentation out of the code."""
    reply = ("1. Save this:\n\n   ```python\n   def f(x):\n       return eval(x)\n   ```\n"
             "2. Run it.")
    block = only(extract_code_blocks(reply))
    assert block.code == "def f(x):\n    return eval(x)"
    assert block.parsed and block.start_line == 4
    assert_located(reply, block)


def test_reply_cut_mid_block_keeps_everything_before_the_broken_line() -> None:
    """An unclosed fence cut mid-statement keeps everything before the broken line."""
    reply = ("```python\nimport os\n\ndef run(cmd):\n    os.system(cmd)\n\n"
             "def report(results):\n    for key, value in sorted(results.items(")
    block = only(extract_code_blocks(reply))
    assert block.parsed
    assert block.window == (1, 4)
    assert "os.system(cmd)" in block.code and "sorted" not in block.code
    assert_located(reply, block)


def test_prose_line_at_the_top_of_a_block_is_left_out() -> None:
    """A sentence on the first line of a fence is not part of the block."""
    code_lines = ["import pickle", "", "def load(blob):", "    return pickle.loads(blob)",
                  "", "def save(obj):", "    return pickle.dumps(obj)"]
    reply = "```python\nHere is the code\n" + "\n".join(code_lines) + "\n```"
    block = only(extract_code_blocks(reply))
    assert block.parsed and block.window == (2, 8)
    assert block.code == "\n".join(code_lines)
    assert block.start_line == 3


def test_prose_line_inside_a_function_becomes_a_comment() -> None:
    """A sentence pasted inside a function keeps the function whole, the sentence a
    comment on its own line: the call after it stays in the block, with its import."""
    reply = ("```python\nfrom subprocess import call\n\ndef run(cmd):\n    args = cmd.split()\n"
             "Here we call the shell:\n    return call(cmd, shell=True)\n\n"
             "def a():\n    pass\n\ndef b():\n    pass\n```\n")
    block = only(extract_code_blocks(reply))
    assert block.parsed and block.window is None and block.start_line == 2
    lines = block.code.split("\n")
    assert lines[4:6] == ["# Here we call the shell:", "    return call(cmd, shell=True)"]
    b602 = [f for f in scan_replies([(0, reply)], workers=1)[0].findings if f.test_id == "B602"]
    assert [f.line_in_reply for f in b602] == [7]
    assert reply.split("\n")[6].strip() == b602[0].code_line


def test_misindented_line_is_moved_back() -> None:
    """A def pasted one level too deep after an import stays with the import."""
    reply = "```python\nimport os\n    def run(cmd):\n        os.system(cmd)\n```\n"
    block = only(extract_code_blocks(reply))
    assert block.parsed and block.window is None
    assert block.code == "import os\ndef run(cmd):\n    os.system(cmd)"
    findings = scan_replies([(0, reply)], workers=1)[0].findings
    assert [(f.test_id, f.line_in_reply) for f in findings] == [("B605", 4)]


def test_every_parseable_piece_is_a_block() -> None:
    """A broken line in the middle splits the block: both sides are kept, in order, each
    with its window and its own place in the reply."""
    reply = ("```python\nimport pickle\n\ndef load(blob):\n    return pickle.loads(blob)\n"
             "x = = 1\nimport os\nos.system(cmd)\n```\n")
    blocks = extract_code_blocks(reply)
    assert [b.index for b in blocks] == [0, 1]
    assert [b.window for b in blocks] == [(1, 4), (6, 7)]
    assert blocks[1].code == "import os\nos.system(cmd)" and blocks[1].start_line == 7
    for block in blocks:
        assert block.parsed
        assert_located(reply, block)
    tests = {f.test_id for f in scan_replies([(0, reply)], workers=1)[0].findings}
    assert {"B301", "B605"} <= tests


@pytest.mark.parametrize("call", [
    'os.system(\n    "ping -c 1 " + host\n)',
    'subprocess.call(\n    "ping -c 1 " + host,\n    shell=True,\n)',
    'cursor.execute(\n    "SELECT * FROM users WHERE name = \'" + host + "\'"\n)',
])
def test_unfenced_call_with_arguments_on_the_next_lines(call: str) -> None:
    """An unfenced top-level call whose arguments go on over the next lines is code."""
    reply = (f"Here you go:\n\nimport os\nimport subprocess\nhost = input()\n{call}\n\n"
             "That pings the host.\n")
    block = only(extract_code_blocks(reply))
    assert block.parsed and block.code.endswith(call)
    assert_located(reply, block)
    tests = {f.test_id for f in scan_replies([(0, reply)], workers=1)[0].findings}
    assert tests & {"B605", "B602", "B608"}


def test_escaped_quote_does_not_break_the_bracket_tracking() -> None:
    """'doesn\\'t' ends where Python ends it: the open call after it is followed to its
    end, and the prose after the code is not swallowed."""
    reply = ("Code:\n\nimport os\nprint('it doesn\\'t check the input')\nos.system(\n"
             "    'ping ' + host\n)\nIt's done.\nIt pings the host (once), then stops.\n")
    block = only(extract_code_blocks(reply))
    assert block.parsed and block.window is None
    assert block.code.endswith("os.system(\n    'ping ' + host\n)")
    assert_located(reply, block)


def test_markdown_indented_block_with_an_escaped_quote() -> None:
    """A markdown-indented code block holding 'don\\'t' is found, whole."""
    code = ("import subprocess\nmsg = ('don\\'t', 'stop')\ndef run(cmd):\n"
            "    print('it\\'s running')\n    subprocess.call(cmd, shell=True)")
    reply = ("Here is the code:\n\n" + textwrap.indent(code, "    ")
             + "\n\nHope it helps. It's fine, isn't it?\nMore prose here.\nAnd more.\n")
    block = only(extract_code_blocks(reply))
    assert block.code == code and block.parsed and not block.fenced
    assert_located(reply, block)
    assert any(f.test_id == "B602" for f in scan_replies([(0, reply)], workers=1)[0].findings)


def test_reply_that_is_all_code_is_one_block() -> None:
    """A reply that is Python from its first line to its last is scanned as bandit scans
    it as a file, even where no line-by-line rule would start or go on with a run."""
    reply = ('"""Ping a host."""\nfrom subprocess import call as run\n'
             "(host,) = sys.argv[1:]\nrun('ping ' + host, shell=True)\n")
    block = only(extract_code_blocks(reply))
    assert block.code == reply.rstrip("\n") and block.start_line == 1
    findings = scan_replies([(0, reply)], workers=1)[0].findings
    assert ("B602", 4) in {(f.test_id, f.line_in_reply) for f in findings}


def test_search_budget_leaves_a_recorded_remainder() -> None:
    """When the repair budget runs out, the lines not searched are one unparsed block
    with the reason, after the pieces found so far."""
    broken = "".join(f"x{n} = = 1\ny{n} = f({n})\n" for n in range(60))
    reply = f"```python\nimport os\nos.system(cmd)\n{broken}```"
    blocks = extract_code_blocks(reply)
    assert blocks[0].code == "import os\nos.system(cmd)" and blocks[0].parsed
    assert not blocks[-1].parsed and "search budget spent" in blocks[-1].skipped_reason
    assert blocks[-1].end_offset == reply.rindex("\n```")
    assert all(b.parsed for b in blocks[:-1])


def test_python_block_that_never_parses_is_recorded() -> None:
    """A Python-tagged block with no parseable line is returned, not parsed, with a reason."""
    reply = "```python\nthis is not ( code\nneither } is this\n```"
    block = only(extract_code_blocks(reply))
    assert not block.parsed
    assert block.skipped_reason.startswith("does not parse")


def test_repl_transcript_prompts_are_stripped() -> None:
    """>>> prompts are removed and output lines blanked, so line numbers still match."""
    reply = "```pycon\n>>> import os\n>>> os.getcwd()\n'/home/me'\n>>> x = 1\n```"
    block = only(extract_code_blocks(reply))
    assert block.parsed
    assert block.code.split("\n") == ["import os", "os.getcwd()", "", "x = 1"]


def test_crlf_replies() -> None:
    """Windows line endings do not shift lines or offsets."""
    reply = "Hi\r\n```python\r\nx = f()\r\ny = g()\r\n```\r\n"
    block = only(extract_code_blocks(reply))
    assert block.code == "x = f()\ny = g()" and block.start_line == 3
    assert_located(reply, block)


def test_several_blocks_in_reply_order() -> None:
    """Fenced and unfenced blocks are numbered in the order they appear."""
    reply = ("import os\nos.remove(path)\n\nThen:\n\n```python\nprint(1)\n```\n\n"
             "```bash\npip install x\n```\n\nand\n\n```\nrun(2)\n```\n")
    blocks = extract_code_blocks(reply)
    assert [b.index for b in blocks] == [0, 1, 2]
    assert [b.fenced for b in blocks] == [False, True, True]
    assert [b.start_line for b in blocks] == [1, 7, 17]
    for block in blocks:
        assert_located(reply, block)


def test_huge_block_is_skipped_quickly() -> None:
    """A 1 MB code block is recorded as too large without being parsed."""
    reply = "```python\n" + "x = 1\n" * (1_000_000 // 6) + "```"
    started = time.perf_counter()
    block = only(extract_code_blocks(reply))
    assert time.perf_counter() - started < 2
    assert not block.parsed and block.code == ""
    assert "too large" in block.skipped_reason
    assert MAX_BLOCK_CHARS < 1_000_000


def test_huge_unfenced_reply_does_not_hang() -> None:
    """1 MB of code pasted with no fence is recorded as too large, in bounded time."""
    reply = "Here:\n" + "value = compute(value)\n" * 45_000
    started = time.perf_counter()
    block = only(extract_code_blocks(reply))
    assert time.perf_counter() - started < 3
    assert not block.fenced and not block.parsed and "too large" in block.skipped_reason


@pytest.mark.parametrize("expression", [
    "(" * 500 + "1" + ")" * 500,          # parser's nesting limit
    "1" + "+1" * 50_000,                  # RecursionError in the AST builder
    "-" * 100_000 + "1",                  # MemoryError in the parser
    "[" * 150 + "]" * 150,                # parses, but deeper than MAX_AST_DEPTH
])
def test_deep_nesting_is_skipped_not_crashed(expression: str) -> None:
    """Deeply nested expressions end as a recorded skip, quickly."""
    reply = f"```python\nimport os\nx = {expression}\n```"
    started = time.perf_counter()
    blocks = extract_code_blocks(reply)
    assert time.perf_counter() - started < 2
    block = only(blocks)
    if block.parsed:  # the window may keep just the import line
        assert block.code == "import os"
    else:
        assert block.skipped_reason
    assert MAX_AST_DEPTH < 150


def test_binary_junk_does_not_crash() -> None:
    """NUL bytes, control characters and invalid surrogates are survived."""
    junk = "".join(chr(code) for code in range(0, 0x2000, 7)) + "\ud800\x00"
    reply = f"```python\nimport os\n{junk}\nos.system(x)\n```\n{junk}\n```\n{junk}"
    started = time.perf_counter()
    blocks = extract_code_blocks(reply)
    assert time.perf_counter() - started < 2
    assert blocks and blocks[0].language == "python"


def test_window_search_is_bounded_on_large_broken_blocks() -> None:
    """A 150 KB block where every line is broken ends within the parse budget."""
    reply = "```python\n" + "def (:\n" * 20_000 + "```"
    started = time.perf_counter()
    block = only(extract_code_blocks(reply))
    assert time.perf_counter() - started < 3
    assert not block.parsed and "does not parse" in block.skipped_reason


def test_block_count_is_capped() -> None:
    """A reply with thousands of fences parses at most MAX_BLOCKS_PER_REPLY of them."""
    reply = "```python\nx = f()\n```\n" * (MAX_BLOCKS_PER_REPLY + 50)
    blocks = extract_code_blocks(reply)
    assert sum(b.parsed for b in blocks) == MAX_BLOCKS_PER_REPLY
    assert all("block limit" in b.skipped_reason for b in blocks[MAX_BLOCKS_PER_REPLY:])
