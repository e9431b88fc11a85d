"""Replies with one 10 MB line to its first turn request, normally afterwards."""

import json

from _proto import answer, send, send_raw, serve


def on_turn(message: dict, n: int) -> None:
    if n == 1:
        send_raw(json.dumps({"type": "reply", "id": message["id"], "content": "A" * (10 << 20)}).encode() + b"\n")
        return
    send({"type": "reply", "id": message["id"], "content": answer(message)})


serve(on_turn)
