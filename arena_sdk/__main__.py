"""``python -m arena_sdk path/to/file.py:ClassName``: serve a bot class as a ``command`` bot."""

import sys

from arena_sdk.serve import serve_spec

if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m arena_sdk path/to/file.py:ClassName", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(serve_spec(sys.argv[1]))
