"""Making hostile text inert before it reaches the terminal.

Transcripts and bot logs are written by attackers. Everything shown from them goes
through `inert` (for plain strings) or `inert_text` (for `rich.text.Text`): never parsed
as Rich markup, control characters and escape sequences shown as visible placeholders,
invisible format characters (bidirectional overrides, zero-width spaces and joiners, tag
characters) shown as `<U+XXXX>` so they can neither reorder nor hide text, absurdly long
lines cut.

`inert` only neutralises characters: its result is NOT markup-safe. A string that holds
hostile text (a transcript, a bot, tournament or annotator name: imports can set any
name) must never reach anything that parses Rich or Textual markup: a Rich `Table` cell,
column or title given as `str`, `console.print(str)`, a progress column's description,
`notify` (pass ``markup=False``), a `Static`/`Label`, a command palette prompt or a
`SelectionList` prompt given as `str`. Give those `inert_text(...)` (a `Text`, never
parsed) or literal `Content`, or turn markup off. `Text.append(inert(...))` is safe:
appending a string to a `Text` does not parse it.
"""

from __future__ import annotations

import unicodedata

from rich.text import Text

# Longest single line we render; a 1 MB line would otherwise stall layout.
MAX_LINE_CHARS = 4000

def _placeholder(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ ␁ ... ␛ ...
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def _visible(ch: str) -> bool:
    if ch in "\n\t":
        return True
    category = unicodedata.category(ch)
    # Cc: controls (C0, C1, DEL). Cf: format characters, invisible by design: bidi
    # embeddings, overrides, isolates and marks, zero-width space/joiners, word joiner, BOM,
    # soft hyphen, tag characters (text hidden from the reader). Cs: lone surrogates.
    # Zl/Zp: line and paragraph separators. Co/Cn are harmless to print.
    return category not in ("Cc", "Cf", "Cs", "Zl", "Zp")


def inert(text: str, max_line: int = MAX_LINE_CHARS) -> str:
    """Return `text` with every control/bidi character replaced by a visible placeholder
    and lines longer than `max_line` cut with a marker. Newlines and tabs are kept.

    Not markup-safe: ``[link=...]`` or ``x[/]`` pass through unchanged (see the module docstring)."""
    if text.isascii() and text.isprintable():
        return text if len(text) <= max_line else _cut(text, max_line)
    out = []
    for ch in text:
        out.append(ch if _visible(ch) else _placeholder(ch))
    cleaned = "".join(out).replace("\t", "    ")
    if max_line and len(cleaned) > max_line:
        cleaned = "\n".join(_cut(line, max_line) if len(line) > max_line else line for line in cleaned.split("\n"))
    return cleaned


def _cut(line: str, max_line: int) -> str:
    return f"{line[:max_line]}… [{len(line) - max_line:,} more characters]"


def inert_text(text: str, style: str = "", max_line: int = MAX_LINE_CHARS) -> Text:
    """A `Text` holding `text` literally (no markup parsing), made inert by `inert`."""
    return Text(inert(text, max_line), style=style)
