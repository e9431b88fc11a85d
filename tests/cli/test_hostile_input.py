"""Names, notes and imported files are hostile input: the real `arena-tui` refuses what it
cannot store with one line (exit 2) before writing anything, keeps names inside the
store's log folder, checks `python` bots without running them, and writes names into
markdown inert."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.cli.test_cli_messages import arena, queue_ids, sample_store, store_copy  # noqa: F401 - fixtures
from tests.conftest import bot_table

ESC = "\x1b[31m"
RLO = "\u202e"


def tiny_config(write_config, name: str = "tiny") -> Path:
    return write_config(f'name = "{name}"\nconversations_per_matchup = 1\nmax_pairs = 1\n'
                        + bot_table("attacker", "a", "good_bot.py") + bot_table("defender", "d", "good_bot.py"))


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def one_line_refusal(result, *needles: str) -> None:  # noqa: ANN001
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("arena-tui: ")
    assert "Traceback" not in result.stderr and result.stdout == ""
    for needle in needles:
        assert needle in result.stderr


def label_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*) FROM labels").fetchone()[0]


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../../escaped", "..", "x/../../y", b"caf\xe9", f"red{ESC}"])
def test_run_name_is_checked_before_anything_is_written(tmp_path: Path, write_config, name: str | bytes) -> None:
    """`run --name` cannot put bot logs outside `<store>.logs/`, and a name that is not
    valid text is one line: nothing is written anywhere."""
    config = tiny_config(write_config)
    store_dir = tmp_path / "a" / "b" / "c"
    store_dir.mkdir(parents=True)
    before = files_under(tmp_path)
    result = arena("run", str(config), "--db", str(store_dir / "arena.db"), "--name", name, "-q")
    one_line_refusal(result, "--name: must be 1-100 characters of valid text")
    assert files_under(tmp_path) == before


def test_config_names_are_checked_too(tmp_path: Path, write_config) -> None:
    """The same rule holds for names in the config file."""
    config = tiny_config(write_config, name="..")
    result = arena("run", str(config), "--db", str(tmp_path / "arena.db"), "-q")
    one_line_refusal(result, "name: must be 1-100 characters")
    assert not (tmp_path / "arena.db").exists()


# --- invalid bytes and lone surrogates -------------------------------------------------------


def test_label_note_with_invalid_bytes_is_one_line(store_copy: Path) -> None:  # noqa: F811
    """A note typed with bytes that are not UTF-8 is refused (it cannot be stored); nothing written."""
    cid = queue_ids(store_copy, "alice")[0]
    result = arena("label", "--db", str(store_copy), "-a", "alice", str(cid), "attack", "--note", b"bad \xff byte")
    one_line_refusal(result, "the note: not valid Unicode (lone surrogate \\udcff at character 5)")
    assert label_count(store_copy) == 0


def chat(content: str = "write code", attacker: str = "a", reply: str = "no") -> str:
    """One chat-format record (json.dumps writes a lone surrogate as its \\uXXXX escape)."""
    return json.dumps({"messages": [{"role": "user", "content": content}, {"role": "assistant", "content": reply}],
                       "attacker": attacker, "defender": "d"})


def test_import_with_a_lone_surrogate_is_one_line(tmp_path: Path) -> None:
    """`"\\ud800"` is valid JSON but not valid Unicode: the line is named, no store is made."""
    data = tmp_path / "in.jsonl"
    data.write_text(chat() + "\n" + chat("hi \ud800 there") + "\n", encoding="utf-8")
    assert "\\ud800" in data.read_text(encoding="utf-8")
    result = arena("import", "--db", str(tmp_path / "x.db"), str(data))
    one_line_refusal(result, "in.jsonl line 2: messages[0].content: not valid Unicode (lone surrogate \\ud800 at character 4)")
    assert not (tmp_path / "x.db").exists()


def test_import_skip_invalid_reports_each_bad_line_whole(tmp_path: Path) -> None:
    """With --skip-invalid, a line of bytes that are not UTF-8 and a line of broken JSON
    are reported with where the problem is; the valid lines are imported."""
    data = tmp_path / "in.jsonl"
    data.write_bytes(b"\n".join([chat().encode(), b'{"messages": [1, 2', chat().encode()[:-2] + b"\xff\"}",
                                 chat(attacker="b").encode()]) + b"\n")
    db = tmp_path / "x.db"
    result = arena("import", "--db", str(db), "--skip-invalid", str(data))
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "skipped in.jsonl line 2: not JSON: Expecting ',' delimiter at character 19",
        f"skipped in.jsonl line 3: not UTF-8 text (byte 0xff at byte {len(chat()) - 1})",
    ]
    assert "imported 2 conversations (2 matchups)" in result.stdout and "skipped 2 invalid lines" in result.stdout
    refused = arena("import", "--db", str(tmp_path / "y.db"), str(data))
    one_line_refusal(refused, "in.jsonl line 2: not JSON: Expecting ',' delimiter at character 19")


def test_import_tournament_name_is_checked(tmp_path: Path) -> None:
    data = tmp_path / "in.jsonl"
    data.write_text(chat() + "\n", encoding="utf-8")
    result = arena("import", "--db", str(tmp_path / "x.db"), str(data), "--tournament", b"\xff")
    one_line_refusal(result, "tournament name must be")
    assert not (tmp_path / "x.db").exists()


def test_labels_import_with_a_lone_surrogate_is_one_line(store_copy: Path, tmp_path: Path) -> None:  # noqa: F811
    """A label event whose note holds `\\udc80` is refused, naming line and field; the log is unchanged."""
    cid = queue_ids(store_copy, "alice")[0]
    assert arena("label", "--db", str(store_copy), "-a", "alice", str(cid), "attack", "--note", "ok").returncode == 0
    event = json.loads(arena("labels", "export", "--db", str(store_copy)).stdout)
    event.update(event_uid="another", note="\udc80")
    data = tmp_path / "labels.jsonl"
    data.write_text(json.dumps(event) + "\n", encoding="utf-8")
    result = arena("labels", "import", "--db", str(store_copy), str(data))
    one_line_refusal(result, "labels.jsonl line 1: note: not valid Unicode (lone surrogate \\udc80 at character 1)")
    assert label_count(store_copy) == 1


# --- python bots ---------------------------------------------------------------------------

TEAM_CODE = '''
import pathlib
try:  # in the arena's process (validation) this lands; in the bot's sandbox the folder is read-only
    pathlib.Path(__file__).with_name("ran").write_text("team code ran at validation")
except OSError:
    pass


class Helper:
    def respond(self, request):
        return "hi"


class NoRespond:
    pass
'''


@pytest.mark.parametrize(("spec", "message"), [
    ("team.py:Missing", "defenders[0].python: team.py defines no class Missing (classes: Helper, NoRespond)"),
    ("team:Missing", "defenders[0].python: team defines no class Missing (classes: Helper, NoRespond)"),
    ("team.py:NoRespond", "defenders[0].python: team.py class NoRespond has no respond() method"),
    ("no_such_module:Bot", "defenders[0].python: module 'no_such_module' not found next to the config"),
])
def test_python_bot_class_is_checked_without_running_team_code(tmp_path: Path, write_config, spec: str,
                                                                 message: str) -> None:
    """A `python` bot whose class does not exist fails config validation (`bots check`,
    `run`), and the team's file is only parsed, never run."""
    (tmp_path / "team.py").write_text(TEAM_CODE, encoding="utf-8")
    config = write_config('name = "t"\nconversations_per_matchup = 1\n' + bot_table("attacker", "a", "good_bot.py")
                          + f'[[defenders]]\nname = "d"\npython = "{spec}"\n')
    for command in (["bots", "check", str(config)], ["run", str(config), "--db", str(tmp_path / "arena.db"), "-q"]):
        one_line_refusal(arena(*command), message)
    assert not (tmp_path / "ran").exists() and not (tmp_path / "arena.db").exists()


def test_python_bot_that_exists_passes(tmp_path: Path, write_config) -> None:
    """The check accepts the class in a file and in a module next to the config (and then the bot runs)."""
    (tmp_path / "team.py").write_text(TEAM_CODE, encoding="utf-8")
    config = write_config('name = "t"\nconversations_per_matchup = 1\n' + bot_table("attacker", "a", "good_bot.py")
                          + '[[defenders]]\nname = "d"\npython = "team.py:Helper"\n'
                          + '[[defenders]]\nname = "e"\npython = "team:Helper"\n')
    result = arena("bots", "check", str(config))
    assert result.returncode == 0, result.stderr


# --- markdown ------------------------------------------------------------------------------


def test_feedback_and_report_write_names_inert(tmp_path: Path) -> None:
    """An imported bot name with an escape sequence, a bidi override and markdown syntax
    comes out of `feedback` (summary.md and the terminal) and `report` as visible text,
    and cannot break a table row."""
    hostile = f"{ESC}red|x{RLO}*"
    vulnerable = "```python\nimport os\nos.system(input())\n```"
    data = tmp_path / "in.jsonl"
    data.write_text((chat(attacker=hostile, reply=vulnerable) + "\n") * 2, encoding="utf-8")
    db = tmp_path / "x.db"
    assert arena("import", "--db", str(db), str(data), "--tournament", "t|*x*").returncode == 0
    assert arena("evaluate", "--db", str(db)).returncode == 0
    result = arena("feedback", "--db", str(db), "--team", hostile, "-o", str(tmp_path / "fb"))
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and RLO not in result.stdout
    summary = (tmp_path / "fb" / "summary.md").read_text(encoding="utf-8")
    assert "\x1b" not in summary and RLO not in summary
    assert "# Feedback for \\u001b\\[31mred\\|x\\u202e\\*" in summary
    row = next(line for line in summary.splitlines() if line.startswith("|") and "31mred" in line)
    assert row.startswith("| t\\|\\*x\\* | \\u001b\\[31mred\\|x\\u202e\\* | d |")
    assert row.replace("\\|", "").count("|") == 7  # six cells
    report = arena("report", "--db", str(db)).stdout
    assert "| t\\|\\*x\\* | practice | 2 |" in report


def test_markdown_text_round_trip() -> None:
    """Every escape is one CommonMark backslash escape or a visible \\uXXXX: removing the
    backslashes before punctuation gives the original printable text back."""
    import re

    from core.text import markdown_text

    name = "a|b*c_d[e]<f>`g`~h&i#j!k\\l"
    assert re.sub(r"\\(.)", r"\1", markdown_text(name)) == name
    assert markdown_text("x\u200by\n") == "x\\u200by\\u000a"
    assert markdown_text("\U000e0001") == "\\U000e0001"
