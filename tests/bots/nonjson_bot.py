"""Prints a line that is not JSON on its second turn request; answers normally otherwise."""

from _proto import answer, send, send_raw, serve


def on_turn(message: dict, n: int) -> None:
    if n == 2:
        send_raw(b"Sure! Here is my answer, in plain text.\n")
        return
    send({"type": "reply", "id": message["id"], "content": answer(message)})


serve(on_turn)
