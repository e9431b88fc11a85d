"""Untrusted team bots run isolated: hostile bots through the real `arena-tui run`.

One tournament plays a well-behaved attacker against nine hostile defenders, each in a
team folder of its own (tests/bots/hostile_bot.py): spies that read the organizer's
environment through /proc, read and write the store (which lies inside that spy's own
folder, the hard case), list and read the other bots' logs, write into the organizer's
home, and connect to a local listener they were not allowed; one connects to the
listener it was allowed; a fork bomb and two 10 GB writers. Every attack is blocked and
recorded (in the transcript, or as the conversation's failure with its reason), the
allowed connection works, the run completes, and nothing of the store changes but the
new tournament's own rows. Then: the sandbox missing makes `run` say once what is not
protected, and `isolation = "required"` refuses to start.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core.store import Store
from core.tournament import isolation
from core.tournament.config import load_config
from tests.conftest import BOTS_DIR, PYTHON, bot_table

ARENA = [sys.executable, "-m", "arena_tui.cli"]
HANG_S = 180
SECRET = "sk-organizer-secret-0123456789"


@pytest.fixture(autouse=True)
def _needs_sandbox() -> None:
    status = isolation.status()
    if not status.available:
        message = f"the sandbox cannot run here: {status.why}"
        if os.environ.get("CI") == "true":  # CI installs bubblewrap (.ci/run): this must run there
            pytest.fail(message)
        pytest.skip(message)


class Listener:
    """A local TCP service: answers "pong" to whoever connects, and counts them."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.recv(100)
                conn.sendall(f"pong from {self.port}\n".encode())

    def close(self) -> None:
        self.sock.close()


def team(root: Path, name: str) -> Path:
    """A team's own folder holding the hostile bot (open to other users, as a clone is)."""
    folder = root / "teams" / name
    folder.mkdir(parents=True)
    folder.chmod(0o755)  # whatever the umask: a folder closed to others would cost the process limit
    for script in ("hostile_bot.py", "_proto.py"):
        shutil.copy(BOTS_DIR / script, folder / script)
        (folder / script).chmod(0o644)
    return folder


def hostile(root: Path, name: str, mode: str, target: str = "", extra: str = "") -> str:
    folder = team(root, name)
    env = f'env = {{ SPY_TARGET = "{target}" }}\n' if target else ""
    return (f'[[defenders]]\nname = "{name}"\ncommand = ["{PYTHON}", "{folder / "hostile_bot.py"}", "{mode}"]\n'
            f"{env}{extra}")


def dump(db: Path) -> dict[str, set[tuple]]:
    """Every row of every table but the full-text index's own (derived from turns; its
    segments are rewritten as it grows)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'") if "_fts" not in r[0]]
        return {t: set(conn.execute(f'SELECT * FROM "{t}"')) for t in tables}  # noqa: S608 - names from the schema


def columns(db: Path, table: str) -> list[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]


def run(config: Path, db: Path, home: Path, path: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "OPENAI_API_KEY": SECRET, "HOME": str(home)}
    if path is not None:
        env["PATH"] = path
    return subprocess.run([*ARENA, "run", str(config), "--db", str(db), "-q"], capture_output=True, text=True,
                          timeout=HANG_S, env=env)


def outcomes(db: Path, name: str) -> dict[str, tuple[str, str | None, str | None, str]]:
    """(status, reason, detail, defender's reply) by defender."""
    with Store.open_readonly(db) as store:
        tournament = store.tournament(name)
        found = {}
        for c in store.conversations(tournament.id):
            turns = store.turns(c.id)
            reply = turns[1].content if len(turns) > 1 else ""
            found[c.defender] = (c.status, c.reason, c.detail, reply)
        return found


def test_hostile_bots_are_contained_and_the_store_keeps_only_the_new_rows(write_config, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    denied, allowed = Listener(), Listener()
    # The store lies inside the store spy's own folder: the sandbox must mask it there.
    store_team = team(tmp_path, "spy-store-team")
    db = store_team / "arena.db"
    logs = db.with_name(db.name + ".logs") / "hostile"
    before_body = 'name = "before"\nconversations_per_matchup = 2\nmax_pairs = 1\n'
    before_body += bot_table("attacker", "a", "good_bot.py") + bot_table("defender", "d", "good_bot.py")
    assert run(write_config(before_body, "before.toml"), db, home).returncode == 0
    before = dump(db)

    body = 'name = "hostile"\nconversations_per_matchup = 1\nmax_pairs = 1\ntimeout = 6\n'
    body += "[limits]\nmax_restarts = 1\n"
    body += bot_table("attacker", "a", "good_bot.py")
    body += hostile(tmp_path, "spy-environ", "environ")
    body += (f'[[defenders]]\nname = "spy-store"\ncommand = ["{PYTHON}", "{store_team / "hostile_bot.py"}", "store"]\n'
             f'env = {{ SPY_TARGET = "{db}" }}\n')
    body += hostile(tmp_path, "spy-logs", "logs", str(logs))
    body += hostile(tmp_path, "spy-home", "home", str(home))
    body += hostile(tmp_path, "net-denied", "connect", f"127.0.0.1:{denied.port}")
    body += hostile(tmp_path, "net-allowed", "connect", f"127.0.0.1:{allowed.port}",
                    f'network = ["127.0.0.1:{allowed.port}"]\n')
    body += hostile(tmp_path, "forkbomb", "forkbomb", extra="processes = 48\n")
    body += hostile(tmp_path, "bigfile", "bigfile", extra="file_mb = 16\n")
    body += hostile(tmp_path, "manyfiles", "manyfiles", extra="tmp_mb = 24\n")
    config = write_config(body, "hostile.toml")
    # Never let a fork bomb loose without its limit: as root, it must get a user of its own.
    bomb = next(b for b in load_config(config).defenders if b.name == "forkbomb")
    assert isolation.sandbox_argv(bomb, ["x"]).own_user or not isolation.status().root
    try:
        result = run(config, db, home)
    finally:
        denied.close()
        allowed.close()
    assert result.returncode == 0, result.stderr
    assert "isolation unavailable" not in result.stderr
    got = outcomes(db, "hostile")

    # The spies: each attack failed, and the transcript says what stopped it.
    status, _, _, reply = got["spy-environ"]
    assert status == "complete" and reply.startswith("blocked: saw processes"), reply
    status, _, _, reply = got["spy-store"]
    # (The store is readable by others, 0644: only the sandbox's mask stops this.)
    assert db.stat().st_mode & 0o004
    assert status == "complete" and reply.startswith("blocked: cannot read the store: PermissionError"), reply
    status, _, _, reply = got["spy-logs"]
    assert status == "complete" and reply.startswith("blocked: cannot list the logs: FileNotFoundError"), reply
    status, _, _, reply = got["spy-home"]
    assert status == "complete" and reply.startswith("blocked: cannot write to the organizer's home"), reply
    assert not any(home.iterdir())
    status, _, _, reply = got["net-denied"]
    assert status == "complete" and reply.startswith("blocked: cannot connect"), reply
    assert denied.connections == 0
    # The allowed model server is reached, through the relays.
    status, _, _, reply = got["net-allowed"]
    assert (status, reply) == ("complete", f"connected: pong from {allowed.port}")
    assert allowed.connections == 1

    # The floods: contained, and recorded as the bot's failure with the limit that stopped it.
    status, reason, detail, _ = got["forkbomb"]
    assert (status, reason) == ("incomplete", "timeout"), detail
    assert "reached its process limit (48 processes)" in detail
    status, reason, detail, _ = got["bigfile"]
    assert (status, reason) == ("incomplete", "crash") and "File too large" in detail, detail
    status, reason, detail, _ = got["manyfiles"]
    assert (status, reason) == ("incomplete", "crash") and "No space left on device" in detail, detail

    # Nothing of the store changed but the new tournament's rows; no secret anywhere.
    after = dump(db)
    with Store.open_readonly(db) as store:
        new_tid = store.tournament("hostile").id
        new_conversations = {c.id for c in store.conversations(new_tid)}
    for table, rows in before.items():
        assert rows <= after[table], f"{table}: rows of the earlier tournament changed"
        added = after[table] - rows
        names = columns(db, table)
        if table == "tournaments":
            assert [r[names.index("name")] for r in added] == ["hostile"]
        elif "tournament_id" in names:
            assert {r[names.index("tournament_id")] for r in added} <= {new_tid}, table
        elif table == "turns":
            assert {r[names.index("conversation_id")] for r in added} <= new_conversations
    for path in (db, *db.parent.glob("arena.db*"), *logs.glob("*.log")):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_without_the_sandbox_run_says_once_what_is_missing(write_config, tmp_path: Path) -> None:
    """bubblewrap not on PATH: the run goes ahead as before and stderr says, once, which
    protections are missing."""
    body = 'name = "open"\nconversations_per_matchup = 2\nmax_pairs = 1\n'
    body += bot_table("attacker", "a", "good_bot.py") + bot_table("defender", "d", "good_bot.py")
    empty = tmp_path / "nothing-on-path"
    empty.mkdir()
    result = run(write_config(body), tmp_path / "open.db", tmp_path, path=str(empty))
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("bot isolation unavailable (bubblewrap (bwrap) is not installed)") == 1
    assert "they can read the store" in result.stderr and "the process limit does not" in result.stderr
    assert outcomes(tmp_path / "open.db", "open")["d"][0] == "complete"


def test_required_isolation_refuses_to_start_without_the_sandbox(write_config, tmp_path: Path) -> None:
    body = 'name = "strict"\nisolation = "required"\nconversations_per_matchup = 1\nmax_pairs = 1\n'
    body += bot_table("attacker", "a", "good_bot.py") + bot_table("defender", "d", "good_bot.py")
    empty = tmp_path / "nothing-on-path"
    empty.mkdir()
    db = tmp_path / "strict.db"
    result = run(write_config(body), db, tmp_path, path=str(empty))
    assert result.returncode == 2
    assert result.stderr.strip().endswith(
        'isolation is "required" but the sandbox cannot run here: bubblewrap (bwrap) is not installed')
    assert not db.exists()


def test_bots_check_says_how_each_bot_is_isolated(write_config, tmp_path: Path) -> None:
    """`bots check` shows, per bot, whether it runs in the sandbox, and when a folder
    closed to other users costs it the process limit (as root)."""
    closed = team(tmp_path, "closed")
    closed.chmod(0o700)
    body = 'name = "c"\nconversations_per_matchup = 1\n' + bot_table("attacker", "a", "good_bot.py")
    body += f'[[defenders]]\nname = "d"\ncommand = ["{PYTHON}", "{closed / "hostile_bot.py"}", "environ"]\n'
    result = subprocess.run([*ARENA, "bots", "check", write_config(body)], capture_output=True, text=True,
                            timeout=HANG_S, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.rstrip().endswith(" ok")}
    assert rows["a"].split()[-2:] == ["sandbox", "ok"]
    expected = "sandbox, no process limit" if isolation.status().root else "sandbox"
    assert f" {expected}  ok" in rows["d"]
