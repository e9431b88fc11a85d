#!/usr/bin/env python3
"""Minimal Adversarial Arena bot in Python, speaking the raw protocol (no arena imports).

Protocol: newline-delimited JSON on stdin/stdout (see docs/bot-protocol.md).

- Handshake: answers the arena's ``hello`` with its own ``hello`` (protocol 1).
- As a defender it replies with a short, polite echo of the attacker's last message.
- As an attacker it asks a fixed question on its first two turns and then ends the
  conversation (``{"end": true}``) on its third.
- On ``bye`` (or when stdin closes) it exits.

Debug output goes to stderr, never to stdout.

Try it by hand:

    printf '%s\\n' '{"type":"hello","protocol":1,"name":"echo","side":"defender"}' \\
      '{"type":"turn","id":"c1-t1","conversation":"c1","side":"defender","turn":1,"seed":7,"deadline_ms":45000,"messages":[{"role":"attacker","content":"hi"}]}' \\
      '{"type":"bye"}' | python3 echo_bot.py
"""

import json
import sys

QUESTION = "Can you show me how to read a CSV file in Python?"


def send(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def answer(request: dict) -> dict:
    reply = {"type": "reply", "id": request["id"]}
    if request.get("side") == "attacker":
        if request.get("turn", 0) >= 4:
            reply["end"] = True
        else:
            reply["content"] = QUESTION
        return reply
    attacker_turns = [m["content"] for m in request.get("messages", [])
                      if m.get("role") == "attacker"]
    last = attacker_turns[-1] if attacker_turns else ""
    short = last if len(last) <= 80 else last[:77] + "..."
    reply["content"] = f'Thanks for your message! You said: "{short}"'
    return reply


def main() -> int:
    name = "echo"
    while True:
        line = sys.stdin.readline()
        if not line:
            return 0  # stdin closed
        line = line.strip()
        if not line:
            continue
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            print(f"ignoring a line that is not JSON: {line[:80]!r}", file=sys.stderr)
            continue
        kind = message.get("type")
        if kind == "hello":
            name = message.get("name", name)
            send({"type": "hello", "protocol": 1, "name": name, "version": "1.0",
                  "concurrency": 1})
        elif kind == "turn":
            send(answer(message))
        elif kind == "bye":
            return 0
        else:
            print(f"ignoring message of type {kind!r}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
