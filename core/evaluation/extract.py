"""Find the Python code in a defender reply.

What counts as code (docs/evaluation.md, "Extraction"):

- fenced blocks tagged ``python``, ``py``, ``python3``, ``py3``, ``pycon``, ``ipython``
  (backticks or tildes, any indentation, info strings like ``python title="x"``);
- untagged fences (or ``text``/``code``-tagged ones) whose content parses as Python and
  shows Python evidence (an import, a def/class, a call, control flow, ...), so shell
  transcripts, JSON and TOML are left alone;
- code pasted into the prose with no fence, when a run of lines starting with a clear
  Python statement parses and shows Python evidence; markdown-indented code blocks; a
  reply that is Python from its first line to its last.

Blocks are dedented. A block that does not parse is repaired and split rather than cut
down to one window: a prose line inside it becomes a comment, a line indented too far is
moved back, and what still fails is split at the line the error points to, every
parseable piece becoming a block of its own (``window`` records its lines). All work is
bounded: block size, number of blocks, parse attempts per block and AST depth are capped,
and a block over a cap is returned with ``skipped_reason`` set instead of being parsed.
Lines are counted on ``\\n``; line numbers are 1-based.
"""

from __future__ import annotations

import ast
import os.path
import re
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
# Repair and split: parse attempts and characters parsed per block (a 200 KB block whose
# every line is broken would otherwise cost O(lines^2)).
MAX_PARSE_ATTEMPTS = 48
MAX_PARSE_CHARS = 4_000_000

PYTHON_TAGS = frozenset({"python", "py", "python3", "py3", "pycon", "ipython", "python-repl"})
UNTAGGED_TAGS = frozenset({"", "text", "txt", "plain", "plaintext", "code", "none"})
# An untagged block is taken as Python only when its parseable pieces cover at least this
# share of its non-blank lines (a shell transcript with one `x = f()` line is not).
UNTAGGED_MIN_COVERAGE = 0.5
# A run of unfenced lines indented this far after a blank line is a markdown code block.
MARKDOWN_CODE_INDENT = 4

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
# A call whose arguments go on over the next lines: `subprocess.call(` (checked with
# _line_state that the bracket is still open at the end of the line).
_OPEN_CALL = re.compile(r"^(?:await\s+)?[A-Za-z_][\w.]*\(")
_CLAUSE_CONTINUATION = re.compile(r"^(?:elif|else|except|finally|case)\b.*:\s*(?:#.*)?$")
_CLOSER = re.compile(r"^[)\]}]")
# A sentence pasted into a block ("Here we call the shell:"): three or more words, no
# brackets, quotes or "=", not starting with a Python keyword. Only a line a syntax error
# points at is tested, and it becomes a comment so the code around it stays one block.
_PROSE_LINE = re.compile(
    r"""^(?!(?:and|as|assert|async|await|break|case|class|continue|def|del|elif|else
            |except|finally|for|from|global|if|import|in|is|lambda|match|nonlocal|not|or
            |pass|raise|return|try|while|with|yield)\b)
        [^\W\d_][^\s=()\[\]{}"`]*(?:[ \t]+[^\s=()\[\]{}"`]+){2,}$""",
    re.VERBOSE,
)

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
    is on reply line ``start_line + n - 1``. A prose line inside the code is in ``code`` as
    a comment (``# `` before it), and a line indented too far is moved back, so that the
    block parses with every line where it was. ``window`` is the (first, last) line,
    1-based within the content (the lines between the fences, or the unfenced run), of a
    block that is one of several pieces of its content, or that had to drop lines to
    parse; None when the whole content is this block. ``skipped_reason`` says why a block
    was not parsed (too large, too deep, does not parse, block limit); ``parsed`` is True
    only when ``code`` parses within the limits.
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


@dataclass
class _Piece:
    """Lines ``low``..``high`` (0-based, within a candidate) and what became of them:
    ``tree`` and ``code`` when they parse (``prose`` lines of them turned into comments),
    else ``reason`` (a limit, not a syntax error)."""

    low: int
    high: int
    code: str
    tree: ast.Module | None = None
    reason: str | None = None
    prose: int = 0


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


def _indent(line: str) -> str:
    return line[:len(line) - len(line.lstrip(" \t"))]


def _dedented(lines: list[str], comments: set[int] | frozenset[int] = frozenset(),
              first: int = 0) -> tuple[str, str]:
    """(text to parse, code to show) of ``lines`` without their common indentation.

    As ``textwrap.dedent``: the margin is the longest whitespace prefix shared by the
    non-blank lines, and whitespace-only lines become empty. Lines whose index
    (``first`` + position) is in ``comments`` are empty in the text to parse, so they
    neither count for the margin nor reach the parser, and ``# `` + their text in the
    code to show (a comment line, which changes no line number and no tree).
    """
    kept = [line for position, line in enumerate(lines, first)
            if line.strip() and position not in comments]
    margin = os.path.commonprefix([_indent(line) for line in kept]) if kept else ""
    cut = len(margin)
    parse, show = [], []
    for position, line in enumerate(lines, first):
        if position in comments:
            parse.append("")
            indent = _indent(line)
            show.append(indent[cut:] + "# " + line.strip() if indent.startswith(margin)
                        else "# " + line.strip())
        else:
            text = line[cut:] if line.strip() else ""
            parse.append(text)
            show.append(text)
    return "\n".join(parse), "\n".join(show)


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


def _parse_pieces(lines: list[str]) -> tuple[list[_Piece], str | None]:
    """Every parseable piece of ``lines``, in order, and the first syntax error met.

    A range of lines that does not parse is repaired or split at the line the error
    points to, and each side is tried again:

    - a prose line there becomes a comment, and the same range is tried again;
    - an unexpected indent moves that line and the rest of the range back to the
      indentation of the line before it (for the first line: of the lines after it);
    - otherwise the range is split before that line; when the line is the first of its
      range it is dropped (it does not parse even at the start of a piece).

    A range that fails with no line to point at (nesting too deep, NUL bytes) or that
    the search budget cannot pay for is returned as a piece with ``reason`` set.
    """
    work = list(lines)
    comments: set[int] = set()
    budget = _Budget()
    pieces: list[_Piece] = []
    first_error = None
    pending = [(0, len(work) - 1)]  # a stack: the earlier range is always on top
    while pending:
        low, high = pending.pop()
        while low <= high and (not work[low].strip() or low in comments):
            low += 1
        while high >= low and (not work[high].strip() or high in comments):
            high -= 1
        if low > high:
            continue
        text, show = _dedented(work[low:high + 1], comments, low)
        if not budget.spend(text):
            reason = f"does not parse: {first_error or 'no parseable piece'} (search budget spent)"
            high = max([high] + [range_high for _, range_high in pending])
            pieces.append(_Piece(low, high, _dedented(work[low:high + 1], comments, low)[1],
                                 reason=reason))
            break
        tree, error, error_line = parse_bounded(text)
        if tree is not None:
            prose = sum(1 for line in comments if low <= line <= high)
            pieces.append(_Piece(low, high, show, tree, prose=prose))
            continue
        if error_line is None:  # too deep or invalid bytes: no line to repair or split at
            pieces.append(_Piece(low, high, show, reason=f"does not parse: {error}"))
            continue
        first_error = first_error or error
        bad = min(max(low + error_line - 1, low), high)
        while bad < high and (not work[bad].strip() or bad in comments):
            bad += 1
        stripped = work[bad].strip()
        if _PROSE_LINE.match(stripped):
            comments.add(bad)
            pending.append((low, high))
        elif error.endswith("unexpected indent") and _unindent(work, bad, low, high, comments):
            pending.append((low, high))
        elif bad > low:
            pending += [(bad, high), (low, bad - 1)]
        else:
            pending.append((bad + 1, high))
    return pieces, first_error


def _unindent(work: list[str], bad: int, low: int, high: int, comments: set[int]) -> bool:
    """Move line ``bad`` (an unexpected indent) back; False when it would not move.

    Inside the range it goes to the indentation of the code line before it, and the
    lines after it move by the same width (at most their own indentation): code pasted
    one level too deep stays one block. The first line of a range goes alone, to the
    shallowest indentation of the lines after it.
    """
    code = [i for i in range(low, high + 1) if work[i].strip() and i not in comments]
    before = [i for i in code if i < bad]
    if before:
        target, moved = len(_indent(work[before[-1]])), range(bad, high + 1)
    else:
        after = [len(_indent(work[i])) for i in code if i > bad]
        target, moved = (min(after) if after else 0), range(bad, bad + 1)
    shift = len(_indent(work[bad])) - target
    if shift <= 0:
        return False
    for i in moved:
        work[i] = work[i][min(shift, len(_indent(work[i]))):]
    return True


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
    """Bracket depth and open triple-quote after ``line`` (approximate, one pass).

    A backslash escapes the character after it inside a string (``'doesn\'t'``), so an
    escaped quote does not end the string.
    """
    depth, quote = state
    position = 0
    length = len(line)
    while position < length:
        if quote:  # inside a triple-quoted string carried over from an earlier line
            position = _string_end(line, position, quote)
            if position < 0:
                return depth, quote
            quote = None
            continue
        char = line[position]
        if char == "#":
            break
        if char in "\"'":
            delimiter = char * 3 if line.startswith(char * 3, position) else char
            position = _string_end(line, position + len(delimiter), delimiter)
            if position < 0:
                # An unclosed triple quote goes on; an unclosed single quote ends here.
                return (depth, delimiter) if len(delimiter) == 3 else (depth, None)
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        position += 1
    return depth, quote


def _string_end(line: str, position: int, delimiter: str) -> int:
    """Position just past ``delimiter`` closing a string from ``position``; -1 if open."""
    while True:
        found = line.find(delimiter, position)
        if found < 0:
            return -1
        backslashes = 0
        while found - backslashes > position and line[found - backslashes - 1] == "\\":
            backslashes += 1
        if backslashes % 2 == 0:
            return found + len(delimiter)
        position = found + 1


def _starts_code(stripped: str) -> bool:
    """Whether a line (stripped) clearly starts a Python statement."""
    return bool(_STRONG_START.match(stripped)) or (
        bool(_OPEN_CALL.match(stripped)) and _line_state(stripped, (0, None))[0] > 0)


def _scan_unfenced(lines: list[str], in_fence: list[bool]) -> list[_Candidate]:
    """Runs of prose-free lines that start with a clear Python statement.

    A run goes on over lines indented deeper than its first line, clause keywords,
    closing brackets, lines inside an open bracket or string, and lines that start a
    statement. A run indented by MARKDOWN_CODE_INDENT or more after a blank line is a
    markdown code block: it goes on over every line indented at least as far.
    """
    candidates = []
    position = 0
    count = len(lines)
    while position < count:
        line = lines[position]
        if in_fence[position] or len(line) > MAX_BLOCK_CHARS or not _starts_code(line.strip()):
            position += 1
            continue
        base_indent = len(line) - len(line.lstrip())
        markdown = base_indent >= MARKDOWN_CODE_INDENT and (
            position == 0 or not lines[position - 1].strip())
        state = _line_state(line, (0, None))
        end = position  # last line of the run so far
        cursor = position + 1
        while cursor < count and not in_fence[cursor]:
            text = lines[cursor]
            stripped = text.strip()
            open_construct = state[0] > 0 or state[1] is not None or lines[end].endswith("\\")
            if not stripped or (stripped.startswith("#") and not open_construct):
                cursor += 1  # kept only if code follows
                continue
            indent = len(text) - len(text.lstrip())
            if (open_construct or indent > base_indent or (markdown and indent >= base_indent)
                    or _starts_code(stripped) or _CLAUSE_CONTINUATION.match(stripped)
                    or _CLOSER.match(stripped)):
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


def _whole_reply(lines: list[str]) -> list[_Candidate]:
    """The reply as one block when all of it is Python (no fences, parses, evidence).

    Then nothing in it is prose, and the scan sees exactly what bandit would see if the
    reply were a file.
    """
    text, _ = _dedented(lines)
    if len(text) > MAX_BLOCK_CHARS:
        return []
    tree, _, _ = parse_bounded(text)
    if tree is None or not _has_python_evidence(tree):
        return []
    return [_Candidate(first_line=0, lines=lines, language="", fenced=False, untagged=True)]


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
    if any(in_fence):
        candidates = sorted(fenced + _scan_unfenced(lines, in_fence), key=lambda c: c.first_line)
    else:
        candidates = _whole_reply(lines) or _scan_unfenced(lines, in_fence)

    blocks: list[tuple[CodeBlock, ast.Module | None]] = []
    for candidate in candidates:
        blocks += _build_blocks(candidate, len(blocks), starts, raw_lines,
                                over_limit=len(blocks) >= MAX_BLOCKS_PER_REPLY)
    return blocks


def _build_blocks(
    candidate: _Candidate, index: int, starts: list[int], raw_lines: list[str],
    over_limit: bool,
) -> list[tuple[CodeBlock, ast.Module | None]]:
    """The blocks of one candidate, numbered from ``index`` (none when it is not code)."""
    lines = candidate.lines
    low, high = 0, len(lines) - 1
    while low <= high and not lines[low].strip():
        low += 1
    while high >= low and not lines[high].strip():
        high -= 1
    if low > high:
        return []
    lines = lines[low:high + 1]
    first_line = candidate.first_line + low

    def block(number: int, first: int, last: int, code: str, parsed: bool,
              window: tuple[int, int] | None, reason: str | None) -> CodeBlock:
        """A block on lines first..last (indices into ``lines``)."""
        end_line = first_line + last
        return CodeBlock(number, starts[first_line + first],
                         starts[end_line] + len(raw_lines[end_line].rstrip("\r")),
                         first_line + first + 1, code, candidate.language, candidate.fenced,
                         parsed, window, reason)

    size = sum(len(line) + 1 for line in lines)
    if over_limit or size > MAX_BLOCK_CHARS:
        reason = (f"block limit reached ({MAX_BLOCKS_PER_REPLY} per reply)" if over_limit
                  else f"block too large ({size} chars > {MAX_BLOCK_CHARS})")
        return [(block(index, 0, len(lines) - 1, "", False, None, reason), None)]

    if _is_repl(lines):
        lines = _strip_prompts(lines)
    pieces, error = _parse_pieces(lines)
    parsed = [piece for piece in pieces if piece.tree is not None]
    if candidate.untagged:
        covered = sum(sum(1 for line in lines[piece.low:piece.high + 1] if line.strip())
                      - piece.prose for piece in parsed)
        total = sum(1 for line in lines if line.strip())
        if (not any(_has_python_evidence(piece.tree) for piece in parsed)
                or covered < UNTAGGED_MIN_COVERAGE * total):
            return []
    if not pieces:
        return [(block(index, 0, len(lines) - 1, _dedented(lines)[1], False, None,
                       f"does not parse: {error}"), None)]
    whole = len(pieces) == 1 and (pieces[0].low, pieces[0].high) == (0, len(lines) - 1)
    return [
        (block(number, piece.low, piece.high, piece.code, piece.tree is not None,
               None if whole else (low + piece.low + 1, low + piece.high + 1), piece.reason),
         piece.tree)
        for number, piece in enumerate(pieces, index)
    ]
