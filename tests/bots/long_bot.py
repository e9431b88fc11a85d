"""Replies with 300 KiB of text: a long but valid reply (the next request to the other side
is larger than a pipe buffer and the arena's write buffer together)."""

from _proto import send, serve


def on_turn(message: dict, n: int) -> None:
    send({"type": "reply", "id": message["id"], "content": "long " * (60 << 10)})


serve(on_turn)
