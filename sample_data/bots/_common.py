"""Data helpers shared by the sample bots in this folder.

The bots themselves are built on the arena SDK (``arena_sdk``: base classes, strategies,
converters, guards, text analysis); this module only reads the bundled CyberSecEval
prompt subsets (``../prompts/*.jsonl``) and picks from lists. The arena's host loads
``attackers.py`` / ``defenders.py`` by file path, and those modules put this folder on
``sys.path`` to import this one.
"""

from __future__ import annotations

import functools
import json
import random
import re
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PROMPTS_DIR = HERE.parent / "prompts"


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


def pick(rng: random.Random, options: list[Any] | tuple[Any, ...]) -> Any:
    """One of ``options``, drawn from ``rng``."""
    return options[rng.randrange(len(options))]
