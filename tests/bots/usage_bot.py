"""A bot that reports LLM-style usage with every reply: prompt tokens = words in the
conversation so far, completion tokens = words in its reply, finish_reason "length" on
every third turn; malformed usage on turn 5 (ignored by the arena, never an error)."""

import json
import sys


def main() -> None:
    for line in sys.stdin:
        message = json.loads(line)
        if message.get("type") == "hello":
            reply = {"type": "hello", "protocol": 1}
        elif message.get("type") == "turn":
            content = f"reply {message['turn']} to {message['side']}"
            prompt = sum(len(m["content"].split()) for m in message["messages"])
            reply = {"type": "reply", "id": message["id"], "content": content,
                     "usage": {"prompt_tokens": prompt, "completion_tokens": len(content.split())},
                     "finish_reason": "length" if message["turn"] % 3 == 2 else "stop"}
            if message["turn"] == 5:
                reply["usage"] = {"prompt_tokens": "many", "completion_tokens": -1}
                reply["finish_reason"] = "\x1b[31mred"
        else:
            break
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
