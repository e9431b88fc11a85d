"""Host process for `python` bots: ``python -m core.tournament.bothost path/to/file.py:ClassName``.

The host itself is `arena_sdk.host` (standard library only): the same code serves the
SDK's stand-alone ``command`` bots. This module keeps the arena's entry point and names.
"""

from __future__ import annotations

import sys

from arena_sdk.host import (  # noqa: F401  (re-exported: the arena's names for the host)
    PROTOCOL_VERSION,
    REQUEST_LINE_LIMIT,
    Host,
    TurnRequest,
    load_class,
    normalise,
)
from arena_sdk.host import main as _main


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m core.tournament.bothost SPEC``."""
    return _main(argv, prog="python -m core.tournament.bothost")


if __name__ == "__main__":
    sys.exit(main())
