"""Text from outside (imported files, command lines, names) made safe to store and to write.

SQLite stores UTF-8, and a Python string can hold what UTF-8 cannot: lone surrogates.
They arrive from JSON escapes such as ``"\\ud800"`` (valid JSON, not valid Unicode) and
from bytes that were not UTF-8 on a command line (Python decodes those to U+DC80-U+DCFF).
Text a user gives (a file, a name) is refused with one line naming where it is, before
anything is written; text a bot sends is repaired instead (`valid_text`), so one bad reply
fails nothing.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate(text: str) -> int | None:
    """Index of the first lone surrogate in `text`, or None when it is valid Unicode."""
    found = _LONE_SURROGATE.search(text)
    return None if found is None else found.start()


def valid_text(text: str) -> str:
    """`text` with each lone surrogate (a JSON escape such as ``\\ud800`` that is half of
    a pair, not a character) replaced by U+FFFD, so it can be stored and sent on."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


# In JSON text, the escape of a surrogate (``\ud800``): a cheap test for whether a line
# can decode to one at all.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def may_hold_surrogates(json_text: str) -> bool:
    """Whether JSON text may decode to a lone surrogate (False for almost every line, so
    `surrogate_problem` need only walk the few that may)."""
    return _SURROGATE_ESCAPE.search(json_text) is not None or lone_surrogate(json_text) is not None


def surrogate_problem(value: Any, where: str = "") -> str | None:
    """Why a decoded JSON value cannot be stored, naming the first string (key or value)
    holding a lone surrogate (``messages[1].content: lone surrogate \\ud800 at
    character 6``), or None."""
    if isinstance(value, str):
        index = lone_surrogate(value)
        if index is None:
            return None
        return f"{where or 'text'}: not valid Unicode (lone surrogate \\u{ord(value[index]):04x} at character {index + 1})"
    if isinstance(value, dict):
        for key, item in value.items():
            problem = surrogate_problem(key, f"{where}.key" if where else "key") or \
                surrogate_problem(item, f"{where}.{key}" if where else str(key))
            if problem:
                return problem
    elif isinstance(value, list):
        for i, item in enumerate(value):
            problem = surrogate_problem(item, f"{where}[{i}]")
            if problem:
                return problem
    return None


# Characters markdown would read as syntax in a table cell or a line of text.
_MARKDOWN_PUNCTUATION = frozenset("\\`*_[]<>|~&#!")
# Control, format (bidi overrides, zero-width), surrogate and line/paragraph separators.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def markdown_text(text: str) -> str:
    """`text` (a name: hostile input) for a line or table cell of a markdown file: markdown
    punctuation backslash-escaped, so it renders as written, and invisible characters
    (escape sequences, bidi overrides, zero-width, newlines) written as visible ``\\uXXXX``
    escapes, so neither a viewer nor `cat` on a terminal acts on them."""
    out = []
    for ch in text:
        if ch in _MARKDOWN_PUNCTUATION:
            out.append("\\" + ch)
        elif unicodedata.category(ch) in _INVISIBLE:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return "".join(out)
