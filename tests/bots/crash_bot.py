"""Crashes mid-conversation: every process exits with code 1 on the third turn request it
receives (a restarted process counts afresh); answers the other requests normally."""

import os

from _proto import answer, send, serve


def on_turn(message: dict, n: int) -> None:
    if n == 3:
        os._exit(1)
    send({"type": "reply", "id": message["id"], "content": answer(message)})


serve(on_turn)
