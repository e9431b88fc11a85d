"""Answers normally, but its third turn request gets a reply holding a lone surrogate
("\\ud800", a valid JSON escape that is not a character)."""

from _proto import answer, send, send_raw, serve


def on_turn(message: dict, n: int) -> None:
    if n == 3:
        send_raw(b'{"type": "reply", "id": "' + message["id"].encode() + b'", "content": "lone \\ud800 surrogate"}\n')
        return
    send({"type": "reply", "id": message["id"], "content": answer(message)})


serve(on_turn)
