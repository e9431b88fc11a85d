"""Hangs: never answers turn requests of conversations whose seed is divisible by 3
(it keeps reading), answers the others normally."""

from _proto import answer, send, serve


def on_turn(message: dict, n: int) -> None:
    if message["seed"] % 3 == 0:
        return
    send({"type": "reply", "id": message["id"], "content": answer(message)})


serve(on_turn)
