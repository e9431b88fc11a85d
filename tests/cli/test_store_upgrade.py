"""A store written by the previous release (store schema 1), opened with today's `arena-tui`
as a user would: commands that write upgrade it in place with nothing lost, a watcher
says what to do, a newer store is refused; and `sqlite-utils search` on a sample store."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from core.store import SCHEMA_VERSION, Store

ARENA = str(Path(sys.executable).with_name("arena-tui"))
SQLITE_UTILS = str(Path(sys.executable).with_name("sqlite-utils"))
V1_STORE = Path(__file__).resolve().parent.parent / "data" / "store_v1.db"
KEPT = {  # what an upgrade must keep, row for row
    # the columns schema 1 had (columns added since, ADDED_COLUMNS, are empty in an upgraded store)
    "turns": "SELECT id, conversation_id, turn_index, role, content, latency, created_at FROM turns ORDER BY id",
    "labels": "SELECT * FROM labels ORDER BY id",
    "verdicts": "SELECT conversation_id, verdict, reason, method, confidence FROM verdicts ORDER BY conversation_id",
    "findings": "SELECT * FROM findings ORDER BY id",
}


def run(*args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*args], capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          env={**os.environ, "COLUMNS": "200"}, stdin=subprocess.DEVNULL)


def read(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        return {name: conn.execute(sql).fetchall() for name, sql in KEPT.items()}
    finally:
        conn.close()


def schema_version(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def v1(tmp_path: Path) -> Path:
    """A copy of the committed schema-1 store, as a user would copy theirs."""
    path = tmp_path / "arena.db"
    shutil.copyfile(V1_STORE, path)
    return path


def test_commands_upgrade_a_v1_store_and_keep_everything(v1: Path) -> None:
    """`leaderboard` upgrades the store (saying so once on stderr) with every turn, label,
    verdict and finding kept; `label` and `evaluate` then work on it as on a new store."""
    before = read(V1_STORE)
    first = run(ARENA, "leaderboard", "--db", str(v1))
    assert first.returncode == 0, first.stderr
    assert first.stderr == (f"arena-tui: upgraded {v1} from store schema 1 to {SCHEMA_VERSION} (older arena-tui releases can no longer"
                            " open it)\n")
    assert "Leaderboard of sample" in first.stdout and "naive-helper" in first.stdout
    assert schema_version(v1) == str(SCHEMA_VERSION) and read(v1) == before
    second = run(ARENA, "leaderboard", "--db", str(v1))
    assert second.returncode == 0 and second.stderr == "" and second.stdout == first.stdout

    conn = sqlite3.connect(v1)
    item = conn.execute("SELECT a.conversation_id FROM assignments a WHERE a.annotator = 'carol' AND NOT EXISTS"
                        " (SELECT 1 FROM labels l WHERE l.conversation_id = a.conversation_id) ORDER BY 1").fetchone()[0]
    conn.close()
    row = re.compile(rf"│\s+{item} │")
    assert row.search(run(ARENA, "queue", "--db", str(v1), "-a", "carol").stdout)  # to do
    labelled = run(ARENA, "label", "--db", str(v1), "-a", "carol", str(item), "defense")
    assert labelled.returncode == 0, labelled.stderr
    assert labelled.stdout.startswith(f"saved label event {len(before['labels']) + 1}; conversation {item} verdict:")
    evaluated = run(ARENA, "evaluate", "--db", str(v1))
    assert evaluated.returncode == 0, evaluated.stderr
    after = read(v1)
    assert after["turns"] == before["turns"] and after["findings"] == before["findings"]
    assert after["labels"][:-1] == before["labels"]
    assert after["labels"][-1][1:5] == (item, "carol", "label", "defense")
    assert after["verdicts"] == before["verdicts"]  # one label of three decides nothing yet
    queue = run(ARENA, "queue", "--db", str(v1), "-a", "carol")
    assert queue.returncode == 0 and "Queue of carol" in queue.stdout and not row.search(queue.stdout)  # done


def test_watching_a_v1_store_says_how_to_upgrade_it(v1: Path) -> None:
    """`watch --follow` only reads: on a schema-1 store it exits 2 with one line naming
    the command that upgrades it, and leaves the file as it was."""
    data = v1.read_bytes()
    result = run(ARENA, "watch", "--follow", "--db", str(v1), timeout=60)  # the watch must not start
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (f"arena-tui: {v1} was written by an older arena-tui (store schema 1; this version reads"
                             f" schema {SCHEMA_VERSION}): upgrade it by opening it once with a command that writes, e.g. `arena-tui"
                             f" leaderboard --db {v1}`\n")
    assert v1.read_bytes() == data


def test_a_store_from_a_newer_release_is_refused(v1: Path) -> None:
    """A store a later release upgraded: one line saying to upgrade arena-tui, exit 2, untouched."""
    assert run(ARENA, "leaderboard", "--db", str(v1)).returncode == 0
    conn = sqlite3.connect(v1)
    with conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    conn.close()
    data = v1.read_bytes()
    for command in (["leaderboard"], ["label", "-a", "carol", "6", "attack"], ["evaluate"], ["watch", "--follow"]):
        result = run(ARENA, *command, "--db", str(v1), timeout=60)
        assert result.returncode == 2, command
        assert result.stderr == (f"arena-tui: {v1} was written by a newer Adversarial Arena (store schema"
                                 f" {SCHEMA_VERSION + 1}; this version reads schema {SCHEMA_VERSION}): upgrade arena-tui\n")
    assert v1.read_bytes() == data


def test_sqlite_utils_search_finds_turns_in_a_sample_store(evaluated_sample: Path, v1: Path) -> None:
    """`sqlite-utils search arena.db turns keylogger` on a store made by `arena-tui run`
    lists the turns that say it: the ones `Store.search_turns` finds. (On a schema-1 store
    sqlite-utils says the table is not configured for search.)"""
    result = run(SQLITE_UTILS, "search", "arena.db", "turns", "keylogger", cwd=evaluated_sample)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found and all("keylogger" in row["content"].lower() for row in found)
    with Store.open_readonly(evaluated_sample / "arena.db") as store:
        assert sorted({row["conversation_id"] for row in found}) == store.search_turns("keylogger", limit=10_000)
    old = run(SQLITE_UTILS, "search", str(v1), "turns", "keylogger")
    assert old.returncode != 0 and "not configured for" in old.stderr + old.stdout
