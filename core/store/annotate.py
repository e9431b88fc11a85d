"""Store methods and tables of the annotate workbench (paged queues, per-store settings)."""

from __future__ import annotations

import sqlite3

ANNOTATE_SCHEMA = """
"""


class _AnnotateMixin:
    """Store methods of the annotate workbench (paged queues, per-store settings)."""

    conn: sqlite3.Connection
