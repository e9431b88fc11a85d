"""Tournament config validation: good configs load, bad ones name the key and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from arena_tui.cli import main
from core.tournament.config import ConfigError, load_config
from sample_data import SAMPLE_CONFIG
from tests.conftest import bot_table

GOOD = """
name = "t"
conversations_per_matchup = 3
seed = 5
""" + bot_table("attacker", "a", "good_bot.py") + bot_table("defender", "d", "good_bot.py")


def test_sample_config_loads() -> None:
    """The bundled sample config is valid and has 5 attackers and 5 defenders."""
    config = load_config(SAMPLE_CONFIG)
    assert len(config.attackers) == 5 and len(config.defenders) == 5
    assert config.max_pairs == 5 and config.kind in ("practice", "official")


def test_defaults(write_config) -> None:
    """Unset keys take their documented defaults."""
    config = load_config(write_config(GOOD))
    assert (config.max_pairs, config.timeout, config.concurrency, config.kind) == (5, 45.0, 8, "practice")
    assert config.attackers[0].kind == "command"
    assert config.evaluation.labels == ("attack", "defense")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (GOOD + "colour = 1\n", "colour: unknown key"),
        (GOOD.replace("conversations_per_matchup = 3", 'conversations_per_matchup = "3"'),
         "conversations_per_matchup: must be an integer, not a string"),
        (GOOD.replace("conversations_per_matchup = 3", "conversations_per_matchup = 0"),
         "conversations_per_matchup: must be at least 1, got 0"),
        (GOOD.replace('name = "t"', 'name = "t"\nkind = "friendly"'), "kind: must be one of practice, official; got 'friendly'"),
        (GOOD.replace('name = "d"', 'name = "a"'), "defenders[0].name: duplicate bot name 'a'"),
        (GOOD.replace("good_bot.py", "missing_bot.py", 1), "attackers[0].command: file not found"),
        (GOOD + '[[defenders]]\nname = "x"\npython = "nowhere.py:Bot"\n', "defenders[1].python: file not found: nowhere.py"),
        (GOOD + '[[defenders]]\nname = "x"\npython = "no-colon"\n', "defenders[1].python: must look like"),
        (GOOD + '[[defenders]]\nname = "x"\n', "defenders[1]: needs exactly one of command, python, http (has none)"),
        (GOOD + '[[defenders]]\nname = "x"\npython = "a.b:C"\nhttp = { url = "http://h", model = "m" }\n',
         "defenders[1]: needs exactly one of command, python, http (has python and http)"),
        (GOOD + '[[defenders]]\nname = "x"\nhttp = { url = "ftp://h", model = "m" }\n', "defenders[1].http.url: must start with http://"),
        (GOOD + '[[defenders]]\nname = "x"\ncommand = "no-such-program-xyz"\n', "program not found on PATH: no-such-program-xyz"),
        (GOOD + '[limits]\nmemory_mb = -1\n', "limits.memory_mb: must be at least 0, got -1"),
        (GOOD + '[evaluation]\nlabels = ["attack"]\n', "evaluation.labels: must list at least two distinct labels"),
        (GOOD + '[evaluation]\nlabels = ["attack", "def\\u001b[31mense"]\n',
         "evaluation.labels[1]: must be valid text without control characters; got 'def\\x1b[31mense'"),
        (GOOD + '[evaluation]\nannotators = ["alice", "bo\\nb"]\n',
         "evaluation.annotators[1]: must be valid text without control characters"),
        (GOOD + '[evaluation]\ntags = [" "]\n', "evaluation.tags[0]: must be a non-empty string"),
        (GOOD + '[evaluation]\nseverity = "extreme"\n', "evaluation.severity: must be one of low, medium, high"),
        ('name = "t"\nconversations_per_matchup = 1\n', "attackers: is required"),
        (GOOD.replace('name = "t"', 'name = "t"\nisolation = "maybe"'), "isolation: must be one of auto, required, off; got 'maybe'"),
        (GOOD.replace('name = "d"', 'name = "d"\nnetwork = ["8000"]'), "defenders[0].network[0]: must be host:port"),
        (GOOD.replace('name = "d"', 'name = "d"\nnetwork = ["h:0"]'), "defenders[0].network[0]: must be host:port"),
        (GOOD.replace('name = "d"', 'name = "d"\nnetwork = ["a:80", "b:80"]'), "defenders[0].network[1]: port 80 is already allowed"),
        (GOOD + '[[defenders]]\nname = "x"\nhttp = { url = "http://h", model = "m" }\nnetwork = ["h:80"]\n',
         "defenders[1].network: applies to command and python bots"),
        (GOOD.replace('name = "d"', 'name = "d"\nfolder = "no-such-folder"'), "defenders[0].folder: folder not found: no-such-folder"),
        (GOOD + '[limits]\nprocesses = -1\n', "limits.processes: must be at least 0, got -1"),
        ("name = \n", "config: invalid TOML"),
    ],
)
def test_bad_config_is_refused_with_key_and_problem(write_config, tmp_path: Path, body: str, message: str) -> None:
    """`arena-tui run` refuses the config: one line naming the key, exit 2, no store written."""
    path = write_config(body)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value)
    db = tmp_path / "arena.db"
    result = CliRunner().invoke(main, ["run", str(path), "--db", str(db)])
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert not db.exists()


def test_missing_config_file(tmp_path: Path) -> None:
    """A config path that does not exist is one clear line."""
    result = CliRunner().invoke(main, ["run", str(tmp_path / "nope.toml"), "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 2
    assert "file not found" in result.output
    assert not (tmp_path / "a.db").exists()


def test_env_and_limits_per_bot(write_config) -> None:
    """A bot's env table and limit overrides are kept; env values must be strings."""
    body = GOOD.replace('name = "d"', 'name = "d"\nmemory_mb = 0\nenv = { A = "1" }')
    bot = load_config(write_config(body)).defenders[0]
    assert bot.limits.memory_mb == 0 and bot.env == {"A": "1"}
    with pytest.raises(ConfigError, match=r"defenders\[0\]\.env\.A: must be a string"):
        load_config(write_config(GOOD.replace('name = "d"', 'name = "d"\nenv = { A = 1 }')))


def test_isolation_keys(write_config) -> None:
    """isolation (the tournament's, a bot's own), network and folder are kept."""
    body = GOOD.replace('name = "t"', 'name = "t"\nisolation = "required"').replace(
        'name = "d"', 'name = "d"\nisolation = "off"\nnetwork = ["127.0.0.1:8000", "[::1]:8001"]\nfolder = "."\nprocesses = 32')
    config = load_config(write_config(body))
    attacker, defender = config.attackers[0], config.defenders[0]
    assert (config.isolation, attacker.isolation, defender.isolation) == ("required", "required", "off")
    assert defender.network == (("127.0.0.1", 8000), ("::1", 8001))
    assert defender.folder == config.source.resolve().parent and attacker.folder is None
    assert (defender.limits.processes, attacker.limits.processes) == (32, 256)
