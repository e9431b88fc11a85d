"""Code extraction from defender replies (core.extract)."""

from __future__ import annotations

import textwrap
import time

import pytest

from core.extract import (
    MAX_AST_DEPTH,
    MAX_BLOCK_CHARS,
    MAX_BLOCKS_PER_REPLY,
    CodeBlock,
    extract_code_blocks,
)


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


def test_reply_cut_mid_block_keeps_the_largest_parseable_window() -> None:
    """An unclosed fence cut mid-statement keeps everything before the broken line."""
    reply = ("```python\nimport os\n\ndef run(cmd):\n    os.system(cmd)\n\n"
             "def report(results):\n    for key, value in sorted(results.items(")
    block = only(extract_code_blocks(reply))
    assert block.parsed
    assert block.window == (1, 4)
    assert "os.system(cmd)" in block.code and "sorted" not in block.code
    assert_located(reply, block)


def test_prose_pasted_inside_a_block_keeps_the_larger_side() -> None:
    """A prose line inside the code splits it; the larger parseable side is kept."""
    code_lines = ["import pickle", "", "def load(blob):", "    return pickle.loads(blob)",
                  "", "def save(obj):", "    return pickle.dumps(obj)"]
    reply = "```python\nHere is the code\n" + "\n".join(code_lines) + "\n```"
    block = only(extract_code_blocks(reply))
    assert block.parsed and block.window == (2, 8)
    assert block.code == "\n".join(code_lines)
    assert block.start_line == 3


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
