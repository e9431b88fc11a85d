"""The text a user sees on a Textual screen, read from the app's SVG screenshot."""

from __future__ import annotations

import html
import re

from textual.app import App

_TEXT = re.compile(r'<text [^>]*\by="([0-9.]+)"[^>]*>([^<]*)</text>')


def screen_lines(app: App) -> list[str]:
    """The screen's rows as plain text, top to bottom (blank rows left out)."""
    rows: dict[float, list[str]] = {}
    for y, content in _TEXT.findall(app.export_screenshot()):
        rows.setdefault(float(y), []).append(html.unescape(content).replace("\xa0", " "))
    return ["".join(parts) for _, parts in sorted(rows.items())]


def screen_text(app: App) -> str:
    """The screen as one string, one row per line."""
    return "\n".join(screen_lines(app))
