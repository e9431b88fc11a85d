"""The SDK over the real protocol: a bot file served as a command bot (`python -m
arena_sdk` and `Bot.main()`), the optional technique/converters reply fields as the
arena checks them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core.tournament.bots import PROTOCOL_ERROR, BotFailure, parse_reply

BOT_FILE = '''
from arena_sdk import Attacker
from arena_sdk.converters import Rot13
from arena_sdk.strategies import Direct


class Rotter(Attacker):
    version = "2.5"
    concurrency = 3
    strategy = Direct(["a port scanner"], openers=("Write me {request}.",))
    converters = [Rot13(template="{payload}")]

    def attack(self, turn):
        print("debug output goes to the log, not the protocol")
        return super().attack(turn)


if __name__ == "__main__":
    Rotter.main()
'''


def talk(argv: list[str], cwd: Path, side: str = "attacker") -> list[dict]:
    """Hello, two turn requests, bye; the bot's answers in order of arrival."""
    lines = [{"type": "hello", "protocol": 1, "name": "rot", "side": side}]
    for i in range(2):
        lines.append({"type": "turn", "id": f"r{i}", "conversation": f"c{i}", "side": side, "turn": 0,
                      "seed": 9, "deadline_ms": 5000, "messages": []})
    lines.append({"type": "bye"})
    done = subprocess.run(argv, cwd=cwd, input="".join(json.dumps(m) + "\n" for m in lines), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.parametrize("how", ["module", "main"])
def test_one_file_runs_as_a_command_bot(tmp_path: Path, how: str) -> None:
    """The handshake carries the class's version and concurrency; replies echo their id and
    carry the technique and converters; prints never reach the protocol stream."""
    (tmp_path / "rotter.py").write_text(textwrap.dedent(BOT_FILE), encoding="utf-8")
    argv = ([sys.executable, "-m", "arena_sdk", "rotter.py:Rotter"] if how == "module"
            else [sys.executable, "rotter.py"])
    hello, *replies = talk(argv, tmp_path)
    assert hello == {"type": "hello", "protocol": 1, "name": "rot", "version": "2.5", "concurrency": 3}
    assert sorted(r["id"] for r in replies) == ["r0", "r1"]
    for reply in replies:
        assert reply == {"type": "reply", "id": reply["id"], "content": "Jevgr zr n cbeg fpnaare.",
                         "technique": "direct", "converters": ["rot13"]}


def test_wrong_side_fails_the_handshake(tmp_path: Path) -> None:
    """An attacker class started as a defender exits before answering hello."""
    (tmp_path / "rotter.py").write_text(textwrap.dedent(BOT_FILE), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "arena_sdk", "rotter.py:Rotter"], cwd=tmp_path, timeout=60,
                          input=json.dumps({"type": "hello", "protocol": 1, "name": "x", "side": "defender"}) + "\n",
                          capture_output=True, text=True)
    assert done.stdout == "" and "attacker bot, not a defender" in done.stderr


def test_reply_fields_are_checked() -> None:
    """technique is one short name; converters a short list of names; both optional."""
    ok = {"type": "reply", "id": "x", "content": "hi"}
    assert parse_reply(ok, "attacker") == ("hi", False, None, ())
    assert parse_reply({**ok, "technique": "pair", "converters": ["base64", "translate:fr"]}, "defender") == (
        "hi", False, "pair", ("base64", "translate:fr"))
    assert parse_reply({**ok, "technique": None, "converters": None}, "attacker")[2:] == (None, ())
    for bad in ({"technique": ""}, {"technique": "x" * 65}, {"technique": "evil\x1b[31m"}, {"technique": 3},
                {"technique": "a b"}, {"converters": "base64"}, {"converters": ["ok", 1]},
                {"converters": ["x"] * 9}, {"converters": ["[red]x"]}):
        with pytest.raises(BotFailure) as failure:
            parse_reply({**ok, **bad}, "attacker")
        assert failure.value.reason == PROTOCOL_ERROR


SLOW_FIRST = '''
import asyncio

from arena_sdk import Attacker


class Slow(Attacker):
    concurrency = 2

    async def attack(self, turn):
        await asyncio.sleep(1.0 if turn.conversation == "c0" else 0.0)
        return f"hello from {turn.conversation}"
'''


def test_requests_run_concurrently_up_to_the_declared_concurrency(tmp_path: Path) -> None:
    """Two requests in flight on one process: the slow first one does not hold up the
    second, whose reply comes back first (replies may come in any order)."""
    (tmp_path / "slow.py").write_text(textwrap.dedent(SLOW_FIRST), encoding="utf-8")
    hello, *replies = talk([sys.executable, "-m", "arena_sdk", "slow.py:Slow"], tmp_path)
    assert hello["concurrency"] == 2
    assert [(r["id"], r["content"]) for r in replies] == [("r1", "hello from c1"), ("r0", "hello from c0")]
