"""Reads its stdin but never answers, not even the handshake."""

import sys

for _line in sys.stdin:
    pass
