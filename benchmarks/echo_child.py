"""A minimal echo child: the cheapest process that speaks the bot protocol.

It answers the hello, then answers every turn request with the same ~300-byte reply,
echoing the request's id. It never decodes a request: it finds the id by its place in
the line (``"id": "…"``, as `json.dumps` writes it) and writes pre-encoded bytes, reading
and writing in large chunks. It is both the bots of `bench_orchestrator.py`'s arena and
the far end of its raw limit, so the two differ only in what the parent does.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from instant_bot import reply_text  # noqa: E402

PAYLOAD = json.dumps(reply_text(1, 2)).encode()
ID_KEY = b'"id": "'


def main() -> None:
    pending = b""
    greeted = False
    while chunk := os.read(0, 1 << 20):
        *lines, pending = (pending + chunk).split(b"\n")
        out = []
        for line in lines:
            if not greeted:
                greeted = True
                out.append(b'{"type": "hello", "protocol": 1, "name": "echo", "concurrency": 64}\n')
                continue
            start = line.find(ID_KEY)
            if start < 0:  # bye (or anything that is not a turn): stop
                return
            start += len(ID_KEY)
            rid = line[start:line.index(b'"', start)]
            out.append(b'{"type": "reply", "id": "' + rid + b'", "content": ' + PAYLOAD + b"}\n")
        if out:
            data = b"".join(out)
            while data:
                data = data[os.write(1, data):]


if __name__ == "__main__":
    main()
