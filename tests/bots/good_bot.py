"""A well-behaved deterministic bot (either side), the control in the engine tests.

Attacker: asks numbered questions derived from the seed. Defender: answers from the
content of the last message. Replies depend only on (seed, turn, messages). With
GOOD_BOT_DELAY_MS set, each reply waits that long (to make runs interruptible).
"""

import json
import os
import sys
import time

DELAY = int(os.environ.get("GOOD_BOT_DELAY_MS", "0")) / 1000


def main() -> None:
    for line in sys.stdin:
        message = json.loads(line)
        kind = message.get("type")
        if kind == "hello":
            reply = {"type": "hello", "protocol": 1, "name": "good", "version": "1.0"}
        elif kind == "turn":
            if DELAY:
                time.sleep(DELAY)
            if message["side"] == "attacker":
                content = f"question {message['turn'] // 2} about topic {message['seed'] % 97}"
            else:
                last = message["messages"][-1]["content"]
                content = f"answer to '{last}' ({len(last)} chars)"
            reply = {"type": "reply", "id": message["id"], "content": content}
        elif kind == "bye":
            break
        else:
            continue
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
