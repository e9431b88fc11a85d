"""The sandbox's plan for one bot, without running it: what it sees, what is masked, how
a death is explained. (The bots themselves, hostile ones included, run through the real
CLI in tests/cli/test_isolation.py.)"""

from __future__ import annotations

import dataclasses
import signal
from pathlib import Path

from core.tournament import isolation
from core.tournament.bots import exit_detail
from core.tournament.config import BotSpec, Limits

STATUS = isolation.Status(True, bwrap="/usr/bin/bwrap", inner="/usr/bin/setpriv", root=True)


def spec(tmp_path: Path, **changes: object) -> BotSpec:
    team = tmp_path / "team"
    team.mkdir(exist_ok=True)
    (team / "bot.py").write_text("pass\n")
    base = BotSpec(name="b", side="defender", kind="command", command=("python3", "team/bot.py"), workdir=tmp_path)
    return dataclasses.replace(base, **changes)


def binds(argv: list[str]) -> list[str]:
    return [argv[i + 2] for i, a in enumerate(argv) if a == "--ro-bind"]


def test_a_command_bot_sees_its_own_folder_and_not_the_config_folder(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    plan = isolation.sandbox_argv(spec(tmp_path), ["python3", "team/bot.py"], status_=STATUS)
    assert str((tmp_path / "team").resolve()) in binds(plan.argv)
    assert str(tmp_path.resolve()) not in binds(plan.argv)
    assert plan.own_user and plan.note == ""
    assert "--unshare-net" in plan.argv and "--unshare-pid" in plan.argv
    # The instance's own user, then the bot.
    tail = plan.argv[plan.argv.index("--") + 1:]
    assert tail[0] == "/usr/bin/setpriv" and tail[-2:] == ["python3", "team/bot.py"]


def test_the_store_inside_a_bot_folder_is_masked(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    bot = spec(tmp_path)
    store = tmp_path / "team" / "arena.db"
    store.write_bytes(b"x")
    (tmp_path / "team" / "arena.db-wal").write_bytes(b"x")
    (tmp_path / "team" / "arena.db.logs").mkdir()
    argv = isolation.sandbox_argv(bot, ["x"], hidden=isolation.hidden_for_store(store), status_=STATUS).argv
    masks = [argv[i + 2] for i, a in enumerate(argv) if a == "--ro-bind" and argv[i + 1] == "/dev/null"]
    assert masks == [str(store.resolve()), str(store.resolve()) + "-wal"]
    assert argv[argv.index(str(store.resolve()) + ".logs") - 1] == "--tmpfs"
    # A store elsewhere is simply not there: nothing to mask.
    other = tmp_path / "elsewhere.db"
    other.write_bytes(b"x")
    argv = isolation.sandbox_argv(bot, ["x"], hidden=isolation.hidden_for_store(other), status_=STATUS).argv
    assert str(other.resolve()) not in argv


def test_a_folder_closed_to_other_users_costs_the_process_limit_and_says_so(tmp_path: Path) -> None:
    bot = spec(tmp_path)
    (tmp_path / "team").chmod(0o700)
    plan = isolation.sandbox_argv(bot, ["x"], status_=STATUS)
    assert not plan.own_user and "/usr/bin/setpriv" not in plan.argv
    assert "the process limit is not enforced" in plan.note and "chmod o+rX" in plan.note


def test_an_allow_list_adds_the_relay_and_nothing_else(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    bot = spec(tmp_path, network=(("models.example", 8000),))
    plan = isolation.sandbox_argv(bot, ["x"], net_dir="/tmp/net", status_=STATUS)
    assert plan.argv[plan.argv.index(isolation.NET_DIR) - 1] == "/tmp/net"
    assert "8000=/run/arena-net/8000.sock" in plan.argv
    assert isolation.relays(bot, "/tmp/net") == [["/tmp/net/8000.sock", "models.example", 8000]]


def test_a_python_bot_by_module_sees_its_package(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    package = tmp_path / "teams" / "blue"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "bot.py").write_text("class Bot:\n    def respond(self, r):\n        return 'x'\n")
    bot = BotSpec(name="b", side="defender", kind="python", python="blue.bot:Bot", workdir=tmp_path,
                  env={"PYTHONPATH": "teams"})
    assert isolation.bot_folders(bot) == {package.resolve(), (tmp_path / "teams").resolve()}


def test_a_command_bot_by_file_and_class_sees_the_file_s_folder(tmp_path: Path) -> None:
    """``python -m arena_sdk team/bot.py:Bot`` (docs/sdk.md): the folder holding the file
    is the bot's, and an argument naming nothing adds no folder."""
    team = tmp_path / "team"
    team.mkdir()
    (team / "bot.py").write_text("")
    bot = BotSpec(name="b", side="defender", kind="command", workdir=tmp_path,
                  command=("python", "-m", "arena_sdk", "team/bot.py:Bot", "missing.txt", "gone:x"))
    assert isolation.bot_folders(bot) == {team.resolve()}


def test_a_death_by_a_limit_names_the_limit() -> None:
    bot = BotSpec(name="b", side="defender", kind="command", command=("x",), limits=Limits(file_mb=16, cpu_seconds=9))
    assert exit_detail(bot, 128 + signal.SIGXFSZ, True) == (
        "process killed by SIGXFSZ: a file reached the file size limit (16 MB)")
    assert exit_detail(bot, -signal.SIGXCPU, False) == "process killed by SIGXCPU: the CPU time limit (9 s) was reached"
    assert exit_detail(bot, 1, True) == "process exited with code 1"
    assert exit_detail(bot, 137, False) == "process exited with code 137"  # only bubblewrap reports 128 + signal
