"""The files of one export: JSONL, and Parquet beside it, written together or not at all.

Every file goes through a temp file beside it; the temp files are renamed into place
only once every record is written, so an interrupted export leaves nothing (and never
a JSONL without its Parquet twin).

Parquet needs pyarrow, an optional extra (``pip install 'adversarial-arena[parquet]'``).
Its schema is declared here, one column per JSONL key, so the two files hold the same
data with the same names; a key added to the JSONL records needs one line here (a test
checks that every key of every format has a column). `MESSAGE_FIELDS` is the struct of
one chat message (``role``, ``content``): a per-turn field added to the messages (a
finish reason, say) is one more entry there.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

# Records buffered per Parquet row group: bounded memory, row groups of a useful size.
PARQUET_ROWS = 1000


class ExportError(ValueError):
    """A bad export request (unknown filter or format, a missing optional package, a
    folder that cannot take the export); the message is one line."""


# Column types by name, resolved to pyarrow types only when Parquet is written (pyarrow
# is optional: nothing here imports it at module load).
MESSAGE_FIELDS: tuple[tuple[str, str], ...] = (("role", "string"), ("content", "string"))
FINDING_FIELDS: tuple[tuple[str, str], ...] = (
    ("turn", "int32"), ("line", "int32"), ("test_id", "string"), ("cwe", "string"),
    ("severity", "string"), ("confidence", "string"),
)
CONVERSATION_FIELDS: tuple[tuple[str, str], ...] = (
    ("conversation_id", "int64"), ("tournament", "string"), ("kind", "string"), ("attacker", "string"),
    ("defender", "string"), ("status", "string"), ("verdict", "string"), ("reason", "string"),
    ("findings", "findings"), ("truncated_turns", "turns"),
)
PREFERENCE_FIELDS: tuple[tuple[str, str], ...] = (
    ("prompt", "messages"), ("chosen", "messages"), ("rejected", "messages"),
    ("conversation_id", "int64"), ("tournament", "string"), ("kind", "string"), ("attacker", "string"),
    ("defender", "string"), ("turn", "int32"), ("reason", "string"), ("chosen_source", "string"),
    ("chosen_conversation_id", "int64"), ("chosen_defender", "string"), ("chosen_annotator", "string"),
)
# The columns of each export format, in the order the JSONL records hold their keys.
FORMAT_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "chat-jsonl": (("messages", "messages"), *CONVERSATION_FIELDS),
    "jsonl": (("turns", "messages"), *CONVERSATION_FIELDS),
    "preference": PREFERENCE_FIELDS,
}

PARQUET_MISSING = "--parquet needs pyarrow, which is not installed: pip install 'adversarial-arena[parquet]'"


def require_pyarrow() -> None:
    """Raise ExportError (one line, naming the extra to install) unless pyarrow imports."""
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise ExportError(PARQUET_MISSING) from None


def parquet_schema(fmt: str):  # noqa: ANN201 - a pyarrow.Schema; pyarrow is optional
    """The Parquet schema of an export format (pyarrow must be installed)."""
    import pyarrow as pa

    def struct(fields: tuple[tuple[str, str], ...]):  # noqa: ANN202
        return pa.struct([(name, resolve(kind)) for name, kind in fields])

    def resolve(kind: str):  # noqa: ANN202
        if kind == "messages":
            return pa.list_(struct(MESSAGE_FIELDS))
        if kind == "findings":
            return pa.list_(struct(FINDING_FIELDS))
        if kind == "turns":  # turn numbers (from 1)
            return pa.list_(pa.int32())
        return {"string": pa.string(), "int32": pa.int32(), "int64": pa.int64()}[kind]

    return pa.schema([(name, resolve(kind)) for name, kind in FORMAT_FIELDS[fmt]])


def _temp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")


@contextmanager
def atomic_writer(path: Path) -> Iterator[IO[str]]:
    """Write `path` through a temp file beside it, renamed into place only on success."""
    if not path.parent.is_dir():
        raise ExportError(f"folder {path.parent} does not exist")
    tmp = _temp_beside(path)
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


class RecordSink:
    """Where `DatasetFiles` puts records: one JSON line each, and Parquet rows in groups."""

    def __init__(self, jsonl: IO[str], parquet: Any | None, fmt: str) -> None:
        self._jsonl = jsonl
        self._parquet = parquet
        self._fmt = fmt
        self._buffer: list[dict[str, Any]] = []

    def write(self, record: dict[str, Any]) -> None:
        """Write one record to every file of the export."""
        self._jsonl.write(json.dumps(record, ensure_ascii=False) + "\n")
        if self._parquet is not None:
            self._buffer.append(record)
            if len(self._buffer) >= PARQUET_ROWS:
                self.flush()

    def flush(self) -> None:
        """Write the buffered Parquet rows as one row group."""
        if self._parquet is None or not self._buffer:
            return
        import pyarrow as pa

        self._parquet.write_table(pa.Table.from_pylist(self._buffer, schema=self._parquet.schema))
        self._buffer.clear()


@contextmanager
def dataset_files(jsonl_path: Path, fmt: str, *, parquet: bool = False) -> Iterator[RecordSink]:
    """The files of one export: `jsonl_path`, and with `parquet` the same records in
    `jsonl_path` with the suffix ``.parquet``. All are renamed into place together once
    the block ends without an error; otherwise none is."""
    if parquet:
        require_pyarrow()
    if not jsonl_path.parent.is_dir():
        raise ExportError(f"folder {jsonl_path.parent} does not exist")
    parquet_path = jsonl_path.with_suffix(".parquet")
    temps = [_temp_beside(jsonl_path)] + ([_temp_beside(parquet_path)] if parquet else [])
    try:
        with ExitStack() as stack:
            jsonl = stack.enter_context(temps[0].open("w", encoding="utf-8"))
            writer = None
            if parquet:
                import pyarrow.parquet as pq

                writer = stack.enter_context(pq.ParquetWriter(str(temps[1]), parquet_schema(fmt)))
            sink = RecordSink(jsonl, writer, fmt)
            yield sink
            sink.flush()
            jsonl.flush()
            os.fsync(jsonl.fileno())
        temps[0].replace(jsonl_path)
        if parquet:
            temps[1].replace(parquet_path)
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
