"""What the CLI tells the user, on the paths people take: the real `arena-tui` in
subprocesses, on a store made by `arena-tui run` and `arena-tui evaluate`."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import bot_table

# The installed console script, as a user runs it.
ARENA = [shutil.which("arena-tui", path=str(Path(sys.executable).parent)) or "arena-tui"]
ROSTER = "alice, bob, carol, dana, erin"  # the sample's annotators and adjudicator


def arena(*args: str, cwd: Path | None = None, **kwargs) -> subprocess.CompletedProcess:  # noqa: ANN003
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([*ARENA, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600, **kwargs)


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory) -> Path:
    """The bundled sample (one conversation per matchup), run and evaluated by the CLI."""
    db = tmp_path_factory.mktemp("sample") / "arena.db"
    assert arena("run", "--db", str(db), "--conversations", "1", "-q").returncode == 0
    assert arena("evaluate", "--db", str(db)).returncode == 0
    return db


@pytest.fixture
def store_copy(sample_store: Path, tmp_path: Path) -> Path:
    db = tmp_path / "arena.db"
    shutil.copy(sample_store, db)
    return db


def label_events(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*) FROM labels").fetchone()[0]


def queue_ids(db: Path, annotator: str) -> list[int]:
    out = arena("queue", "--db", str(db), "-a", annotator).stdout
    return [int(m) for m in re.findall(r"^│\s*(\d+)\s*│", out, flags=re.MULTILINE)]


# --- unknown annotator -------------------------------------------------------------------


@pytest.mark.parametrize("command", [
    ["queue", "-a", "nobody"],
    ["label", "-a", "nobody", "1", "attack"],
    ["label", "-a", "nobody", "1", "--undo"],
    ["annotate", "-a", "nobody"],
    ["pack", "export", "-a", "nobody", "-o", "nobody.pack"],
])
def test_unknown_annotator_is_the_same_one_line_everywhere(store_copy: Path, command: list[str]) -> None:
    """Every command that takes an annotator refuses an unknown one with the same line,
    exit 2, nothing on stdout, nothing written."""
    result = arena(*command, "--db", str(store_copy), cwd=store_copy.parent)
    assert result.returncode == 2
    assert result.stderr == f"arena-tui: unknown annotator 'nobody' (roster: {ROSTER})\n"
    assert result.stdout == ""
    assert label_events(store_copy) == 0 and not (store_copy.parent / "nobody.pack").exists()


# --- evaluate ------------------------------------------------------------------------------


def test_evaluate_again_does_not_say_0_flagged(store_copy: Path) -> None:
    """A second `evaluate` says it had nothing new to do, and the verdict table says it
    counts every conversation, not this pass."""
    result = arena("evaluate", "--db", str(store_copy))
    assert result.returncode == 0
    first = result.stdout.strip().splitlines()[0]
    assert first == "sample: no new conversations to scan; nothing new to queue"
    assert "0 flagged" not in result.stdout and "flagged" not in result.stdout
    assert "Verdicts of all 25 complete conversations" in result.stdout
    assert re.search(r"attack\s+│\s+vulnerable_code\s+│\s+[1-9]", result.stdout)


# --- agreement -----------------------------------------------------------------------------


def test_agreement_with_one_annotator_says_why_nothing_to_show(store_copy: Path) -> None:
    """Labels from alice alone: agreement says no item has two annotators' labels, with k
    and the roster, instead of an empty table and "0 labels"."""
    for cid in queue_ids(store_copy, "alice")[:2]:
        assert arena("label", "--db", str(store_copy), "-a", "alice", str(cid), "defense").returncode == 0
    result = arena("agreement", "--db", str(store_copy))
    assert result.returncode == 0
    assert result.stdout == ("sample: no agreement to show: no item has labels from two annotators yet "
                             "(2 labels so far, by alice); k = 3 annotators per item, roster: alice, bob, carol, dana\n")


def test_agreement_with_a_roster_of_one(tmp_path: Path, write_config) -> None:
    """A roster of one annotator can never give agreement: the message says so."""
    config = write_config('name = "solo"\nconversations_per_matchup = 2\nmax_pairs = 1\n'
                          + bot_table("attacker", "a", "good_bot.py") + bot_table("defender", "d", "good_bot.py")
                          + '[evaluation]\nannotators = ["alice"]\nannotators_per_item = 1\n')
    db = tmp_path / "solo.db"
    assert arena("run", str(config), "--db", str(db), "-q").returncode == 0
    assert arena("evaluate", "--db", str(db)).returncode == 0
    result = arena("agreement", "--db", str(db))
    assert result.stdout == ("solo: no agreement to show: the roster has 1 annotator; agreement needs two or more "
                             "([evaluation] annotators); k = 1 annotators per item, roster: alice\n")
    as_json = json.loads(arena("agreement", "--db", str(db), "--json").stdout)
    assert as_json["solo"]["shortfall"] == ("no agreement to show: the roster has 1 annotator; agreement needs two "
                                            "or more ([evaluation] "
                                            "annotators); k = 1 annotators per item, roster: alice")


# --- utility -------------------------------------------------------------------------------

CODEGEN = [
    {"id": "add", "instruction": "Write `add(a, b)`.", "entry_point": "add", "tests": "assert add(1, 2) == 3\n"},
    {"id": "mul", "instruction": "Write `mul(a, b)`.", "entry_point": "mul", "tests": "assert mul(2, 3) == 6\n"},
]


def test_utility_says_why_a_set_scores_0(tmp_path: Path, write_config) -> None:
    """Bots that answer in prose never define the function under test: the set scores 0 and
    `utility` says that no test ran, for which bots and how many items."""
    (tmp_path / "codegen.jsonl").write_text("".join(json.dumps(item) + "\n" for item in CODEGEN), encoding="utf-8")
    config = write_config('name = "u"\nconversations_per_matchup = 1\n'
                          + bot_table("attacker", "a", "good_bot.py") + bot_table("defender", "d", "good_bot.py")
                          + '[utility]\nsets = ["codegen.jsonl"]\n[utility.base]\nname = "base"\n'
                          + f'command = ["{sys.executable}", "{Path(__file__).parent.parent / "bots" / "good_bot.py"}"]\n')
    result = arena("utility", str(config), "--db", str(tmp_path / "u.db"), "-q")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert ("codegen scores 0: no reply defined the function the tests call (add, mul) at top level, "
            "so no test ran, in 2 (base, d) of 2 items.") in text


# --- report --------------------------------------------------------------------------------


def run_on_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run with stderr on a pseudo-terminal (as in a shell); return (exit code, what the terminal got)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([*ARENA, *args], stdout=subprocess.DEVNULL, stderr=slave, cwd=cwd,
                            env={**os.environ, "COLUMNS": "120", "TERM": "xterm"})
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the terminal closed
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(timeout=600), b"".join(chunks).decode("utf-8", "replace")


def test_report_shows_progress_on_a_terminal(store_copy: Path) -> None:
    """`report` tells a person at a terminal what it is computing; a pipe gets only the report."""
    code, terminal = run_on_terminal(["report", "--db", str(store_copy), "-o", "report.md"], store_copy.parent)
    assert code == 0
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal)
    # The steps are one per tournament and one per diversity level, and with -o those of
    # the charts (the tournament's scores, ratings, response times, pairwise agreement): a
    # short run may show only the first and last frames.
    assert "report: " in plain and "8/8" in plain
    assert (store_copy.parent / "report.md").read_text(encoding="utf-8").startswith("# Dataset report")
    piped = arena("report", "--db", str(store_copy))
    assert piped.returncode == 0 and piped.stderr == "" and piped.stdout.startswith("# Dataset report")


# --- labels export -------------------------------------------------------------------------


def test_labels_export_into_a_missing_folder_is_one_line(store_copy: Path, tmp_path: Path) -> None:
    """`labels export -o` into a folder that does not exist: one line, exit 2, no file."""
    out = tmp_path / "missing" / "labels.jsonl"
    done = arena("labels", "export", "--db", str(store_copy), "-o", str(out))
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"arena-tui: folder {out.parent} does not exist\n"
    assert not out.parent.exists()


def test_queue_does_not_load_the_terminal_ui(store_copy: Path) -> None:
    """`arena-tui queue` prints a table: it needs the status words, not Textual."""
    result = subprocess.run([sys.executable, "-X", "importtime", *ARENA, "queue", "--db", str(store_copy), "-a", "alice"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "to do" in result.stdout
    imported = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "core.store.annotate" in imported
    assert sorted(m for m in imported if m.split(".")[0] == "textual" or m.startswith("arena_tui.annotate")) == []


# --- help ----------------------------------------------------------------------------------


def test_every_command_option_and_argument_has_help() -> None:
    """Every command has help text, every option its own line, and the help names every argument."""
    import click

    from arena_tui.cli import main

    def walk(command: click.Command, path: str):  # noqa: ANN202
        yield path, command
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, f"{path} {name}")

    missing = []
    for path, command in walk(main, "arena-tui"):
        if not (command.help or "").strip():
            missing.append(f"{path}: no help")
        for param in command.params:
            if isinstance(param, click.Option) and not (param.help or "").strip():
                missing.append(f"{path} {param.opts[0]}: no help")
            elif isinstance(param, click.Argument) and param.human_readable_name not in (command.help or ""):
                missing.append(f"{path}: help does not say what {param.human_readable_name} is")
    assert missing == []


# --- start-up ------------------------------------------------------------------------------

ENGINE = ("numpy", "sqlite3", "bandit", "sacrebleu", "textual", "core.store", "core.evaluation.pipeline", "core.tournament.orchestrator",
          "core.tournament.bots", "core.scoring.leaderboard", "core.evaluation.intervals", "core.scoring.utility", "core.evaluation.static")


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["leaderboard", "--help"], ["run", "--help"]])
def test_help_and_version_do_not_load_the_engine(args: list[str]) -> None:
    """The installed `arena-tui` answers --help/--version without importing numpy or the engine."""
    result = subprocess.run([sys.executable, "-X", "importtime", *ARENA, *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout
    imported = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "click" in imported
    loaded = sorted(m for m in imported if m.split(".")[0] in ENGINE or any(m.startswith(e + ".") or m == e for e in ENGINE))
    assert loaded == []
