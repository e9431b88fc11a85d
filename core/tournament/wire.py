"""Protocol lines to bot processes, encoded once per message rather than once per request.

Every turn request carries the whole conversation so far (docs/bot-protocol.md), so
encoding each request from scratch costs time proportional to the conversation: turn 9
re-encodes nine replies that turns 1 to 8 already encoded. A conversation's `History`
keeps the JSON text of its messages as they are added, and `encode_line` splices it into
the request: the bytes are exactly what ``json.dumps(request, ensure_ascii=False)`` gives
(tests/core/test_wire.py), at a fraction of the cost.
"""

from __future__ import annotations

import json
from typing import Any

_encode = json.JSONEncoder(ensure_ascii=False).encode
# A string as JSON, as the encoder above writes it (`json.encoder.encode_basestring`,
# the C function where there is one): messages made of strings and integers are
# spelled out here without going through the encoder, which builds itself anew on
# every call.
_string = json.encoder.encode_basestring


class History(list[dict[str, str]]):
    """The messages of one conversation (a list of ``{"role", "content"}`` dicts, usable
    wherever a list is) with their JSON text kept alongside. Grow it with `plus`, which
    returns a new History and leaves this one as it was (requests already sent keep
    theirs); changing one in place is not supported."""

    __slots__ = ("json",)

    def __init__(self) -> None:
        super().__init__()
        self.json = "[]"

    def plus(self, role: str, content: str) -> History:
        """This history with one more message."""
        message = {"role": role, "content": content}
        grown = History()
        grown.extend(self)
        grown.append(message)
        if type(role) is str and type(content) is str:
            encoded = f'{{"role": {_string(role)}, "content": {_string(content)}}}'
        else:
            encoded = _encode(message)
        grown.json = f"[{encoded}]" if not self else f"{self.json[:-1]}, {encoded}]"
        return grown


def encode_line(message: dict[str, Any]) -> bytes:
    """One protocol line: the message as JSON (UTF-8, non-ASCII as is) and a newline.

    A turn request whose ``messages`` is its last key and a `History` reuses the
    history's JSON text instead of encoding every message again."""
    history = message.get("messages")
    if type(history) is History and next(reversed(message)) == "messages":
        # A request of string keys, and string and integer values: spelled out here.
        fields = []
        for key, value in message.items():
            kind = type(value)
            if type(key) is not str:
                break
            if kind is str:
                fields.append(f"{_string(key)}: {_string(value)}")
            elif kind is int:
                fields.append(f"{_string(key)}: {value!r}")
            elif value is history:
                fields.append(f"{_string(key)}: {history.json}")
            else:
                break
        else:
            return f"{{{', '.join(fields)}}}\n".encode()
        head = _encode({key: value for key, value in message.items() if key != "messages"})
        text = f'{head[:-1]}, "messages": {history.json}}}' if len(message) > 1 else f'{{"messages": {history.json}}}'
        return text.encode("utf-8") + b"\n"
    return _encode(message).encode("utf-8") + b"\n"
