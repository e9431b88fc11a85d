"""The one transcript renderer, shared by the annotate and watch screens.

Given a conversation's turns, its bandit findings and (optionally) its stored code-block
rows, `render_turn` produces Rich renderables: a header per turn (number, role, latency;
attacker and defender styled apart), prose made inert, every Python code block
syntax-highlighted with line numbers, findings marked on their lines (gutter marker and
severity colour) and listed under the block, long blocks folded unless asked otherwise.

Everything that came from a bot goes through `arena_tui.common.safe` first: prose through
`inert_text`, code through `inert` before it reaches `Syntax`, so neither Rich markup nor
terminal escape sequences in a transcript can take effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.syntax import Syntax
from rich.text import Text

from arena_tui.common.safe import inert, inert_text
from core.evaluation.extract import extract_code_blocks
from core.store import FindingRow, TurnRow
from core.turns import turn_number

# Lines of a code block shown while folded: enough to judge most snippets, short
# enough that a 2,000-line dump does not push the rest of the transcript off screen.
FOLD_LINES = 40

# Syntax themes picked to stay legible on Textual's dark and light themes.
DARK_CODE_THEME = "monokai"
LIGHT_CODE_THEME = "default"

ROLE_STYLES = {"attacker": "bold red", "defender": "bold blue"}
SEVERITY_STYLES = {"HIGH": "bold white on red", "MEDIUM": "black on yellow", "LOW": "black on cyan"}
SEVERITY_LINE_STYLES = {"HIGH": "on #5f0000", "MEDIUM": "on #5f5f00", "LOW": "on #005f5f"}
SEVERITY_ORDER = {"HIGH": 0, "MEDIUM": 1, "LOW": 2}


@dataclass(frozen=True)
class TranscriptOptions:
    """How to draw a transcript: folding, cursor and landed-turn marks, code theme."""

    unfolded: bool = False
    fold_lines: int = FOLD_LINES
    cursor_turn: int | None = None
    marked_turn: int | None = None
    dark: bool = True


def turn_header(turn: TurnRow, options: TranscriptOptions) -> Text:
    """`▶ turn 3 · attacker · 1.24 s · crescendo + leetspeak`, styled by role (the technique
    when the reply named one); cursor and "attack landed" marks, and `✂ cut at max_tokens` on
    a reply an LLM's server cut short (finish_reason ``length``)."""
    role = turn.role if turn.role in ROLE_STYLES else "unknown"
    cursor = "▶ " if options.cursor_turn == turn.turn_index else "  "
    header = Text(cursor, style="bold")
    header.append(f"turn {turn_number(turn.turn_index)}", style="bold")
    header.append(" · ")
    header.append(inert(turn.role), style=ROLE_STYLES.get(role, "bold"))
    if turn.latency is not None:
        header.append(f" · {turn.latency:.2f} s", style="dim")
    if turn.truncated:
        header.append(" · ✂ cut at max_tokens", style="bold yellow")
    label = getattr(turn, "technique_label", None)
    if label:
        header.append(f" · {inert(label)}", style="italic")
    if options.marked_turn == turn.turn_index:
        header.append("  ◆ attack landed here", style="bold magenta")
    return header


def _finding_line(finding: FindingRow) -> Text:
    line = Text("  ")
    line.append(f" {inert(finding.severity)} ", style=SEVERITY_STYLES.get(finding.severity.upper(), "reverse"))
    line.append(f" line {finding.line_in_block} ", style="bold")
    line.append(inert(finding.test_id), style="bold")
    if finding.cwe:
        line.append(f" {inert(finding.cwe)}", style="italic")
    line.append(f" confidence {inert(finding.confidence)}", style="dim")
    line.append(" — ")
    line.append(inert(finding.message))
    return line


def code_block(code: str, findings: Sequence[FindingRow], options: TranscriptOptions) -> RenderableType:
    """One code block: highlighted, findings on their lines and listed below, maybe folded."""
    safe_code = inert(code.rstrip("\n"))
    lines = safe_code.split("\n")
    folded = not options.unfolded and len(lines) > options.fold_lines
    shown = "\n".join(lines[: options.fold_lines]) if folded else safe_code
    flagged = {f.line_in_block for f in findings if 1 <= f.line_in_block <= (options.fold_lines if folded else len(lines))}
    syntax = Syntax(
        shown,
        "python",
        theme=DARK_CODE_THEME if options.dark else LIGHT_CODE_THEME,
        line_numbers=True,
        highlight_lines=flagged,
        word_wrap=False,
    )
    worst: dict[int, str] = {}
    for f in findings:
        sev = f.severity.upper()
        if f.line_in_block in flagged and SEVERITY_ORDER.get(sev, 9) < SEVERITY_ORDER.get(worst.get(f.line_in_block, ""), 9):
            worst[f.line_in_block] = sev
    shown_lines = shown.split("\n")
    for line_no, sev in worst.items():
        syntax.stylize_range(SEVERITY_LINE_STYLES[sev], (line_no, 0), (line_no, len(shown_lines[line_no - 1])))
    parts: list[RenderableType] = [syntax]
    if folded:
        parts.append(Text(f"… {len(lines) - options.fold_lines} more lines, press f to unfold", style="italic dim"))
    parts.extend(_finding_line(f) for f in sorted(findings, key=lambda f: (f.line_in_block, f.test_id)))
    return Group(*parts)


def _drop_fence(prose: str) -> str:
    """The prose before a fenced block without its opening fence line."""
    lines = prose.rstrip("\n").split("\n")
    if lines and lines[-1].lstrip().startswith(("```", "~~~")):
        lines.pop()
    return "\n".join(lines).strip("\n")


def _skip_closing_fence(content: str, position: int) -> int:
    """The offset just past the closing fence line that follows a fenced block, if any."""
    rest = content[position:]
    stripped = rest.lstrip("\n")
    if stripped.lstrip(" ").startswith(("```", "~~~")):
        end = stripped.find("\n")
        consumed = len(rest) - len(stripped) + (len(stripped) if end < 0 else end + 1)
        return position + consumed
    return position


def turn_body(turn: TurnRow, findings: Sequence[FindingRow], options: TranscriptOptions) -> list[RenderableType]:
    """A turn's prose and code, in reply order. Findings are matched by block index."""
    by_block: dict[int, list[FindingRow]] = {}
    for f in findings:
        if f.turn_index == turn.turn_index:
            by_block.setdefault(f.block_index, []).append(f)
    content = turn.content
    parts: list[RenderableType] = []
    position = 0
    for block in extract_code_blocks(content):
        prose = content[position:block.start_offset]
        if block.fenced:
            prose = _drop_fence(prose)
        if prose.strip():
            parts.append(inert_text(prose))
        parts.append(code_block(block.code, by_block.pop(block.index, []), options))
        position = block.end_offset
        if block.fenced:
            position = _skip_closing_fence(content, position)
    prose = content[position:].strip("\n")
    if prose.strip() or not parts:
        parts.append(inert_text(prose))
    # Findings whose block could not be re-located still deserve to be seen.
    for orphans in by_block.values():
        parts.extend(_finding_line(f) for f in orphans)
    return parts


def render_turn(turn: TurnRow, findings: Sequence[FindingRow], options: TranscriptOptions) -> RenderableType:
    """One turn as a single renderable: header, then the indented body."""
    return Group(turn_header(turn, options), Padding(Group(*turn_body(turn, findings, options)), (0, 0, 1, 2)))


def render_transcript(turns: Sequence[TurnRow], findings: Sequence[FindingRow],
                      options: TranscriptOptions | None = None) -> list[RenderableType]:
    """Every turn of a conversation, one renderable per turn."""
    options = options or TranscriptOptions()
    return [render_turn(t, findings, options) for t in turns]
