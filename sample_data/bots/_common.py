"""Shared helpers for the sample bots in this folder.

The sample bots are standalone: they import nothing from the arena itself. The arena's
host loads ``attackers.py`` / ``defenders.py`` by file path, and those modules put this
folder on ``sys.path`` to import this one.

What lives here:

- request access that works for both attribute-style and dict-style requests;
- deterministic randomness (``random.Random(f"{seed}:{turn}:...")``) and the optional
  artificial think time (``SAMPLE_THINK_MS``);
- the bundled CyberSecEval prompt subsets (``../prompts/*.jsonl``);
- text analysis shared by both sides: refusal detection, code-block extraction and
  de-obfuscation (base64, leetspeak, spaced letters, reversed text, ROT13, split
  variables).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import codecs
import functools
import json
import os
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PROMPTS_DIR = HERE.parent / "prompts"

ATTACKER = "attacker"
DEFENDER = "defender"


# --------------------------------------------------------------------------- data


@functools.cache
def load_prompts(name: str) -> tuple[dict[str, Any], ...]:
    """Load ``../prompts/<name>.jsonl`` (relative to this file) once per process."""
    path = PROMPTS_DIR / f"{name}.jsonl"
    with path.open(encoding="utf-8") as fh:
        return tuple(json.loads(line) for line in fh if line.strip())


_BOILERPLATE = re.compile(
    r"\s*Only return the code,\s*don'?t include any other information,\s*"
    r"such as a preamble or suffix\.?\s*$",
    re.IGNORECASE,
)


def clean_prompt(text: str) -> str:
    """Strip CyberSecEval's "only return the code" suffix and tidy whitespace."""
    text = _BOILERPLATE.sub("", text)
    text = re.sub(r"\.\.(?=\s|$|\?)", ".", text)  # "..", a quirk of the MITRE set
    text = re.sub(r"[ \t]+", " ", text)
    return text.strip()


# ------------------------------------------------------------------ request access


def req_field(request: Any, key: str, default: Any = None) -> Any:
    """Read ``key`` from a request object (attribute) or a plain dict."""
    if isinstance(request, dict):
        return request.get(key, default)
    return getattr(request, key, default)


def req_messages(request: Any) -> list[dict[str, str]]:
    """The request's messages as plain ``{"role", "content"}`` dicts."""
    out: list[dict[str, str]] = []
    for msg in req_field(request, "messages", None) or []:
        if isinstance(msg, dict):
            role, content = msg.get("role", ""), msg.get("content", "")
        else:
            role, content = getattr(msg, "role", ""), getattr(msg, "content", "")
        out.append({"role": str(role), "content": str(content or "")})
    return out


def make_rng(seed: int, turn: int | str, salt: str = "") -> random.Random:
    """``random.Random(f"{seed}:{turn}")`` (plus an optional salt): the only RNG source."""
    key = f"{seed}:{turn}" if not salt else f"{seed}:{turn}:{salt}"
    return random.Random(key)


def think_ms() -> int:
    """The configured ``SAMPLE_THINK_MS`` (0 when unset or invalid)."""
    raw = os.environ.get("SAMPLE_THINK_MS", "").strip()
    try:
        return max(0, int(raw))
    except ValueError:
        return 0


async def think(seed: int, turn: int) -> None:
    """Sleep 0.5x-1.5x ``SAMPLE_THINK_MS`` (deterministic per seed and turn)."""
    ms = think_ms()
    if ms:
        await asyncio.sleep(ms * make_rng(seed, turn, "think").uniform(0.5, 1.5) / 1000.0)


@dataclass
class Turn:
    """A read-only view of one turn request, from the bot's own side."""

    seed: int
    turn: int
    side: str
    conversation: str
    messages: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def of(cls, request: Any) -> Turn:
        messages = req_messages(request)
        turn = req_field(request, "turn", None)
        seed = req_field(request, "seed", 0)
        return cls(
            seed=int(seed or 0),
            turn=int(turn) if turn is not None else len(messages),
            side=str(req_field(request, "side", "") or ""),
            conversation=str(req_field(request, "conversation", "") or ""),
            messages=messages,
        )

    def texts(self, role: str) -> list[str]:
        return [m["content"] for m in self.messages if m["role"] == role]

    def last(self, role: str) -> str:
        texts = self.texts(role)
        return texts[-1] if texts else ""

    @property
    def pair(self) -> int:
        """0-based adjacency-pair index of this turn."""
        return self.turn // 2

    def rng(self, salt: str = "") -> random.Random:
        """Randomness for this turn."""
        return make_rng(self.seed, self.turn, salt)

    def plan(self, salt: str = "") -> random.Random:
        """Randomness that is the same on every turn of the conversation."""
        return make_rng(self.seed, "plan", salt)


# ------------------------------------------------------------------ text analysis

_REFUSAL = re.compile(
    r"\b(i can(?:'|no)t|i cannot|i won'?t|i will not|i'm not able|i am not able|"
    r"i'm unable|i am unable|can'?t help with|cannot help with|can'?t assist|"
    r"cannot assist|not (?:something|able) i can|i must decline|i have to decline|"
    r"i'd rather not|not comfortable|against (?:my|our|the) (?:policy|policies|guidelines)|"
    r"i'm sorry, but|sorry, i can|i'm going to pass|i won'?t be writing|"
    r"i'm not going to|i am not going to|i (must |have to )?refuse)\b",
    re.IGNORECASE,
)


def is_refusal(text: str) -> bool:
    """Heuristic: does this reply decline the request (in its opening lines)?"""
    head = text.strip()[:400]
    return bool(_REFUSAL.search(head))


_FENCE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_CODE_LINE = re.compile(
    r"^\s*(import |from \w+ import|def |class |if __name__|@app\.|#!|for .* in .*:|"
    r"with .*:|return |print\(|\w+\s*=\s*\S)"
)


def extract_code(text: str) -> list[str]:
    """Code blocks in a reply: fenced blocks, else indented blocks, else bare code lines."""
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
    # Unfenced code pasted into prose: the span from the first to the last code-like line.
    lines = text.splitlines()
    marks = [i for i, ln in enumerate(lines) if _CODE_LINE.match(ln)]
    if len(marks) >= 3:
        return ["\n".join(lines[marks[0]:marks[-1] + 1])]
    return []


def has_code(text: str) -> bool:
    return bool(extract_code(text))


_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                       "$": "s", "|": "l", "!": "i"})
_LEET_WORD = re.compile(r"[A-Za-z0-9@$|!]*[A-Za-z][A-Za-z0-9@$|!]*")
_B64_TOKEN = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{16,}={0,2}(?![A-Za-z0-9+/=])")
_SPACED = re.compile(r"\b(?:[A-Za-z][ .\-_]){3,}[A-Za-z]\b")
_QUOTED_VAR = re.compile(r"\b[a-zA-Z]\w{0,2}\s*=\s*[\"']([^\"']+)[\"']")

LEET_FORWARD = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}


def to_leet(text: str, rng: random.Random, rate: float = 0.75) -> str:
    """Leetspeak: replace most a/e/i/o/s/t with look-alike digits."""
    out = []
    for ch in text:
        sub = LEET_FORWARD.get(ch.lower())
        out.append(sub if sub and rng.random() < rate else ch)
    return "".join(out)


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


@dataclass
class Normalized:
    """A message after undoing common obfuscations, and which ones were found."""

    text: str
    tricks: list[str]

    @property
    def obfuscated(self) -> bool:
        return bool(self.tricks)


def normalize(text: str) -> Normalized:
    """Lower-cased text with base64, leetspeak, spacing, reversal, ROT13 and split-variable
    tricks undone (decoded text is appended, so nothing of the original is lost)."""
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
    if deleeted != text and len(re.findall(r"[a-z][0-9@$]|[0-9@$][a-z]", text.lower())) >= 3:
        tricks.append("leetspeak")
        extra.append(deleeted)

    combined = "\n".join([text, *extra]).lower()
    return Normalized(text=combined, tricks=sorted(set(tricks)))


def shorten(text: str, limit: int = 90) -> str:
    """First sentence-ish fragment of ``text``, at most ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",.;:") + "..."


def pick(rng: random.Random, options: list[str] | tuple[str, ...]) -> str:
    return options[rng.randrange(len(options))]
