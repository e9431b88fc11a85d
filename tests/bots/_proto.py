"""Shared plumbing of the fault bots: read requests, send replies, a normal answer."""

import json
import sys


def send(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def send_raw(data: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def answer(message: dict) -> str:
    """The same deterministic reply good_bot.py gives."""
    if message["side"] == "attacker":
        return f"question {message['turn'] // 2} about topic {message['seed'] % 97}"
    last = message["messages"][-1]["content"]
    return f"answer to '{last}' ({len(last)} chars)"


def serve(on_turn) -> None:
    """Handshake, then call on_turn(message, n) for the n-th turn request (1-based)."""
    n = 0
    for line in sys.stdin:
        message = json.loads(line)
        if message["type"] == "hello":
            send({"type": "hello", "protocol": 1, "name": "fault", "version": "0"})
        elif message["type"] == "turn":
            n += 1
            on_turn(message, n)
        else:
            break
