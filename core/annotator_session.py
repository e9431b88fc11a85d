"""One annotator's session on a store: the store side of `arena-tui annotate` (no UI here).

`AnnotatorSession` holds the connections an interactive labelling client needs and the
locks that let its worker threads share them: one connection for reads and label writes
(used by one thread at a time), a read-only one for polling (a poll never waits behind a
label write), and a verdict scheduler that folds the recomputes asked for while one runs
into one more pass, on a connection of its own. Every method may be called from any
thread; each returns plain records (`QueueSnapshot`, `ItemSnapshot`, `LabelChange`) the
client turns into what it shows.

It lives beside `core.follow` (the reading side of `arena-tui watch`) rather than in a
pipeline stage because it spans two: labels and verdicts (`core.evaluation.pipeline`)
and the label log's JSONL (`core.data.packs`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from core.data.packs import write_labels
from core.data.preference import record_safe_reply
from core.evaluation.judges import judge_hint
from core.evaluation.pipeline import (
    adjudication_queue,
    current_labels,
    record_label,
    refresh_verdicts,
    undo_label,
)
from core.evaluation.settings import EvaluationSettings
from core.store import ConversationRow, FindingRow, Store, TurnRow
from core.store.annotate import QUEUE_TO_DO, AnnotatorMatchup, QueueFilter

T = TypeVar("T")


@dataclass(frozen=True)
class QueueSnapshot:
    """The annotator's queue under a filter: ids and status bytes only (never rows).

    `settings`: the evaluation settings of every tournament with the annotator on its
    roster; `matchups`: the annotator's matchups; `total` and `labelled` count the whole queue, whatever the filter.
    """

    settings: dict[int, EvaluationSettings]
    matchups: Sequence[AnnotatorMatchup]
    conversation_ids: Sequence[int]
    statuses: bytearray
    total: int
    labelled: int


@dataclass(frozen=True)
class ItemSnapshot:
    """One conversation as the annotator opens it. `other_labels` ((annotator, label)) is
    empty until this annotator has labelled the item: no anchoring on others' labels."""

    conversation: ConversationRow
    turns: Sequence[TurnRow]
    findings: Sequence[FindingRow]
    my_label: str | None
    other_labels: Sequence[tuple[str, str]]
    status: int
    kind: str  # the annotator's assignment: review, audit (a static success) or adjudicate
    # The judges' labels, as hints: like `other_labels`, empty until this annotator has
    # labelled the item (no anchoring), and never a human label.
    judge_hints: Sequence[str] = ()


@dataclass(frozen=True)
class LabelChange:
    """A label (or its undo) is durable: the annotator's current `label` on the item now
    (None: none), its queue `status`, and its tournament (-1 if the item has gone)."""

    conversation_id: int
    tournament_id: int
    label: str | None
    status: int


def labels_path(store_path: Path, annotator: str) -> Path:
    """Where "Export my labels" writes: ``STORE.ANNOTATOR.labels.jsonl`` beside the store
    (the name reduced to characters safe in a file name)."""
    safe_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", annotator) or "annotator"
    return store_path.with_name(f"{store_path.stem}.{safe_name}.labels.jsonl")


class AnnotatorSession:
    """`annotator`'s connections to the store at `store_path`, opened on first use.

    The store was checked when the client started (`Store.open` with its integrity
    check), so the session opens it without a second check. `close` closes them all.
    """

    def __init__(self, store_path: str | Path, annotator: str) -> None:
        self.store_path = Path(store_path)
        self.annotator = annotator
        self._store: Store | None = None
        self._store_lock = threading.Lock()
        self._poll_store: Store | None = None
        self._poll_lock = threading.Lock()
        self._seen_version: int | None = None
        # Tournaments whose verdicts need recomputing, and whether a recompute runs.
        self._verdict_lock = threading.Lock()
        self._verdicts_pending: set[int] = set()
        self._verdicts_running = False

    def close(self) -> None:
        """Close the connections (waiting for a read or write in progress)."""
        for lock, attribute in ((self._store_lock, "_store"), (self._poll_lock, "_poll_store")):
            with lock:
                store = getattr(self, attribute)
                if store is not None:
                    store.close()
                    setattr(self, attribute, None)

    def _with_store(self, fn: Callable[[Store], T]) -> T:
        with self._store_lock:
            if self._store is None:
                self._store = Store.open(self.store_path, create=False, check=False)
            return fn(self._store)

    # --- reads ------------------------------------------------------------------------

    def _roster(self, store: Store) -> tuple[dict[int, EvaluationSettings], list[int]]:
        """The settings of the annotator's tournaments and the items they adjudicate."""
        settings: dict[int, EvaluationSettings] = {}
        adjudicate: list[int] = []
        for tournament in store.tournaments():
            ev = tournament.settings.evaluation
            if self.annotator not in ev.annotators + ev.adjudicators:
                continue
            settings[tournament.id] = ev
            if self.annotator in ev.adjudicators:
                adjudicate += adjudication_queue(store, tournament.id)
        return settings, adjudicate

    def _read_queue(self, store: Store, queue_filter: QueueFilter) -> QueueSnapshot:
        settings, extra = self._roster(store)
        ids, statuses = store.annotator_queue_ids(self.annotator, queue_filter, extra)
        if queue_filter == QueueFilter():
            total, labelled = len(ids), len(ids) - statuses.count(QUEUE_TO_DO)
        else:
            _, everything = store.annotator_queue_ids(self.annotator, QueueFilter(), extra)
            total, labelled = len(everything), len(everything) - everything.count(QUEUE_TO_DO)
        return QueueSnapshot(settings, store.annotator_matchups(self.annotator), ids, statuses, total, labelled)

    def queue(self, queue_filter: QueueFilter) -> QueueSnapshot:
        """The annotator's queue under `queue_filter`."""
        return self._with_store(lambda store: self._read_queue(store, queue_filter))

    def poll(self, queue_filter: QueueFilter) -> QueueSnapshot | None:
        """The queue again if any connection committed since the last poll, else None
        (on the session's read-only connection)."""
        with self._poll_lock:
            if self._poll_store is None:
                self._poll_store = Store.open_readonly(self.store_path)
            version = self._poll_store.data_version()
            if version == self._seen_version:
                return None
            self._seen_version = version
            return self._read_queue(self._poll_store, queue_filter)

    def item(self, conversation_id: int) -> ItemSnapshot | None:
        """One conversation's turns, findings and current labels; None if it is not in the store."""

        def read(store: Store) -> ItemSnapshot | None:
            conversation = store.conversation(conversation_id)
            if conversation is None:
                return None
            labels = current_labels(store.label_events(conversation_id=conversation_id)).get(conversation_id, {})
            mine = labels.get(self.annotator)
            others = sorted((who, e.label or "") for who, e in labels.items() if who != self.annotator) if mine else []
            row = store.queue_rows([conversation_id], self.annotator).get(conversation_id)
            hints = [judge_hint(r) for r in store.judge_labels_of(conversation_id) if r.label] if mine else []
            return ItemSnapshot(conversation, store.turns(conversation_id), store.findings(conversation_id),
                                mine.label if mine else None, others,
                                store.queue_status(conversation_id, self.annotator), row.kind if row else "review",
                                hints)

        return self._with_store(read)

    def queue_status(self, conversation_id: int) -> int | None:
        """The item's status in the annotator's whole queue; None if it is not in it."""

        def read(store: Store) -> int | None:
            _, extra = self._roster(store)
            ids, statuses = store.annotator_queue_ids(self.annotator, QueueFilter(), extra)
            index = next((i for i, cid in enumerate(ids) if cid == conversation_id), None)
            return None if index is None else statuses[index]

        return self._with_store(read)

    # --- writes -----------------------------------------------------------------------

    def label(self, conversation_id: int, label: str, tags: Sequence[str] = (), turn: int | None = None,
              note: str = "") -> LabelChange:
        """Append the annotator's label (`turn`: the stored 0-based index); returns once it
        has committed. Raises `EvaluationError` or `StoreError` with a one-line message."""

        def write(store: Store) -> LabelChange:
            record_label(store, conversation_id, self.annotator, label, tags=tags, turn=turn, note=note, source="tui")
            return self._change(store, conversation_id)

        return self._with_store(write)

    def undo(self, conversation_id: int) -> LabelChange:
        """Undo the annotator's current label on the item (a new event)."""

        def write(store: Store) -> LabelChange:
            undo_label(store, conversation_id, self.annotator, source="tui")
            return self._change(store, conversation_id)

        return self._with_store(write)

    def safe_reply(self, conversation_id: int, turn_index: int, text: str) -> int:
        """Append a safe reply the annotator wrote in place of the defender reply at
        `turn_index` (0-based); returns its id once committed. Raises `SafeReplyError`
        or `StoreError` with a one-line message."""
        return self._with_store(lambda store: record_safe_reply(store, conversation_id, self.annotator, turn_index, text))

    def _change(self, store: Store, conversation_id: int) -> LabelChange:
        current = store.current_label(conversation_id, self.annotator)
        conversation = store.conversation(conversation_id)
        return LabelChange(conversation_id, conversation.tournament_id if conversation else -1,
                           current.label if current else None, store.queue_status(conversation_id, self.annotator))

    def export_labels(self) -> tuple[Path, int]:
        """Write the annotator's current labels beside the store (`labels_path`) in the
        label log's JSONL, the file `arena-tui labels import` reads; returns the path and
        the number of lines."""
        path = labels_path(self.store_path, self.annotator)
        return path, self._with_store(lambda store: write_labels(store, path, current_of=self.annotator))

    # --- verdicts ---------------------------------------------------------------------

    def request_verdicts(self, tournament_id: int) -> bool:
        """Ask for a tournament's verdicts to be recomputed (so the leaderboard sees a new
        label). True: no recompute runs, the caller must start `refresh_verdicts` in a
        worker thread; False: the running one takes this request in its next pass."""
        with self._verdict_lock:
            self._verdicts_pending.add(tournament_id)
            if self._verdicts_running:
                return False
            self._verdicts_running = True
            return True

    def refresh_verdicts(self) -> None:
        """Recompute the requested verdicts until no request is left, on a connection of
        its own (the session's main connection keeps the store open, so this one is a helper)."""
        store = Store.open(self.store_path, create=False, helper=True)
        try:
            while True:
                with self._verdict_lock:
                    if not self._verdicts_pending:
                        self._verdicts_running = False
                        return
                    pending, self._verdicts_pending = self._verdicts_pending, set()
                for tournament_id in sorted(pending):
                    refresh_verdicts(store, tournament_id)
        except BaseException:
            with self._verdict_lock:
                self._verdicts_running = False
            raise
        finally:
            store.close()
