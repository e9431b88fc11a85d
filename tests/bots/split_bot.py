"""Answers as good_bot.py does, but writes its replies in awkward pieces: each reply cut
in three writes with a pause between, and every other one preceded, in the same write,
by a message for an unknown id (so the reader must join pieces of a line and split a
chunk into lines itself)."""

import json
import time

from _proto import answer, send_raw, serve


def on_turn(message: dict, n: int) -> None:
    data = json.dumps({"type": "reply", "id": message["id"], "content": answer(message)}).encode() + b"\n"
    if n % 2 == 0:
        data = json.dumps({"type": "reply", "id": f"stale-{n}", "content": "late"}).encode() + b"\n" + data
    third = max(1, len(data) // 3)
    for piece in (data[:third], data[third:2 * third], data[2 * third:]):
        send_raw(piece)
        time.sleep(0.002)


if __name__ == "__main__":
    serve(on_turn)
