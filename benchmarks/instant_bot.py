"""An instant bot for benchmarks: answers every turn at once with ~300 bytes.

Speaks the bot protocol directly (docs/bot-protocol.md), declares concurrency 64, never
ends a conversation early, and its reply depends only on (seed, turn), so runs are
reproducible.
"""

import json
import sys

WORDS = "the quick brown fox jumps over a lazy dog while an attacker asks for code".split()
PAYLOAD_BYTES = 300


def reply_text(seed: int, turn: int) -> str:
    words, i = [], seed + turn
    while sum(len(w) + 1 for w in words) < PAYLOAD_BYTES:
        words.append(WORDS[i % len(WORDS)])
        i = (i * 1103515245 + 12345) & 0x7FFFFFFF
    return " ".join(words)[:PAYLOAD_BYTES]


def main() -> None:
    out = sys.stdout
    for line in sys.stdin:
        message = json.loads(line)
        kind = message.get("type")
        if kind == "hello":
            out.write(json.dumps({"type": "hello", "protocol": 1, "name": "instant", "concurrency": 64}) + "\n")
        elif kind == "turn":
            content = reply_text(message["seed"], message["turn"])
            out.write(json.dumps({"type": "reply", "id": message["id"], "content": content}) + "\n")
        elif kind == "bye":
            break
        out.flush()


if __name__ == "__main__":
    main()
