"""Writes a reply line containing invalid UTF-8 bytes on its first turn request."""

from _proto import answer, send, send_raw, serve


def on_turn(message: dict, n: int) -> None:
    if n == 1:
        send_raw(b'{"type": "reply", "id": "' + message["id"].encode() + b'", "content": "bad \xff\xfe bytes"}\n')
        return
    send({"type": "reply", "id": message["id"], "content": answer(message)})


serve(on_turn)
