"""Shared fixtures: config writing, paths to the test bots."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
BOTS_DIR = TESTS_DIR / "bots"
PYTHON = sys.executable


def bot_table(side: str, name: str, script: str, **extra: object) -> str:
    """A [[attackers]]/[[defenders]] entry running a test bot script with this Python."""
    lines = [f"[[{side}s]]", f'name = "{name}"', f'command = ["{PYTHON}", "{BOTS_DIR / script}"]']
    for key, value in extra.items():
        lines.append(f"{key} = {value!r}" if not isinstance(value, str) else f'{key} = "{value}"')
    return "\n".join(lines) + "\n"


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a TOML config into tmp_path and return its path."""

    def write(body: str, name: str = "tournament.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(body), encoding="utf-8")
        return path

    return write
