"""Find the Python code in a defender reply.

What counts as code (docs/evaluation.md, "Extraction"):

- fenced blocks tagged ``python``, ``py``, ``python3``, ``py3``, ``pycon``, ``ipython``
  (backticks or tildes, any indentation, info strings like ``python title="x"``);
- untagged fences (or ``text``/``code``-tagged ones) whose content parses as Python and
  shows Python evidence (an import, a def/class, a call, control flow, ...), so shell
  transcripts, JSON and TOML are left alone;
- code pasted into the prose with no fence, when a run of lines starting with a clear
  Python statement parses and shows Python evidence.

Blocks are dedented. A block that does not parse keeps its largest parseable window of
lines (a reply cut off mid-statement, a prose line pasted inside the code); the window is
recorded. All work is bounded: block size, number of blocks, parse attempts per block and
AST depth are capped, and a block over a cap is returned with ``skipped_reason`` set
instead of being parsed. Lines are counted on ``\\n``; line numbers are 1-based.
"""

from __future__ import annotations

import ast
import heapq
import re
import textwrap
from dataclasses import dataclass

__all__ = [
    "CodeBlock",
    "MAX_AST_DEPTH",
    "MAX_BLOCK_CHARS",
    "MAX_BLOCKS_PER_REPLY",
    "ast_depth_exceeds",
    "extract_blocks_and_trees",
    "extract_code_blocks",
    "parse_bounded",
]

# Real answers are a few KB of code; 200 KB is far beyond any useful block and parses in
# ~20 ms, so anything larger is junk or a flood and is recorded as skipped.
MAX_BLOCK_CHARS = 200_000
# bandit walks the AST recursively and some of its checks are quadratic in the length of
# an operator chain. Hand-written code is shallow: over the standard library and a
# virtualenv of packages (15,850 files) the median depth is 11, the 99.9th percentile 44,
# and only generated tables pass 100.
MAX_AST_DEPTH = 100
# A reply with thousands of tiny fences must not cost thousands of parses.
MAX_BLOCKS_PER_REPLY = 100
# Window search: parse attempts and characters parsed per block (a 200 KB block whose
# every line is broken would otherwise cost O(lines^2)).
MAX_PARSE_ATTEMPTS = 48
MAX_PARSE_CHARS = 4_000_000

PYTHON_TAGS = frozenset({"python", "py", "python3", "py3", "pycon", "ipython", "python-repl"})
UNTAGGED_TAGS = frozenset({"", "text", "txt", "plain", "plaintext", "code", "none"})
# An untagged block is taken as Python only when its parseable window covers at least
# this share of its non-blank lines (a shell transcript with one `x = f()` line is not).
UNTAGGED_MIN_COVERAGE = 0.5

_OPEN_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_INFO_WORD = re.compile(r"[\w+.-]+")
_PROMPT = re.compile(r"^(>>>|\.\.\.)( |$)")

# A line that clearly starts a Python statement (used to start an unfenced run).
_STRONG_START = re.compile(
    r"""^(?:
        from\s+[\w.]+\s+import\s+\S
      | import\s+[\w.]+(?:\s+as\s+\w+)?(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*\s*(?:\#.*)?$
      | (?:async\s+)?def\s+\w+\s*\(
      | class\s+\w+\s*[(:]
      | @[\w.]+(?:\(.*)?\s*$
      | (?:if|elif|while|for|with|try|except|finally|else)\b.*:\s*(?:\#.*)?$
      | [A-Za-z_][\w.]*(?:\[[^\]]*\])?(?:\s*,\s*[A-Za-z_][\w.]*)*\s*
            (?:[-+*/%|&^@]|//|\*\*|>>|<<)?=\s*[^=\s]
      | [A-Za-z_][\w.]*\(.*\)\s*(?:\#.*)?$
      | (?:return|raise|yield|assert|del|global|nonlocal|pass|break|continue)\b
      | \#!
    )""",
    re.VERBOSE,
)
_CLAUSE_CONTINUATION = re.compile(r"^(?:elif|else|except|finally|case)\b.*:\s*(?:#.*)?$")
_CLOSER = re.compile(r"^[)\]}]")

_EVIDENCE_TYPES = (
    ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
    ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.AsyncWith, ast.Try,
    ast.Return, ast.Raise, ast.Call, ast.Lambda, ast.Assert, ast.Delete,
)


@dataclass(frozen=True)
class CodeBlock:
    """One piece of Python code found in a reply.

    ``code`` is the dedented text that was (or would have been) parsed; it sits on reply
    lines ``start_line`` .. ``start_line + code.count("\\n")`` and at characters
    ``start_offset`` .. ``end_offset`` of the reply, so a finding on line *n* of the block
    is on reply line ``start_line + n - 1``. ``window`` is the (first, last) line, 1-based
    within the block's content (the lines between the fences, or the unfenced run), that
    was kept when the block had to shrink to parse; None when the whole block parsed.
    ``skipped_reason`` says why a block was not parsed (too large, too deep, no parseable
    window, block limit); ``parsed`` is True only when ``code`` parses within the limits.
    """

    index: int
    start_offset: int
    end_offset: int
    start_line: int
    code: str
    language: str
    fenced: bool
    parsed: bool
    window: tuple[int, int] | None = None
    skipped_reason: str | None = None


@dataclass
class _Candidate:
    """Raw block content before parsing: content lines and where line 1 sits in the reply."""

    first_line: int  # 0-based index into the reply's lines
    lines: list[str]
    language: str
    fenced: bool
    untagged: bool


def parse_bounded(code: str) -> tuple[ast.Module | None, str | None, int | None]:
    """Parse ``code``; returns (tree, error message, error line) with no exception escaping.

    Deep nesting makes CPython's parser raise RecursionError or MemoryError and NUL bytes
    raise ValueError; all of them are reported as errors. A tree deeper than
    MAX_AST_DEPTH is refused too, since bandit would recurse through it.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError as error:
        return None, f"{type(error).__name__}: {error.msg}", error.lineno
    except (RecursionError, MemoryError):
        return None, "nesting too deep to parse", None
    except ValueError as error:
        return None, f"invalid source: {error}", None
    if ast_depth_exceeds(tree, MAX_AST_DEPTH):
        return None, f"nesting too deep (AST depth > {MAX_AST_DEPTH})", None
    return tree, None, None


def ast_depth_exceeds(tree: ast.AST, limit: int) -> bool:
    """True when some node of ``tree`` is more than ``limit`` levels deep.

    Walks level by level without recursion (and without ast.iter_child_nodes, which
    costs as much as the parse itself on typical blocks).
    """
    node_type = ast.AST
    level = [tree]
    depth = 0
    while level:
        if depth > limit:
            return True
        below = []
        for node in level:
            for name in node._fields:
                value = getattr(node, name, None)
                if isinstance(value, list):
                    below.extend(item for item in value if isinstance(item, node_type))
                elif isinstance(value, node_type) and not isinstance(value, ast.expr_context):
                    below.append(value)
        level = below
        depth += 1
    return False


def _has_python_evidence(tree: ast.Module) -> bool:
    return any(isinstance(node, _EVIDENCE_TYPES) for node in ast.walk(tree))


def _dedent(lines: list[str]) -> str:
    return textwrap.dedent("\n".join(lines))


def _strip_prompts(lines: list[str]) -> list[str]:
    """Turn a ``>>>`` REPL transcript into code, blanking output lines to keep numbering."""
    kept = []
    for line in lines:
        stripped = line.lstrip()
        match = _PROMPT.match(stripped)
        kept.append(stripped[match.end():] if match else "")
    return kept


def _is_repl(lines: list[str]) -> bool:
    for line in lines:
        if line.strip():
            return line.lstrip().startswith(">>>")
    return False


class _Budget:
    def __init__(self) -> None:
        self.attempts = MAX_PARSE_ATTEMPTS
        self.chars = MAX_PARSE_CHARS

    def spend(self, text: str) -> bool:
        if self.attempts <= 0 or self.chars < len(text):
            return False
        self.attempts -= 1
        self.chars -= len(text)
        return True


def _largest_window(
    lines: list[str],
) -> tuple[tuple[int, int] | None, ast.Module | None, str | None]:
    """Largest run of lines (0-based, inclusive) that parses; (window, tree, first error).

    Splits at the line each syntax error points to and searches the pieces largest first,
    so the first piece that parses is the largest candidate; bounded by _Budget.
    """
    budget = _Budget()
    heap: list[tuple[int, int, int]] = [(-len(lines), 0, len(lines) - 1)]
    first_error = None
    while heap:
        _, low, high = heapq.heappop(heap)
        while low <= high and not lines[low].strip():
            low += 1
        while high >= low and not lines[high].strip():
            high -= 1
        if low > high:
            continue
        text = _dedent(lines[low:high + 1])
        if not budget.spend(text):
            return None, None, (first_error or "no parseable window") + " (search budget spent)"
        tree, error, error_line = parse_bounded(text)
        if tree is not None:
            return (low, high), tree, first_error
        if first_error is None:
            first_error = error
        if error_line is None:
            # Too deep / invalid bytes: shrinking around an unknown line would not help.
            return None, None, error
        bad = min(max(low + error_line - 1, low), high)
        for part_low, part_high in ((low, bad - 1), (bad + 1, high)):
            if part_low <= part_high:
                heapq.heappush(heap, (-(part_high - part_low + 1), part_low, part_high))
    return None, None, first_error or "no parseable window"


def _fence_info(info: str) -> str:
    match = _INFO_WORD.search(info.strip().lstrip("{").lstrip("."))
    return match.group(0).lower() if match else ""


def _scan_fences(lines: list[str]) -> tuple[list[_Candidate], list[bool]]:
    """Fenced candidates, and a per-line mask of lines that belong to any fence."""
    candidates = []
    in_fence = [False] * len(lines)
    position = 0
    while position < len(lines):
        match = _OPEN_FENCE.match(lines[position])
        if not match or (match["fence"][0] == "`" and "`" in match["info"]):
            position += 1
            continue
        fence = match["fence"]
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        end = position + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        for covered in range(position, min(end + 1, len(lines))):
            in_fence[covered] = True
        language = _fence_info(match["info"])
        if language in PYTHON_TAGS or language in UNTAGGED_TAGS:
            candidates.append(_Candidate(
                first_line=position + 1, lines=lines[position + 1:end], language=language,
                fenced=True, untagged=language in UNTAGGED_TAGS,
            ))
        position = end + 1
    return candidates, in_fence


def _line_state(line: str, state: tuple[int, str | None]) -> tuple[int, str | None]:
    """Bracket depth and open triple-quote after ``line`` (approximate, one pass)."""
    depth, triple = state
    position = 0
    length = len(line)
    while position < length:
        if triple:
            found = line.find(triple, position)
            if found < 0:
                return depth, triple
            triple, position = None, found + 3
            continue
        char = line[position]
        if char == "#":
            break
        if char in "\"'":
            if line.startswith(char * 3, position):
                triple, position = char * 3, position + 3
                continue
            closing = line.find(char, position + 1)
            position = length if closing < 0 else closing + 1
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        position += 1
    return depth, triple


def _scan_unfenced(lines: list[str], in_fence: list[bool]) -> list[_Candidate]:
    """Runs of prose-free lines that start with a clear Python statement."""
    candidates = []
    position = 0
    count = len(lines)
    while position < count:
        line = lines[position]
        if in_fence[position] or len(line) > MAX_BLOCK_CHARS or not _STRONG_START.match(
            line.strip()
        ):
            position += 1
            continue
        base_indent = len(line) - len(line.lstrip())
        state = _line_state(line, (0, None))
        end = position  # last line of the run so far
        cursor = position + 1
        while cursor < count and not in_fence[cursor]:
            text = lines[cursor]
            stripped = text.strip()
            open_construct = state[0] > 0 or state[1] is not None or lines[end].endswith("\\")
            if not stripped or stripped.startswith("#"):
                cursor += 1  # kept only if code follows
                continue
            indent = len(text) - len(text.lstrip())
            if (open_construct or indent > base_indent or _STRONG_START.match(stripped)
                    or _CLAUSE_CONTINUATION.match(stripped) or _CLOSER.match(stripped)):
                for between in range(end + 1, cursor + 1):
                    state = _line_state(lines[between], state)
                end = cursor
                cursor += 1
                continue
            break
        candidates.append(_Candidate(
            first_line=position, lines=lines[position:end + 1], language="", fenced=False,
            untagged=True,
        ))
        position = end + 1
    return candidates


def _line_starts(reply: str) -> list[int]:
    starts = [0]
    find = reply.find
    position = find("\n")
    while position >= 0:
        starts.append(position + 1)
        position = find("\n", position + 1)
    return starts


def extract_code_blocks(reply: str) -> list[CodeBlock]:
    """Every Python code block in ``reply``, in reply order (see the module docstring)."""
    return [block for block, _ in extract_blocks_and_trees(reply)]


def extract_blocks_and_trees(reply: str) -> list[tuple[CodeBlock, ast.Module | None]]:
    """``extract_code_blocks`` plus each parsed block's AST (None when not parsed).

    The static stage uses the trees so that each block is parsed once.
    """
    raw_lines = reply.split("\n")
    lines = [line[:-1] if line.endswith("\r") else line for line in raw_lines]
    lines = [line.replace("\r", " ") if "\r" in line else line for line in lines]
    starts = _line_starts(reply)
    fenced, in_fence = _scan_fences(lines)
    candidates = sorted(fenced + _scan_unfenced(lines, in_fence), key=lambda c: c.first_line)

    blocks: list[tuple[CodeBlock, ast.Module | None]] = []
    for candidate in candidates:
        built = _build_block(candidate, len(blocks), starts, raw_lines,
                             over_limit=len(blocks) >= MAX_BLOCKS_PER_REPLY)
        if built is not None:
            blocks.append(built)
    return blocks


def _build_block(
    candidate: _Candidate, index: int, starts: list[int], raw_lines: list[str],
    over_limit: bool,
) -> tuple[CodeBlock, ast.Module | None] | None:
    lines = candidate.lines
    low, high = 0, len(lines) - 1
    while low <= high and not lines[low].strip():
        low += 1
    while high >= low and not lines[high].strip():
        high -= 1
    if low > high:
        return None
    lines = lines[low:high + 1]
    first_line = candidate.first_line + low

    def span(first: int, last: int) -> tuple[int, int]:
        """Character offsets of lines first..last (indices into ``lines``) in the reply."""
        start = starts[first_line + first]
        end_line = first_line + last
        return start, starts[end_line] + len(raw_lines[end_line].rstrip("\r"))

    size = sum(len(line) + 1 for line in lines)
    if over_limit or size > MAX_BLOCK_CHARS:
        start, end = span(0, len(lines) - 1)
        reason = (f"block limit reached ({MAX_BLOCKS_PER_REPLY} per reply)" if over_limit
                  else f"block too large ({size} chars > {MAX_BLOCK_CHARS})")
        return CodeBlock(index, start, end, first_line + 1, "", candidate.language,
                         candidate.fenced, False, None, reason), None

    if _is_repl(lines):
        lines = _strip_prompts(lines)
    window, tree, error = _largest_window(lines)
    if candidate.untagged:
        if window is None or not _has_python_evidence(tree):
            return None
        covered = sum(1 for line in lines[window[0]:window[1] + 1] if line.strip())
        total = sum(1 for line in lines if line.strip())
        if covered < UNTAGGED_MIN_COVERAGE * total:
            return None
    if window is None:
        start, end = span(0, len(lines) - 1)
        return CodeBlock(index, start, end, first_line + 1, _dedent(lines),
                         candidate.language, candidate.fenced, False, None,
                         f"does not parse: {error}"), None
    first, last = window
    start, end = span(first, last)
    shrunk = (first, last) != (0, len(lines) - 1)
    return CodeBlock(
        index, start, end, first_line + first + 1, _dedent(lines[first:last + 1]),
        candidate.language, candidate.fenced, True,
        (low + first + 1, low + last + 1) if shrunk else None, None,
    ), tree
