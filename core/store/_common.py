"""Plumbing shared by the store modules: the error type, transactions, chunking."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any


class StoreError(Exception):
    """A store that cannot be used: not SQLite, another schema version, missing, locked."""


class _Transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        elif self.conn.in_transaction:
            # SQLite rolls back by itself on some errors (a damaged page, a full disk);
            # a second ROLLBACK would raise and hide the error that says what happened.
            self.conn.execute("ROLLBACK")


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
