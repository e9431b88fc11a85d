"""Store methods and tables of followers of a running tournament (the watch screen)."""

from __future__ import annotations

import sqlite3

FOLLOW_SCHEMA = """
"""


class _FollowMixin:
    """Store methods of followers of a running tournament (the watch screen)."""

    conn: sqlite3.Connection
