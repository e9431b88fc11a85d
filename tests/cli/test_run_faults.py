"""Faults that used to lose or hang a run, each played by a real fault bot through the
real runner (`arena-tui run` in a subprocess): a lone surrogate in a reply, a bot that
stops reading its stdin, grandchildren a bot leaves behind, a bot that never says hello."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from core.store import FinishOp, StartOp, Store, TournamentSettings, TurnOp
from core.tournament.orchestrator import StoreWriter
from tests.conftest import BOTS_DIR, PYTHON, bot_table

ARENA = [sys.executable, "-m", "arena_tui.cli"]
# A guard against hangs only: every run here finishes in a few seconds when it works.
HANG_S = 120


def arena_run(config: Path, db: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([*ARENA, "run", str(config), "--db", str(db), *extra], capture_output=True, text=True, timeout=HANG_S)


def outcomes(db: Path, name: str) -> dict[str, list[tuple[str, str | None, str | None]]]:
    """(status, reason, detail) of each conversation, by defender."""
    with Store.open_readonly(db) as store:
        found: dict[str, list[tuple[str, str | None, str | None]]] = {}
        for c in store.conversations(store.tournament(name).id):
            found.setdefault(c.defender, []).append((c.status, c.reason, c.detail))
        return found


def stored_turns(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT COUNT(*) FROM turns").fetchone()[0]
    except sqlite3.Error:
        return 0


# --- a lone surrogate in a reply -------------------------------------------------------


def test_lone_surrogate_in_a_reply_is_stored_and_the_run_finishes(write_config, tmp_path: Path) -> None:
    """A reply holding the JSON escape "\\ud800" (no character on its own), from a bot
    speaking the protocol and from a hosted Python bot, is stored with U+FFFD in its
    place; every conversation completes and the run exits 0."""
    body = 'name = "sur"\nconversations_per_matchup = 3\nmax_pairs = 2\nconcurrency = 1\n'
    body += bot_table("attacker", "a", "good_bot.py") + bot_table("defender", "raw", "surrogate_bot.py")
    body += f'[[defenders]]\nname = "hosted"\npython = "{BOTS_DIR / "surrogate_host_bot.py"}:SurrogateBot"\n'
    db = tmp_path / "sur.db"
    result = arena_run(write_config(body), db)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert outcomes(db, "sur") == {"raw": [("complete", None, None)] * 3, "hosted": [("complete", None, None)] * 3}
    with Store.open_readonly(db) as store:
        contents = [t.content for c in store.conversations(store.tournament("sur").id) for t in store.turns(c.id)]
    assert contents.count("lone \ufffd surrogate") == 1
    assert sorted(c for c in contents if c.startswith("hosted")) == ["hosted \ufffd reply 1"] * 3 + ["hosted \ufffd reply 3"] * 3
    # The store reads back: --resume of the same config (which crashed the same way) keeps every row.
    def stored() -> list[tuple]:
        with contextlib.closing(sqlite3.connect(db)) as conn:
            return conn.execute("SELECT id, content FROM turns ORDER BY id").fetchall()

    before = stored()
    resumed = arena_run(write_config(body), db, "--resume")
    assert resumed.returncode == 0 and "Traceback" not in resumed.stderr, resumed.stderr
    assert stored() == before


def test_store_writer_keeps_the_batch_around_a_row_it_cannot_store(tmp_path: Path) -> None:
    """A row SQLite refuses (here a turn whose text is not encodable) costs only its own
    conversation, stored as incomplete (store_error); the rest of its batch is written."""
    store = Store.open(tmp_path / "w.db")
    tid = store.create_tournament(
        name="w", kind="practice", fingerprint="f", seed=0, conversations_per_matchup=2, max_pairs=1,
        settings=TournamentSettings(), bots=[("a", "attacker", "command", "a"), ("d", "defender", "command", "d")],
        conversation_seeds={("a", "d"): [1, 2]},
    )
    good, bad = (c.id for c in store.conversations(tid))
    writer = StoreWriter(store)
    for cid, text in ((good, "fine"), (bad, "not \ud800 text")):
        writer.add(StartOp(cid, tid, 1.0))
        writer.add(TurnOp(cid, 0, "attacker", text, 0.1, 1.0))
        writer.add(TurnOp(cid, 1, "defender", "reply", 0.1, 1.0))
        writer.add(FinishOp(cid, tid, "complete", None, None, "max_pairs", 2, 2.0))
    asyncio.run(writer.close())
    assert [(t.turn_index, t.content) for t in store.turns(good)] == [(0, "fine"), (1, "reply")]
    row = store.conversation(bad)
    assert (row.status, row.reason) == ("incomplete", "store_error")
    assert row.detail.startswith("turn 0 could not be stored: ")
    store.close()


# --- a bot that stops reading its stdin ------------------------------------------------


def deaf_config(write_config, timeout: int) -> Path:
    """An attacker with 100 KiB replies against a defender that never reads a request."""
    body = f'name = "deaf"\nconversations_per_matchup = 2\nmax_pairs = 1\ntimeout = {timeout}\n'
    return write_config(body + bot_table("attacker", "long", "long_bot.py") + bot_table("defender", "deaf", "deaf_bot.py"))


def test_a_write_to_a_bot_that_stops_reading_is_bounded_by_the_deadline(write_config, tmp_path: Path) -> None:
    """A request larger than a pipe buffer, to a bot that does not read it, times out
    like a missing reply (the bot is restarted); the run finishes."""
    db = tmp_path / "deaf.db"
    result = arena_run(deaf_config(write_config, timeout=2), db, "-q")
    assert result.returncode == 0, result.stderr
    assert outcomes(db, "deaf") == {"deaf": [("incomplete", "timeout", "turn 1 (deaf): did not read the request within 2s")] * 2}


def test_ctrl_c_stops_a_run_stuck_writing_to_a_bot(write_config, tmp_path: Path) -> None:
    """SIGINT while the arena is writing a long request to a bot that does not read it
    stops the run (exit 130, conversations interrupted, resumable), without waiting for
    the deadline."""
    db = tmp_path / "stuck.db"
    proc = subprocess.Popen([*ARENA, "run", str(deaf_config(write_config, timeout=600)), "--db", str(db)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        # The attacker's turn is stored only after the request to the defender was written.
        while stored_turns(db) == 0:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the attacker never answered"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=HANG_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    with Store.open_readonly(db) as store:
        tournament = store.tournament("deaf")
        assert tournament.status == "stopped"
        assert {c.reason for c in store.conversations(tournament.id)} <= {"interrupted", None}


# --- grandchildren of a bot ------------------------------------------------------------


def spawner_config(write_config, marker: str, *, crash: bool = False, n: int = 2, delay_ms: int = 0) -> Path:
    body = f'name = "spawn"\nconversations_per_matchup = {n}\nmax_pairs = 2\ntimeout = 600\n'
    body += bot_table("attacker", "a", "good_bot.py") + f'env = {{ GOOD_BOT_DELAY_MS = "{delay_ms}" }}\n'
    body += f'[[defenders]]\nname = "spawner"\ncommand = ["{PYTHON}", "{BOTS_DIR / "spawner_bot.py"}", "{marker}"]\n'
    body += f'env = {{ SPAWN_CRASH = "{int(crash)}" }}\nmax_restarts = 0\n'
    return write_config(body)


def marked(marker: str) -> list[str]:
    """Command lines of the running processes that carry the marker: the bot, its
    keeper and its grandchildren."""
    found = subprocess.run(["pgrep", "-a", "-f", marker], capture_output=True, text=True).stdout
    return found.splitlines()


def assert_all_gone(marker: str) -> None:
    """Every process carrying the marker ends (SIGKILL takes effect asynchronously)."""
    deadline = time.monotonic() + 10
    while marked(marker):
        assert time.monotonic() < deadline, f"grandchildren outlived their bot: {marked(marker)}"
        time.sleep(0.05)


@pytest.fixture
def marker():
    """A unique marker for a test's spawner bot; any survivor is killed afterwards."""
    name = f"arena-grandchild-{uuid.uuid4().hex}"
    yield name
    for line in marked(name):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(line.split()[0]), signal.SIGKILL)


def test_grandchildren_are_killed_after_a_normal_finish(write_config, tmp_path: Path, marker: str) -> None:
    """A bot's child in its process group and a daemon it started in a new session
    (double fork + setsid) are gone once the run has finished normally."""
    result = arena_run(spawner_config(write_config, marker), tmp_path / "fin.db", "-q")
    assert result.returncode == 0, result.stderr
    assert outcomes(tmp_path / "fin.db", "spawn") == {"spawner": [("complete", None, None)] * 2}
    assert_all_gone(marker)


def test_grandchildren_are_killed_when_their_bot_crashes(write_config, tmp_path: Path, marker: str) -> None:
    """A bot that exits mid-request is reported as crashed at once (its child no longer
    keeps the pipe open until the deadline), and its grandchildren are gone."""
    db = tmp_path / "crash.db"
    result = arena_run(spawner_config(write_config, marker, crash=True, n=1), db, "-q")
    assert result.returncode == 0, result.stderr
    [(status, reason, detail)] = outcomes(db, "spawn")["spawner"]
    assert (status, reason) == ("incomplete", "crash"), detail
    assert_all_gone(marker)


def test_grandchildren_are_killed_when_the_arena_is_killed(write_config, tmp_path: Path, marker: str) -> None:
    """kill -9 of the arena mid-run: the bot, its keeper and both its grandchildren are gone."""
    db = tmp_path / "killed.db"
    proc = subprocess.Popen([*ARENA, "run", str(spawner_config(write_config, marker, n=50, delay_ms=100)), "--db", str(db), "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not {f"{marker}-group", f"{marker}-session"} <= {line.split()[1] for line in marked(marker)} or stored_turns(db) == 0:
            assert proc.poll() is None, "the run ended early"
            assert time.monotonic() < deadline, "the bot never started its grandchildren"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert_all_gone(marker)


# --- the handshake ---------------------------------------------------------------------


def test_handshake_waits_the_configured_timeout(write_config, tmp_path: Path) -> None:
    """A bot that never says hello is given up after the config's `timeout`, not a fixed
    45 s; the other bots play."""
    body = 'name = "hello"\nconversations_per_matchup = 1\nmax_pairs = 1\ntimeout = 1\n'
    body += bot_table("attacker", "a", "good_bot.py") + bot_table("defender", "d", "good_bot.py")
    body += bot_table("defender", "silent", "silent_bot.py")
    db = tmp_path / "hello.db"
    result = arena_run(write_config(body), db, "-q")
    assert result.returncode == 0, result.stderr
    found = outcomes(db, "hello")
    assert found["d"] == [("complete", None, None)]
    [(status, reason, detail)] = found["silent"]
    assert (status, reason) == ("incomplete", "bot_unavailable")
    assert detail.endswith("no handshake within 1s")
