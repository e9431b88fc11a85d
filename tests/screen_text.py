"""The text a user sees on a Textual screen, read from the app's SVG screenshot."""

from __future__ import annotations

import html
import re

from rich.cells import cell_len
from textual.app import App

# One run of text in Rich's SVG export: its position, its width in pixels and its text.
_TEXT = re.compile(r'<text [^>]*\bx="([0-9.]+)" y="([0-9.]+)" textLength="([0-9.]+)" '
                   r'clip-path="url\(#[\w-]+-line-(\d+)\)">([^<]*)</text>')


def screen_lines(app: App) -> list[str]:
    """The screen's rows as plain text, one string per terminal row, each character at its column."""
    runs = [(float(x), float(length), int(row), html.unescape(text).replace("\xa0", " "))
            for x, _y, length, row, text in _TEXT.findall(app.export_screenshot())]
    cell = next((length / cell_len(text) for _x, length, _row, text in runs if text.strip()), 1.0)
    rows: list[list[str]] = [[" "] * app.size.width for _ in range(app.size.height)]
    for x, _length, row, text in runs:
        column = round(x / cell)
        for ch in text:
            if 0 <= row < len(rows) and column < len(rows[row]):
                rows[row][column] = ch
            column += cell_len(ch) or 1
    return ["".join(row).rstrip() for row in rows]


def screen_text(app: App) -> str:
    """The screen as one string, one row per line."""
    return "\n".join(screen_lines(app))
