"""Shared fixtures: config writing, paths to the test bots."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
BOTS_DIR = TESTS_DIR / "bots"
PYTHON = sys.executable
# The console script the README's commands use, from this environment.
ARENA_TUI = str(Path(sys.executable).with_name("arena-tui"))


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


@pytest.fixture(scope="session")
def _evaluated_sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's first steps, once per session: `arena-tui run` (the bundled sample
    into ./arena.db) then `arena-tui evaluate`, as processes in a fresh folder."""
    where = tmp_path_factory.mktemp("readme-arena")
    for args in (["run", "-q"], ["evaluate"]):
        result = subprocess.run([ARENA_TUI, *args], cwd=where, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"arena-tui {' '.join(args)}: {result.stderr}"
    return where


@pytest.fixture
def evaluated_sample(_evaluated_sample_dir: Path, tmp_path: Path) -> Path:
    """A folder of one's own holding arena.db after `arena-tui run` and `arena-tui
    evaluate` of the sample tournament: static verdicts only, nothing labelled yet."""
    target = tmp_path / "arena"
    shutil.copytree(_evaluated_sample_dir, target)
    return target


@pytest.fixture(scope="session")
def _season_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A season of three sample tournaments built once per session with the real command
    line (tests/season_sample.py): three seeds, a bot changed from round 2 on, labels."""
    from tests.season_sample import build_season

    where = tmp_path_factory.mktemp("season-arena")
    build_season(ARENA_TUI, where)
    return where


@pytest.fixture
def season_store(_season_dir: Path, tmp_path: Path) -> Path:
    """A folder of one's own holding that season's arena.db (and the rounds' configs)."""
    target = tmp_path / "season"
    shutil.copytree(_season_dir, target)
    return target
