"""Damaged and empty files given as the store, to every command as a real process: one
line, exit 2, and nothing written into the file.

The damaged store is a real one (a tournament run and evaluated by `arena-tui`) with
pages in the middle overwritten and the header intact; a second one has index entries
changed, which SQLite's quick_check at open does not look at, so the damage is met in
the middle of the command."""

from __future__ import annotations

import shutil
import sqlite3
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import bot_table

# The `arena-tui` entry point, run by this Python.
ARENA = [sys.executable, "-c", "from arena_tui.cli import main; main()"]
PAGE = 4096


def arena_tui(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*ARENA, *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd,
                          stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def real_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(store, config): 2 × 2 good bots, 30 conversations per matchup, run and evaluated."""
    folder = tmp_path_factory.mktemp("real")
    body = ('name = "t"\nconversations_per_matchup = 30\nseed = 3\nconcurrency = 8\nmax_pairs = 3\n'
            '[evaluation]\nannotators = ["alice", "bob"]\nannotators_per_item = 2\n')
    for side in ("attacker", "defender"):
        for i in range(2):
            body += bot_table(side, f"{side[0]}{i}", "good_bot.py")
    config = folder / "t.toml"
    config.write_text(body, encoding="utf-8")
    store = folder / "arena.db"
    for args in (("run", config, "--db", store, "-q"), ("evaluate", "--db", store)):
        result = arena_tui(*args, cwd=folder)
        assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == ["arena.db", "t.toml"]
    return store, config


def _pages(path: Path) -> list[tuple[str, int]]:
    """(b-tree name, page number) of every page, from SQLite's dbstat table."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT name, pageno FROM dbstat ORDER BY pageno").fetchall()
    except sqlite3.OperationalError:
        pytest.skip("this SQLite has no dbstat table")
    finally:
        conn.close()


def damage_middle_pages(store: Path, out: Path) -> None:
    """Overwrite the middle third of the pages (the schema's pages and the header spared)."""
    pages = _pages(store)
    schema = {number for name, number in pages if name == "sqlite_schema"}
    data = bytearray(store.read_bytes())
    n = len(data) // PAGE
    for number in range(n // 3 + 1, 2 * n // 3 + 1):
        if number not in schema:
            data[(number - 1) * PAGE:number * PAGE] = b"\xa5" * PAGE
    out.write_bytes(data)


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = 0
    for k in range(9):
        byte = data[i + k]
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, i + k + 1
    return value, i + 9


def damage_turn_index(store: Path, out: Path) -> None:
    """Point the entries of the turns' (conversation, turn) index at rows that do not exist."""
    data = bytearray(store.read_bytes())
    sizes = {1: 1, 2: 2, 3: 3, 4: 4, 5: 6, 6: 8, 8: 0, 9: 0}
    changed = 0
    for name, number in _pages(store):
        if name != "sqlite_autoindex_turns_1" or data[(number - 1) * PAGE] != 0x0A:  # index leaf pages
            continue
        page = (number - 1) * PAGE
        for k in range(struct.unpack(">H", data[page + 3:page + 5])[0]):
            cell = page + struct.unpack(">H", data[page + 8 + 2 * k:page + 10 + 2 * k])[0]
            _, header = _varint(data, cell)
            header_size, i = _varint(data, header)
            types = []
            while i < header + header_size:
                serial, i = _varint(data, i)
                types.append(serial)
            if types[-1] == 2:  # a two-byte rowid: make it one no row has
                data[header + header_size + sum(sizes[t] for t in types[:-1])] ^= 0x40
                changed += 1
    assert changed
    out.write_bytes(data)


def quick_check(path: Path) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()


def assert_refused(result: subprocess.CompletedProcess, store: Path, before: bytes, message: str) -> None:
    """One line on stderr naming the problem, exit 2, no traceback, the file unchanged and nothing beside it."""
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]  # a progress bar leaves a blank line
    assert len(lines) == 1 and lines[0].startswith(f"arena-tui: {store} ") and message in lines[0], result.stderr
    assert store.read_bytes() == before
    assert sorted(p.name for p in store.parent.iterdir() if p.name.startswith(store.name)) == [store.name]


def commands(config: Path, jsonl: Path) -> dict[str, list[str | Path]]:
    """Every command that takes a store, reading ones and writing ones."""
    return {
        "leaderboard": ["leaderboard"],
        "export": ["export", "-o", "out.jsonl"],
        "report": ["report"],
        "import": ["import", jsonl],
        "evaluate": ["evaluate"],
        "label": ["label", "1", "attack", "-a", "alice"],
        "run --resume": ["run", config, "--resume", "-q"],
        "annotate": ["annotate", "-a", "alice"],
        "queue": ["queue", "-a", "alice"],
        "agreement": ["agreement"],
        "labels export": ["labels", "export"],
        "pack export": ["pack", "export", "-a", "alice", "-o", "alice.pack"],
        "feedback": ["feedback", "--team", "a0", "-o", "feedback"],
    }


COMMANDS = list(commands(Path(), Path()))


def _jsonl(folder: Path) -> Path:
    path = folder / "chat.jsonl"
    path.write_text('{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n')
    return path


@pytest.mark.parametrize("command", COMMANDS)
def test_store_damaged_in_the_middle_is_refused(real_store, tmp_path: Path, command: str) -> None:
    """Pages in the middle overwritten, header intact: every command refuses it (quick_check at open)."""
    store, config = real_store
    damaged = tmp_path / "arena.db"
    damage_middle_pages(store, damaged)
    assert quick_check(damaged) != "ok"
    before = damaged.read_bytes()
    result = arena_tui(*commands(config, _jsonl(tmp_path))[command], "--db", damaged, cwd=tmp_path)
    assert_refused(result, damaged, before, "is damaged (")
    assert not (tmp_path / "out.jsonl").exists() and not (tmp_path / "alice.pack").exists()


@pytest.mark.parametrize("command", ["export", "report"])
def test_damage_met_in_the_middle_of_a_command_is_one_line(real_store, tmp_path: Path, command: str) -> None:
    """A damaged index passes quick_check; reading the transcripts through it stops the command with one line."""
    store, config = real_store
    damaged = tmp_path / "arena.db"
    damage_turn_index(store, damaged)
    assert quick_check(damaged) == "ok"
    before = damaged.read_bytes()
    result = arena_tui(*commands(config, _jsonl(tmp_path))[command], "--db", damaged, cwd=tmp_path)
    assert_refused(result, damaged, before, "is damaged (database disk image is malformed)")
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("kind", ["empty file", "empty SQLite database"])
@pytest.mark.parametrize("command", [c for c in COMMANDS if c not in ("import", "run --resume")])
def test_a_file_holding_no_store_is_refused_and_left_as_it_is(real_store, tmp_path: Path, command: str, kind: str) -> None:
    """A reading (or labelling) command given an empty file does not turn it into a store."""
    _, config = real_store
    empty = tmp_path / "arena.db"
    if kind == "empty file":
        empty.touch()
    else:
        conn = sqlite3.connect(empty)
        conn.execute("PRAGMA user_version = 7")  # a valid SQLite file with no table
        conn.close()
    before = empty.read_bytes()
    result = arena_tui(*commands(config, _jsonl(tmp_path))[command], "--db", empty, cwd=tmp_path)
    assert_refused(result, empty, before, f"holds no arena store (an {kind})")


def test_following_an_empty_file_is_refused(tmp_path: Path) -> None:
    """`watch --db FILE` (read-only) on an empty file says so instead of following a store with no tables."""
    empty = tmp_path / "arena.db"
    empty.touch()
    result = arena_tui("watch", "--db", empty, cwd=tmp_path)
    assert_refused(result, empty, b"", "holds no arena store (an empty file)")


def test_a_copy_of_the_undamaged_store_still_opens(real_store, tmp_path: Path) -> None:
    """The control: the same commands on an intact copy work."""
    store, _ = real_store
    copy = tmp_path / "arena.db"
    shutil.copyfile(store, copy)
    for args in (["leaderboard"], ["export", "-o", "out.jsonl"]):
        result = arena_tui(*args, "--db", copy, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
