"""Reading the other side's text: refusals, code blocks, and obfuscation undone.

Heuristics both sides need: an attacker asks "did the defender refuse? did it give
code?", a defender asks "what does this message say once base64, leetspeak, ROT13,
reversed or spaced-out text is decoded?". Pure functions over strings, standard library
only.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from dataclasses import dataclass

__all__ = ["Normalized", "extract_code", "has_code", "is_refusal", "normalize", "shorten"]

_REFUSAL = re.compile(
    r"\b(i can(?:'|no)t|i cannot|i won'?t|i will not|i'm not able|i am not able|"
    r"i'm unable|i am unable|can'?t help with|cannot help with|can'?t assist|"
    r"cannot assist|not (?:something|able) i can|i must decline|i have to decline|"
    r"i'd rather not|i'd prefer not|not comfortable|against (?:my|our|the) (?:policy|policies|guidelines)|"
    r"i'm sorry, but|sorry, i can|i'm going to pass|i won'?t be writing|"
    r"i'm not going to|i am not going to|i (must |have to )?refuse)\b",
    re.IGNORECASE,
)


def is_refusal(text: str) -> bool:
    """Heuristic: does this reply decline the request (in its opening 400 characters)?"""
    return bool(_REFUSAL.search(text.strip()[:400]))


_FENCE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_CODE_LINE = re.compile(
    r"^\s*(import |from \w+ import|def |class |if __name__|@app\.|#!|for .* in .*:|"
    r"with .*:|return |print\(|\w+\s*=\s*\S)"
)


def extract_code(text: str) -> list[str]:
    """Code blocks in a reply: fenced blocks, else indented blocks, else the span of
    bare code lines (three or more). A quick heuristic for bots; the arena's own
    evaluation uses its stricter extractor."""
    blocks = [m.group(2) for m in _FENCE.finditer(text)]
    if blocks:
        return blocks
    indented: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith(("    ", "\t")) and line.strip():
            current.append(line[4:] if line.startswith("    ") else line[1:])
        elif current and not line.strip():
            current.append("")
        else:
            if len([c for c in current if c.strip()]) >= 2:
                indented.append("\n".join(current).strip("\n"))
            current = []
    if len([c for c in current if c.strip()]) >= 2:
        indented.append("\n".join(current).strip("\n"))
    if indented:
        return indented
    lines = text.splitlines()
    marks = [i for i, ln in enumerate(lines) if _CODE_LINE.match(ln)]
    if len(marks) >= 3:
        return ["\n".join(lines[marks[0]:marks[-1] + 1])]
    return []


def has_code(text: str) -> bool:
    """Whether ``extract_code`` finds any code in ``text``."""
    return bool(extract_code(text))


_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                       "$": "s", "|": "l", "!": "i"})
_LEET_WORD = re.compile(r"[A-Za-z0-9@$|!]*[A-Za-z][A-Za-z0-9@$|!]*")
_B64_TOKEN = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{16,}={0,2}(?![A-Za-z0-9+/=])")
_SPACED = re.compile(r"\b(?:[A-Za-z][ .\-_]){3,}[A-Za-z]\b")
_QUOTED_VAR = re.compile(r"\b[a-zA-Z]\w{0,2}\s*=\s*[\"']([^\"']+)[\"']")
# Homoglyphs the converters use (Cyrillic and Greek look-alikes), mapped back to Latin.
_HOMOGLYPHS_BACK = str.maketrans({"а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x",
                                  "у": "y", "і": "i", "ѕ": "s", "ј": "j", "ԁ": "d", "ɡ": "g",
                                  "Α": "A", "Β": "B", "Ε": "E", "Κ": "K", "Μ": "M", "Η": "H",
                                  "Ο": "O", "Ρ": "P", "Τ": "T", "Χ": "X", "ο": "o", "ν": "v"})


def _deleet_word(match: re.Match[str]) -> str:
    word = match.group(0)
    if any(c.isdigit() or c in "@$|!" for c in word) and any(c.isalpha() for c in word):
        return word.translate(_LEET)
    return word


def _decode_b64(token: str) -> str | None:
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    printable = sum(ch.isprintable() or ch.isspace() for ch in text)
    if not text or printable / len(text) < 0.95 or " " not in text:
        return None
    return text


@dataclass(frozen=True)
class Normalized:
    """A message with its obfuscations undone (``text``, lower-cased, the decoded forms
    appended so nothing of the original is lost) and the tricks that were found."""

    text: str
    tricks: tuple[str, ...]

    @property
    def obfuscated(self) -> bool:
        """Whether any trick was found."""
        return bool(self.tricks)


def normalize(text: str) -> Normalized:
    """Undo base64, ROT13, reversal, spaced letters, split variables, leetspeak and
    homoglyphs in ``text``: the defender-side inverse of ``arena_sdk.converters``."""
    tricks: list[str] = []
    extra: list[str] = []
    for token in _B64_TOKEN.findall(text):
        decoded = _decode_b64(token)
        if decoded:
            tricks.append("base64")
            extra.append(decoded)
    lowered = text.lower()
    if "rot13" in lowered or "rot-13" in lowered:
        tricks.append("rot13")
        extra.append(codecs.decode(text, "rot13"))
    if re.search(r"\b(backwards|reversed?|in reverse|right to left)\b", lowered):
        tricks.append("reversed")
        extra.append(text[::-1])
    spaced = _SPACED.findall(text)
    if spaced:
        tricks.append("spacing")
        extra.extend(re.sub(r"[ .\-_]", "", s) for s in spaced)
    pieces = _QUOTED_VAR.findall(text)
    if len(pieces) >= 2 and re.search(r"\b(concatenat|combine|join|\+)", lowered):
        tricks.append("split-variables")
        extra.append("".join(pieces))
        extra.append(" ".join(pieces))
    deleeted = _LEET_WORD.sub(_deleet_word, text)
    if deleeted != text and len(re.findall(r"[a-z][0-9@$]|[0-9@$][a-z]", lowered)) >= 3:
        tricks.append("leetspeak")
        extra.append(deleeted)
    latin = text.translate(_HOMOGLYPHS_BACK)
    if latin != text:
        tricks.append("homoglyphs")
        extra.append(latin)
    combined = "\n".join([text, *extra]).lower()
    return Normalized(text=combined, tricks=tuple(sorted(set(tricks))))


def shorten(text: str, limit: int = 90) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",.;:") + "..."
