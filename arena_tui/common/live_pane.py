"""A pane that follows the store: it recomputes when another connection commits.

Each pane owns a read-only connection used only by its poll worker. A timer starts a
short thread worker that asks SQLite for `PRAGMA data_version` (cheap); only when it
changed does the worker recompute, build the renderable and post `LivePane.Updated`.
So a label from another annotator's process shows up with no key press, and the UI
thread never waits for the store or the statistics.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading
from pathlib import Path

from rich.console import RenderableType
from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import Static

from core.store import Store, StoreError

# How often a pane asks the store whether anything changed: quick enough to feel live,
# and a data_version check is a few microseconds, so polling costs nothing noticeable.
POLL_SECONDS = 0.5
# Panes recompute one at a time: their statistics are transient allocations, and two at
# once would add their peaks (an annotator's TUI should stay small on a 100k store).
_COMPUTE_LOCK = threading.Lock()
# glibc's mallopt parameter for the size from which malloc maps memory of its own.
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 128 * 1024  # glibc's default, kept fixed


def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (Linux), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


_LIBC = _glibc()
if _LIBC is not None:
    # The panes' statistics allocate large numpy arrays for a moment. glibc raises its
    # mmap threshold after freeing such an array, so the next ones come from the heap and
    # stay counted in the process's memory after they are freed; a fixed threshold (its
    # default) gives every large array back when it is freed (~10 MB less on a 100,000
    # conversation store, benchmarks/bench_annotate.py).
    _LIBC.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)


def _release_freed_memory() -> None:
    """Give the memory a recompute freed back to the system (glibc keeps it otherwise)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


class LivePane(Static):
    """Base of the agreement and leaderboard panes: subclasses implement `compute`."""

    DEFAULT_CSS = """
    LivePane { height: 1fr; padding: 0 1; overflow-y: auto; }
    """

    class Updated(Message):
        """A pane's content was recomputed from the store."""

        def __init__(self, pane: LivePane, content: RenderableType) -> None:
            super().__init__()
            self.pane = pane
            self.content = content

        def can_replace(self, message: Message) -> bool:
            """A newer result for the same pane replaces one still queued."""
            return isinstance(message, LivePane.Updated) and message.pane is self.pane

        @property
        def control(self) -> LivePane:
            """The pane that was recomputed."""
            return self.pane

    def __init__(self, store_path: str | Path, tournament_ids: list[int] | None = None,
                 poll_seconds: float = POLL_SECONDS, **kwargs: object) -> None:
        super().__init__(Text("waiting for the store…", style="dim"), **kwargs)
        self.store_path = Path(store_path)
        self.poll_seconds = poll_seconds
        self.tournament_ids = list(tournament_ids or [])
        self.seen_version: int | None = None
        self.updates = 0
        self._lock = threading.Lock()
        self._store: Store | None = None
        self._dirty = True
        self._polling = False

    def on_mount(self) -> None:
        """Compute once now, then follow the store."""
        self.poll()
        self.set_interval(self.poll_seconds, self.poll)

    def on_unmount(self) -> None:
        """Close the pane's connection."""
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def set_tournaments(self, tournament_ids: list[int]) -> None:
        """Follow other tournaments; recomputes at once."""
        if list(tournament_ids) != self.tournament_ids:
            self.tournament_ids = list(tournament_ids)
            self._dirty = True
            self.poll()

    def poll(self) -> None:
        """Start a poll unless one is already running (a slow recompute is never doubled).

        A pane with no tournament to follow waits for `set_tournaments`."""
        if self.display and self.tournament_ids and not self._polling:
            self._polling = True
            self._poll(list(self.tournament_ids))

    @work(thread=True, group="live-pane", exit_on_error=False)
    def _poll(self, tournament_ids: list[int]) -> None:
        try:
            with self._lock:
                try:
                    if self._store is None:
                        self._store = Store.open_readonly(self.store_path)
                    version = self._store.data_version()
                    if version == self.seen_version and not self._dirty:
                        return
                    self.seen_version, self._dirty = version, False
                    with _COMPUTE_LOCK:
                        try:
                            content = self.compute(self._store, tournament_ids)
                        finally:
                            _release_freed_memory()
                except StoreError as exc:
                    content = Text(str(exc), style="red")
            self.post_message(self.Updated(self, content))
        finally:
            self._polling = False

    def compute(self, store: Store, tournament_ids: list[int]) -> RenderableType:
        """Read the store and build what the pane shows (runs in the worker thread)."""
        raise NotImplementedError

    def on_live_pane_updated(self, message: LivePane.Updated) -> None:
        """Show the new content."""
        if message.pane is self:
            message.stop()
            self.updates += 1
            self.update(message.content)
