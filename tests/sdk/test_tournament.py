"""The SDK in real tournaments: the example bots of docs/sdk.md, extracted from the
page, play through the real `arena-tui`; the sample tournament (its bots are written on
the SDK) is reproducible, techniques included."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import ARENA_TUI

ROOT = Path(__file__).resolve().parents[2]
SDK_DOC = ROOT / "docs" / "sdk.md"
BLOCK = re.compile(r"```(?:python|toml)\n# file: (\S+)\n(.*?)```", re.DOTALL)


def doc_files() -> dict[str, str]:
    """The files docs/sdk.md shows (code blocks whose first line is `# file: NAME`)."""
    return {name: body for name, body in BLOCK.findall(SDK_DOC.read_text(encoding="utf-8"))}


def arena(*args: str, cwd: Path, columns: int = 200) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    done = subprocess.run([ARENA_TUI, *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, f"arena-tui {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done


def test_docs_example_bots_play_a_tournament(tmp_path: Path) -> None:
    """The twenty-line attacker and defender of docs/sdk.md, as the page shows them, pass
    `bots check`, play the page's one-matchup config (the attacker both as a python and
    as a command bot), and their techniques reach the store, the leaderboard JSON and the
    report."""
    files = doc_files()
    assert set(files) == {"my_attacker.py", "my_defender.py", "try.toml", "pair_attacker.py"}
    for name in ("my_attacker.py", "my_defender.py"):
        assert len(files[name].strip().splitlines()) <= 22, f"{name} is not a twenty-line bot"
    for name, body in files.items():
        if name == "try.toml":  # the command bot runs with this test's interpreter
            body = body.replace('command = ["python",', f"command = [{json.dumps(sys.executable)},")
        (tmp_path / name).write_text(body, encoding="utf-8")
    check = arena("bots", "check", "try.toml", cwd=tmp_path)
    ok = [line.split()[0] for line in check.stdout.splitlines() if line.rstrip().endswith(" ok")]
    assert ok == ["my-attacker", "my-attacker-cmd", "my-defender", "my-defender-cmd"], check.stdout
    arena("run", "try.toml", "--db", "try.db", "-q", cwd=tmp_path)
    with sqlite3.connect(tmp_path / "try.db") as db:
        statuses = db.execute("SELECT status, COUNT(*) FROM conversations GROUP BY status").fetchall()
        records = set(db.execute("SELECT role, technique, converters FROM turns").fetchall())
        leaked = db.execute("SELECT COUNT(*) FROM turns WHERE role = 'defender' AND content LIKE '%shell=True%'"
                            ).fetchone()
    assert statuses == [("complete", 16)]  # no bot_error: OutputCheck scans in a command bot too
    assert ("attacker", "crescendo", "leetspeak") in records
    assert {r[1] for r in records if r[0] == "defender"} <= {None, "input-classifier", "output-check"}
    assert ("defender", "input-classifier", None) in records and leaked == (0,)
    arena("evaluate", "--db", "try.db", cwd=tmp_path)
    board = json.loads(arena("leaderboard", "--db", "try.db", "--json", cwd=tmp_path).stdout)
    cells = {(c["label"], c["defender"]): c for c in board["techniques"]}
    assert set(cells) == {("crescendo + leetspeak", d) for d in (None, "my-defender", "my-defender-cmd")}
    whole = cells[("crescendo + leetspeak", None)]
    assert whole["conversations"] == 16 and whole["attackers"] == ["my-attacker", "my-attacker-cmd"]
    assert whole["asr_interval"][0] <= whole["asr"] <= whole["asr_interval"][1]
    text = arena("leaderboard", "--db", "try.db", cwd=tmp_path, columns=80).stdout
    assert "ASR % by technique" in text and max(map(len, text.splitlines())) <= 80
    row = next(line for line in text.splitlines() if line.lstrip().startswith("crescendo +"))
    assert row.split()[3:] == ["0", "[0–19]", "16", "0", "0"]  # after the label: ASR, interval, n, per defender
    report = arena("report", "--db", "try.db", cwd=tmp_path).stdout
    assert "Attack success by technique × defender" in report
    assert "| crescendo + leetspeak | 0.0 % (0.0–19.4) n=16 | 0.0 % (0.0–32.4) n=8 | 0.0 % (0.0–32.4) n=8 |" in report


def turns(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT a.name, d.name, c.idx, t.turn_index, t.role, t.content, t.technique, t.converters"
            " FROM turns t JOIN conversations c ON c.id = t.conversation_id JOIN matchups m ON m.id = c.matchup_id"
            " JOIN bots a ON a.id = m.attacker_id JOIN bots d ON d.id = m.defender_id"
            " ORDER BY a.name, d.name, c.idx, t.turn_index").fetchall()


def test_sample_tournament_is_reproducible_with_its_techniques(tmp_path: Path) -> None:
    """Two runs of the bundled sample (same seed, different concurrency) store identical
    transcripts, techniques and converters; every attacker turn names its technique."""
    arena("run", "--db", "one.db", "--conversations", "2", "--concurrency", "16", "-q", cwd=tmp_path)
    arena("run", "--db", "two.db", "--conversations", "2", "--concurrency", "3", "-q", cwd=tmp_path)
    one, two = turns(tmp_path / "one.db"), turns(tmp_path / "two.db")
    assert len(one) > 300 and one == two
    attacker_techniques = {row[6] for row in one if row[4] == "attacker"}
    assert attacker_techniques == {"direct", "roleplay", "crescendo", "smuggle"}
    mutations = [row[7] for row in one if row[0] == "mutator" and row[4] == "attacker"]
    assert None not in mutations and len(set(mutations)) >= 4
