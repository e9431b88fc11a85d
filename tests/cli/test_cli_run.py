"""`arena-tui run` end to end in subprocesses: SIGKILL + --resume, Ctrl+C, bots check, --version."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from core.store import Store
from tests.conftest import bot_table

ARENA = [sys.executable, "-m", "arena_tui.cli"]


def slow_config(write_config, name: str = "slow", n: int = 8) -> Path:
    """A tournament slow enough to interrupt: good bots with a little thinking time."""
    body = f'name = "{name}"\nconversations_per_matchup = {n}\nseed = 3\nconcurrency = 4\nmax_pairs = 3\n'
    for side in ("attacker", "defender"):
        for i in range(2):
            body += bot_table(side, f"{side[0]}{i}", "good_bot.py")
            body += 'env = { GOOD_BOT_DELAY_MS = "50" }\n'
    return write_config(body)


def complete_count(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT COUNT(*) FROM conversations WHERE status = 'complete'").fetchone()[0]
    except sqlite3.Error:
        return 0


def wait_for_progress(db: Path, at_least: int, proc: subprocess.Popen, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while complete_count(db) < at_least:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.05)


def transcripts(db: Path, name: str) -> list:
    with Store.open_readonly(db) as store:
        return list(store.transcripts(store.tournament(name).id))


def test_sigkill_then_resume_equals_uninterrupted_run(write_config, tmp_path: Path) -> None:
    """kill -9 mid-tournament, then --resume: completed conversations are kept, unfinished
    ones redone, nothing duplicated, transcripts identical to an uninterrupted run."""
    config = slow_config(write_config)
    db = tmp_path / "killed.db"
    proc = subprocess.Popen([*ARENA, "run", str(config), "--db", str(db), "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_progress(db, 3, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = complete_count(db)
    assert 0 < done_before < 32
    with Store.open_readonly(db) as store:
        kept = {c.id: store.turns(c.id) for c in store.conversations(store.tournament("slow").id, status="complete")}
    resumed = subprocess.run([*ARENA, "run", str(config), "--db", str(db), "--resume", "-q"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    subprocess.run([*ARENA, "run", str(config), "--db", str(tmp_path / "clean.db"), "-q"], check=True, capture_output=True)
    assert transcripts(db, "slow") == transcripts(tmp_path / "clean.db", "slow")
    with Store.open_readonly(db) as store:
        tid = store.tournament("slow").id
        assert store.status_counts(tid)["complete"] == 32
        for cid, turns in kept.items():
            assert store.turns(cid) == turns, "a completed conversation was redone"
        n_turns = store.conn.execute("SELECT COUNT(*), COUNT(DISTINCT conversation_id || ':' || turn_index) FROM turns").fetchone()
        assert n_turns[0] == n_turns[1]
    # Orphan bot processes would keep the pipes open; the killed runner's bots must be gone.
    time.sleep(0.2)


def test_ctrl_c_stops_gracefully_and_resume_finishes(write_config, tmp_path: Path) -> None:
    """SIGINT stops the run with exit code 130 and a resumable store; --resume finishes it."""
    config = slow_config(write_config, "stopme")
    db = tmp_path / "stop.db"
    proc = subprocess.Popen([*ARENA, "run", str(config), "--db", str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_progress(db, 3, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    with Store.open_readonly(db) as store:
        t = store.tournament("stopme")
        assert t.status == "stopped"
        counts = store.status_counts(t.id)
        assert counts["running"] == 0 and counts["complete"] < 32
    result = subprocess.run([*ARENA, "run", str(config), "--db", str(db), "--resume", "-q"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    with Store.open_readonly(db) as store:
        t = store.tournament("stopme")
        assert t.status == "finished" and store.status_counts(t.id)["complete"] == 32


def test_run_twice_without_resume_is_refused(write_config, tmp_path: Path) -> None:
    """A second run of the same tournament into the same store needs --resume or --name."""
    body = 'name = "twice"\nconversations_per_matchup = 1\nmax_pairs = 1\n' + bot_table("attacker", "a", "good_bot.py") + bot_table(
        "defender", "d", "good_bot.py"
    )
    config = write_config(body)
    db = tmp_path / "t.db"
    subprocess.run([*ARENA, "run", str(config), "--db", str(db), "-q"], check=True, capture_output=True)
    before = db.read_bytes()
    again = subprocess.run([*ARENA, "run", str(config), "--db", str(db)], capture_output=True, text=True)
    assert again.returncode == 2
    assert again.stderr.strip() == (
        f"arena-tui: tournament 'twice' is already in {db}; use --resume to continue it, "
        "--name to run it again under another name, or another --db"
    )
    assert db.read_bytes() == before
    renamed = subprocess.run([*ARENA, "run", str(config), "--db", str(db), "--name", "twice-2", "-q"], capture_output=True, text=True)
    assert renamed.returncode == 0, renamed.stderr


def test_bots_check_reports_each_bot(write_config) -> None:
    """`bots check` handshakes every bot and names the one that fails."""
    body = 'name = "chk"\nconversations_per_matchup = 1\n' + bot_table("attacker", "a", "good_bot.py") + bot_table(
        "defender", "d", "good_bot.py"
    ) + bot_table("defender", "dead", "oneshot_bot.py") + f'[[defenders]]\nname = "nohello"\ncommand = ["{sys.executable}", "-c", "pass"]\n'
    result = subprocess.run([*ARENA, "bots", "check", str(write_config(body))], capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 1
    assert "1 of 4 bots failed the handshake" in result.stderr
    assert "\nnohello: exited with code 0 before the handshake" in result.stdout  # whole, under the table
    lines = result.stdout.splitlines()
    assert sum(line.rstrip().endswith(" ok") for line in lines) == 3
    assert [line.split()[0] for line in lines if line.rstrip().endswith(" failed")] == ["nohello"]


def test_bots_check_of_the_sample_reads_whole_at_80_columns() -> None:
    """On a laptop terminal every sample bot's row shows its name whole and its status (the
    table was cut at the right edge before), and nothing is wider than the terminal."""
    result = subprocess.run([*ARENA, "bots", "check"], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= 80
    rows = {line.split()[0]: line.split() for line in lines if line.rstrip().endswith(" ok")}
    assert set(rows) == {"direct", "roleplay", "escalator", "smuggler", "mutator", "naive-helper", "keyword-filter",
                         "intent-classifier", "over-refuser", "balanced"}


def test_version_and_help() -> None:
    """--version prints the version; every command has help."""
    out = subprocess.run([*ARENA, "--version"], capture_output=True, text=True, check=True).stdout
    assert out.startswith("arena-tui, version ")
    for args in (["--help"], ["run", "--help"], ["bots", "check", "--help"]):
        text = subprocess.run([*ARENA, *args], capture_output=True, text=True, check=True).stdout
        assert "Usage:" in text and len(text.splitlines()) > 4


def test_killed_runner_leaves_no_orphan_bots(write_config, tmp_path: Path) -> None:
    """After kill -9 of the runner, its bot processes (even one that ignores stdin) are gone."""
    stubborn = tmp_path / "stubborn.py"
    stubborn.write_text(
        "import json, signal, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "for line in sys.stdin:\n"
        "    m = json.loads(line)\n"
        "    if m['type'] == 'hello':\n"
        "        print(json.dumps({'type': 'hello', 'protocol': 1}), flush=True)\n"
        "    else:\n"
        "        time.sleep(3600)\n"
    )
    body = 'name = "orphans"\nconversations_per_matchup = 2\ntimeout = 600\n' + bot_table("attacker", "a", "good_bot.py")
    body += f'[[defenders]]\nname = "stubborn"\ncommand = ["{sys.executable}", "{stubborn}"]\n'
    db = tmp_path / "o.db"
    proc = subprocess.Popen([*ARENA, "run", str(write_config(body)), "--db", str(db), "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        children = subprocess.run(["pgrep", "-f", str(stubborn)], capture_output=True, text=True).stdout.split()
        if children and _turns(db) > 0:
            break
        assert time.monotonic() < deadline, "the bot never started"
        time.sleep(0.05)
    time.sleep(0.3)  # let the defender request reach the stubborn bot, which then sleeps
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while subprocess.run(["pgrep", "-f", str(stubborn)], capture_output=True).returncode == 0:
        assert time.monotonic() < deadline, "a bot outlived the killed runner"
        time.sleep(0.05)


def _turns(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT COUNT(*) FROM turns").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_evaluation_output_is_not_markup() -> None:
    """Names and the literal `[evaluation]` in the evaluate summary print as written."""
    import io
    from collections import Counter
    from types import SimpleNamespace

    from rich.console import Console

    from arena_tui.cli.evaluation import _print_evaluation

    static = SimpleNamespace(scanned=1, replies=2, blocks=1, skipped_blocks=0, flagged=0, findings_by_test=Counter())
    queue = SimpleNamespace(review_items=0, audit_items=0, assignments=0, no_roster=True)
    console = Console(file=io.StringIO(), width=300, highlight=False)
    _print_evaluation(console, "x[/] [link=http://e]y[/link]", static, queue, [])
    out = console.file.getvalue()
    assert "x[/] [link=http://e]y[/link]: scanned 1" in out
    assert "no annotators in the config's [evaluation] roster" in out
