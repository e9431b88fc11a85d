"""Store methods and tables of annotation packs, label import/export, fine-tuning export, imports and reports."""

from __future__ import annotations

import sqlite3

PACKS_SCHEMA = """
"""


class _PacksMixin:
    """Store methods of annotation packs, label import/export, fine-tuning export, imports and reports."""

    conn: sqlite3.Connection
