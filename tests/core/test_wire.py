"""Turn requests encoded from a conversation's `History` are byte for byte what encoding
the whole request gives, and the history behaves as the plain list of messages."""

from __future__ import annotations

import json

from core.tournament.wire import History, encode_line

HOSTILE = ['plain', 'quote " and \\ backslash', "new\nline\ttab\r", "\x00\x1b[31mred\x1b[0m", "ünïcödé ✓ 𝄞 \u2028\u2029",
           "", "{\"type\": \"reply\"}", "\ufffd"]


def request(turn: int, messages: list) -> dict:
    return {"type": "turn", "id": f"00ff-t{turn}", "conversation": "00ff", "side": "attacker" if turn % 2 == 0 else "defender",
            "turn": turn, "seed": 2**62 + 7, "deadline_ms": 45000, "messages": messages}


def test_history_requests_equal_plain_encoding() -> None:
    """Every turn of a conversation, with hostile text: the same bytes as json.dumps of the
    request with plain lists and dicts, and one line each."""
    history, plain = History(), []
    for turn, content in enumerate(HOSTILE * 2):
        line = encode_line(request(turn, history))
        assert line == json.dumps(request(turn, plain), ensure_ascii=False).encode("utf-8") + b"\n"
        assert line.count(b"\n") == 1 and json.loads(line)["messages"] == plain
        role = "attacker" if turn % 2 == 0 else "defender"
        history = history.plus(role, content)
        plain = [*plain, {"role": role, "content": content}]
        assert history == plain and json.loads(history.json) == plain


def test_plus_leaves_the_earlier_history_alone() -> None:
    """A request already built keeps its messages when the conversation goes on."""
    first = History().plus("attacker", "hi")
    second = first.plus("defender", "hello")
    assert first == [{"role": "attacker", "content": "hi"}] and json.loads(first.json) == first
    assert len(second) == 2 and json.loads(second.json) == second


def test_other_messages_encode_as_json_dumps() -> None:
    """Hello, bye, a plain list of messages, or messages not last: json.dumps's bytes."""
    history = History().plus("attacker", "x")
    moved = {"messages": history, "type": "turn", "id": "a"}
    for message in ({"type": "hello", "protocol": 1, "name": "ü"}, {"type": "bye"}, request(1, [{"role": "attacker", "content": "x"}]),
                    moved, {"messages": history}):
        assert encode_line(message) == json.dumps(message, ensure_ascii=False).encode("utf-8") + b"\n"


def test_requests_with_other_values_encode_as_json_dumps() -> None:
    """A History-carrying request whose other values are not all strings and integers
    (booleans, floats, None, lists, non-string keys) still encodes as json.dumps would."""
    history = History().plus("attacker", "x").plus("defender", "ü\n\x00")
    for extra in ({"end": True}, {"latency": 0.25}, {"usage": None}, {"tags": ["a", 1]}, {7: "seven"},
                  {"n": 2**70}, {"big": -3}):
        message = {"type": "turn", "id": "a", **extra, "messages": history}
        plain = {**message, "messages": list(history)}
        assert encode_line(message) == json.dumps(plain, ensure_ascii=False).encode("utf-8") + b"\n"
    odd = History().plus("attacker", 5)  # type: ignore[arg-type]
    assert json.loads(odd.json) == [{"role": "attacker", "content": 5}]
