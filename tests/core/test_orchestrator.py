"""The orchestrator with real bot processes: fault isolation, determinism, limits, scrubbed env."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections import Counter
from pathlib import Path

from core.store import Store
from core.tournament.config import load_config
from core.tournament.orchestrator import RunControl, conversation_seed, run_tournament
from core.tournament.reporter import NullReporter
from sample_data import SAMPLE_CONFIG
from tests.conftest import bot_table

FAULT_DEFENDERS = {
    "crash": "crash_bot.py",
    "hang": "hang_bot.py",
    "nonjson": "nonjson_bot.py",
    "huge": "huge_bot.py",
    "badutf8": "badutf8_bot.py",
    "oneshot": "oneshot_bot.py",
}


def run(config, db: Path, **kwargs):
    store = Store.open(db)
    try:
        return asyncio.run(run_tournament(config, store, **kwargs)), store.tournament(config.name).id
    finally:
        store.close()


def transcripts(db: Path, name: str) -> list:
    with Store.open_readonly(db) as store:
        return list(store.transcripts(store.tournament(name).id))


def outcomes(db: Path, name: str) -> dict[tuple[str, str], list[tuple[str, str | None]]]:
    result: dict[tuple[str, str], list[tuple[str, str | None]]] = {}
    with Store.open_readonly(db) as store:
        for c in store.conversations(store.tournament(name).id):
            result.setdefault((c.attacker, c.defender), []).append((c.status, c.reason))
    return result


def test_faulty_bots_are_isolated(write_config, tmp_path: Path) -> None:
    """A tournament with crashing, hanging, non-JSON, 10 MB, invalid-UTF-8 and exiting
    defenders completes; each failure is stored with its reason, and the good matchup's
    transcripts are exactly those of a tournament without the faulty bots."""
    header = 'name = "faults"\nconversations_per_matchup = 6\nseed = 11\nconcurrency = 16\ntimeout = 1.5\nmax_pairs = 3\n'
    header += "[limits]\nmax_restarts = 100\nmax_reply_bytes = 65536\n"
    body = header + bot_table("attacker", "asker", "good_bot.py") + bot_table("defender", "good", "good_bot.py")
    for name, script in FAULT_DEFENDERS.items():
        body += bot_table("defender", name, script)
    summary, _ = run(load_config(write_config(body)), tmp_path / "faults.db")
    assert summary.pending == 0 and summary.complete + summary.incomplete == 6 * 7
    result = outcomes(tmp_path / "faults.db", "faults")
    assert result[("asker", "good")] == [("complete", None)] * 6
    expected = {
        "crash": "crash", "hang": "timeout", "nonjson": "protocol_error", "huge": "oversized_reply",
        "badutf8": "protocol_error", "oneshot": "crash",
    }
    for name, reason in expected.items():
        reasons = {r for s, r in result[("asker", name)] if s == "incomplete"}
        assert reason in reasons, f"{name}: expected an incomplete conversation with reason {reason}, got {result[('asker', name)]}"
    # The hang bot only hangs on some seeds: the others complete despite its restarts.
    assert ("complete", None) in result[("asker", "hang")]
    with Store.open_readonly(tmp_path / "faults.db") as store:
        tid = store.tournament("faults").id
        for conv in store.conversations(tid, status="incomplete"):
            assert conv.detail and conv.reason
        events = {(e.bot, e.kind) for e in store.events_after(0, limit=100_000)}
    assert ("crash", "bot_restart") in events
    # Each failed request is counted once, the same in the summary and in the stored events
    # (what `watch` shows), and each ends one incomplete conversation.
    with Store.open_readonly(tmp_path / "faults.db") as store:
        stored = Counter((e.bot, e.kind[4:]) for e in store.events_after(0, limit=100_000)
                         if e.kind.startswith("bot_") and e.kind not in ("bot_restart", "bot_gave_up"))
        failed = sum(1 for c in store.conversations(tid, status="incomplete") if c.reason != "bot_unavailable")
    counted = Counter({(bot, kind): n for bot, stats in summary.bots.items() for kind, n in stats.failures.items()})
    assert stored == counted and stored[("crash", "crash")] > 0
    assert sum(counted.values()) == failed
    assert (tmp_path / "faults.db.logs" / "faults" / "crash.log").read_text()
    control = header.replace('"faults"', '"control"') + bot_table("attacker", "asker", "good_bot.py") + bot_table(
        "defender", "good", "good_bot.py"
    )
    control_cfg = dataclasses.replace(load_config(write_config(control, "control.toml")), name="faults")
    run(control_cfg, tmp_path / "control.db")
    good = [t for t in transcripts(tmp_path / "faults.db", "faults") if t.defender == "good"]
    assert good == transcripts(tmp_path / "control.db", "faults")


def _sample(conversations: int, concurrency: int):
    """The sample tournament without simulated thinking time."""
    config = load_config(SAMPLE_CONFIG)
    bots = tuple(dataclasses.replace(b, env={}) for b in config.bots)
    n = len(config.attackers)
    return config.with_overrides(
        conversations_per_matchup=conversations, concurrency=concurrency, attackers=bots[:n], defenders=bots[n:]
    )


def test_same_transcripts_at_concurrency_1_and_32(tmp_path: Path) -> None:
    """Reproducible: the sample tournament gives byte-identical transcripts at any concurrency."""
    run(_sample(2, 1), tmp_path / "c1.db")
    run(_sample(2, 32), tmp_path / "c32.db")
    one, many = transcripts(tmp_path / "c1.db", "sample"), transcripts(tmp_path / "c32.db", "sample")
    assert len(one) == 50 and sum(len(t.turns) for t in one) > 200
    assert one == many


def test_paced_run_gives_the_same_transcripts(tmp_path: Path) -> None:
    """A paced run (as `watch` runs the sample) waits 0.5x-1.5x the pace before each turn
    and stores the same transcripts as a run at full speed."""
    control = RunControl(pace=0.01)
    delays = [control.delay(conversation_seed(1, "a", "d", i), turn) for i in range(200) for turn in range(10)]
    assert 0.005 <= min(delays) < 0.006 and 0.014 < max(delays) <= 0.015 and len(set(delays)) > 100
    run(_sample(1, 32), tmp_path / "full.db")
    run(_sample(1, 32), tmp_path / "paced.db", control=control)
    assert transcripts(tmp_path / "full.db", "sample") == transcripts(tmp_path / "paced.db", "sample")


def test_seed_depends_on_place_only() -> None:
    """Seeds differ across the grid and do not depend on anything but (seed, attacker, defender, index)."""
    seeds = {conversation_seed(1, a, d, i) for a in "xy" for d in "uv" for i in range(50)}
    assert len(seeds) == 200
    assert conversation_seed(1, "x", "u", 0) == conversation_seed(1, "x", "u", 0) < 2**63


class Recorder(NullReporter):
    def __init__(self) -> None:
        self.events: list[str] = []

    def tournament_started(self, info) -> None:  # noqa: ANN001
        self.events.append(f"start {info.planned}")

    def turn(self, conv, turn_index, role, content, latency) -> None:  # noqa: ANN001
        self.events.append("turn")

    def conversation_finished(self, conv, status, reason, detail) -> None:  # noqa: ANN001
        self.events.append(status)

    def tournament_finished(self, summary) -> None:  # noqa: ANN001
        self.events.append("end")


def test_reporter_sees_every_event(write_config, tmp_path: Path) -> None:
    """The reporter gets the start, each turn, each finish and the end, matching the store."""
    body = 'name = "r"\nconversations_per_matchup = 3\nmax_pairs = 2\n' + bot_table("attacker", "a", "good_bot.py") + bot_table(
        "defender", "d", "good_bot.py"
    )
    recorder = Recorder()
    summary, _ = run(load_config(write_config(body)), tmp_path / "r.db", reporter=recorder)
    assert recorder.events[0] == "start 3" and recorder.events[-1] == "end"
    assert recorder.events.count("complete") == 3
    with Store.open_readonly(tmp_path / "r.db") as store:
        assert recorder.events.count("turn") == len(store.turns_after(0))
    assert summary.replies == recorder.events.count("turn")


def test_scrubbed_environment_and_limits(write_config, tmp_path: Path, monkeypatch) -> None:
    """Bots see only the documented environment (no organizer secrets) plus their own env
    table, and run under the configured memory limit."""
    monkeypatch.setenv("ORGANIZER_SECRET", "hunter2")
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import json, os, resource, sys\n"
        "for line in sys.stdin:\n"
        "    m = json.loads(line)\n"
        "    if m['type'] == 'hello':\n"
        "        print(json.dumps({'type': 'hello', 'protocol': 1}), flush=True)\n"
        "    elif m['type'] == 'turn':\n"
        "        info = {'env': sorted(os.environ), 'mine': os.environ.get('MINE'),\n"
        "                'as': resource.getrlimit(resource.RLIMIT_AS)[0]}\n"
        "        print(json.dumps({'type': 'reply', 'id': m['id'], 'content': json.dumps(info)}), flush=True)\n"
        "    else:\n"
        "        break\n"
    )
    body = (
        'name = "env"\nconversations_per_matchup = 1\nmax_pairs = 1\n'
        + bot_table("attacker", "a", "good_bot.py")
        + f'[[defenders]]\nname = "probe"\ncommand = ["{sys.executable}", "{probe}"]\nmemory_mb = 300\nenv = {{ MINE = "yes" }}\n'
    )
    run(load_config(write_config(body)), tmp_path / "env.db")
    import json

    with Store.open_readonly(tmp_path / "env.db") as store:
        reply = json.loads(store.turns_after(0)[1].content)
    assert "ORGANIZER_SECRET" not in reply["env"]
    assert reply["mine"] == "yes"
    assert reply["as"] == 300 << 20
    assert set(reply["env"]) <= {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "ARENA_BOT_NAME", "ARENA_BOT_SIDE",
                                 "PYTHONUNBUFFERED", "MINE", "LC_CTYPE", "PWD"}


def test_bot_that_fails_handshake_makes_its_conversations_incomplete(write_config, tmp_path: Path) -> None:
    """A bot that cannot start is given up: its matchups are incomplete (bot_unavailable), the rest run."""
    broken = tmp_path / "broken.py"
    broken.write_text("import sys\nprint('no protocol here', file=sys.stderr)\nsys.exit(3)\n")
    body = (
        'name = "hs"\nconversations_per_matchup = 2\nmax_pairs = 1\n'
        + bot_table("attacker", "a", "good_bot.py")
        + bot_table("defender", "d", "good_bot.py")
        + f'[[defenders]]\nname = "broken"\ncommand = ["{sys.executable}", "{broken}"]\n'
    )
    summary, _ = run(load_config(write_config(body)), tmp_path / "hs.db")
    result = outcomes(tmp_path / "hs.db", "hs")
    assert result[("a", "d")] == [("complete", None)] * 2
    assert result[("a", "broken")] == [("incomplete", "bot_unavailable")] * 2
    assert "exited with code 3" in summary.bots["broken"].gave_up
    assert "no protocol here" in summary.bots["broken"].gave_up


def test_bot_log_is_capped(tmp_path: Path) -> None:
    """A bot's stderr log stops growing at its cap, with a marker, and keeps the last line."""
    from core.tournament.bots import BotLog

    log = BotLog(tmp_path / "b.log", cap_bytes=1000)
    for i in range(100):
        log.write(f"noise line {i}\n".encode())
    log.close()
    text = (tmp_path / "b.log").read_text()
    assert len(text) < 1100 and text.endswith("log cap reached; further output dropped\n")
    assert log.last_line == "noise line 99"


def test_replies_written_in_pieces_give_the_same_transcripts(write_config, tmp_path: Path) -> None:
    """A bot whose reply lines arrive cut in pieces, some after a line for an unknown id in
    the same write, is read line by line all the same: the transcripts of a bot that
    writes each reply at once."""
    def config(defender: str, name: str):
        body = (f'name = "{name}"\nconversations_per_matchup = 3\nmax_pairs = 3\nconcurrency = 3\n'
                + bot_table("attacker", "a", "good_bot.py") + bot_table("defender", "d", defender))
        return load_config(write_config(body, f"{name}.toml"))

    summary, _ = run(config("split_bot.py", "pieces"), tmp_path / "pieces.db")
    run(config("good_bot.py", "whole"), tmp_path / "whole.db")
    assert summary.complete == 3 and summary.replies == 18
    assert transcripts(tmp_path / "pieces.db", "pieces") == transcripts(tmp_path / "whole.db", "whole")
