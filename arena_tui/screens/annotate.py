"""The annotate screen: the annotator's queue on the left, the open transcript on the right.

Keyboard first: one key per label, undo, next/previous/skip, a turn cursor to mark where
an attack landed, tags and a note, full-text search and a status filter. Every store
read and write runs in a thread worker that posts a message from `arena_tui.messages`;
the handlers here own the state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static
from textual.worker import Worker, WorkerState

from arena_tui.messages import (
    DISPUTED,
    DONE,
    TO_DO,
    LabelSaved,
    QueueItem,
    QueueLoaded,
    SearchFinished,
    StoreFailed,
    TranscriptLoaded,
)
from arena_tui.safe import inert
from arena_tui.screens.guidelines import GuidelinesScreen
from arena_tui.screens.help import HelpScreen
from arena_tui.screens.tags import TagsScreen
from arena_tui.widgets.queue import QueueTable
from arena_tui.widgets.transcript_view import TranscriptView
from core.evaluation import (
    EvaluationError,
    EvaluationSettings,
    adjudication_queue,
    current_labels,
    record_label,
    undo_label,
)
from core.store import LabelEvent, Store, StoreError

T = TypeVar("T")

# Label keys: one digit per label, so at most nine labels get a key.
MAX_LABEL_KEYS = 9
# Conversations a search may return; more than any queue an annotator works through.
SEARCH_LIMIT = 100_000
FILTERS = ("all", TO_DO, DONE)


def item_status(conversation_id: int, annotator: str, labels: dict[int, dict[str, LabelEvent]]) -> str:
    """to do (no label of mine), disputed (someone else labelled it differently) or done."""
    on_item = labels.get(conversation_id, {})
    mine = on_item.get(annotator)
    if mine is None:
        return TO_DO
    if any(e.label != mine.label for who, e in on_item.items() if who != annotator):
        return DISPUTED
    return DONE


class AnnotateScreen(Screen):
    """Step through one annotator's review queue and label it."""

    AUTO_FOCUS = "#queue"

    BINDINGS = [
        Binding("n", "step(1)", "next"),
        Binding("p", "step(-1)", "prev"),
        Binding("s", "skip", "skip"),
        Binding("u", "undo", "undo"),
        Binding("j", "turn(1)", "turn ↓", show=False),
        Binding("k", "turn(-1)", "turn ↑", show=False),
        Binding("m", "mark", "mark turn"),
        Binding("t", "tags", "tags/note"),
        Binding("f", "fold", "fold", show=False),
        Binding("slash", "search", "search"),
        Binding("v", "cycle_filter", "filter", show=False),
        Binding("escape", "clear_search", "clear search", show=False),
        Binding("g", "guidelines", "guidelines"),
        Binding("question_mark", "help", "help"),
    ]

    def __init__(self, store_path: str | Path, annotator: str) -> None:
        super().__init__()
        self.store_path = Path(store_path)
        self.annotator = annotator
        self._store: Store | None = None
        # One connection, used by one worker at a time.
        self._store_lock = threading.Lock()
        self.items: dict[int, QueueItem] = {}
        self.settings: dict[int, EvaluationSettings] = {}
        self.view_filter = "all"
        self.search_hits: set[int] | None = None
        self.current_id: int | None = None
        self.loaded_id: int | None = None
        self.my_label: str | None = None
        self.other_labels: list[tuple[str, str]] = []
        self.pending_tags: tuple[str, ...] = ()
        self.pending_note = ""
        self.saving = False
        self.bound_labels: tuple[str, ...] = ()

    # --- layout -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Queue and search on the left; item header and transcript on the right."""
        yield Header()
        with Horizontal():
            with Vertical(id="queue-pane"):
                yield Input(placeholder="search turns…", id="search")
                yield Static(id="queue-summary")
                yield QueueTable(id="queue")
            with Vertical(id="item-pane"):
                yield Static("loading the queue…", id="item-header")
                yield TranscriptView(id="transcript")
        yield Footer()

    def on_mount(self) -> None:
        """Read the queue."""
        self.title = "Adversarial Arena · annotate"
        self.sub_title = inert(self.annotator)
        self.load_queue()

    def on_unmount(self) -> None:
        """Close the store connection."""
        with self._store_lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    # --- store access (worker threads only) ---------------------------------------

    def _with_store(self, fn: Callable[[Store], T]) -> T:
        with self._store_lock:
            if self._store is None:
                self._store = Store.open(self.store_path, create=False)
            return fn(self._store)

    @work(thread=True, exclusive=True, group="queue", exit_on_error=False)
    def load_queue(self) -> None:
        """Read this annotator's assignments (and adjudication items) with their status."""
        annotator = self.annotator

        def read(store: Store) -> tuple[list[QueueItem], dict[int, EvaluationSettings]]:
            items: list[QueueItem] = []
            settings: dict[int, EvaluationSettings] = {}
            for tournament in store.tournaments():
                ev = EvaluationSettings.from_tournament(tournament)
                if annotator not in ev.annotators + ev.adjudicators:
                    continue
                settings[tournament.id] = ev
                mine = [cid for cid, who, _kind in store.assignments(tournament.id) if who == annotator]
                if annotator in ev.adjudicators:
                    seen = set(mine)
                    mine += [cid for cid in adjudication_queue(store, tournament.id) if cid not in seen]
                if not mine:
                    continue
                matchups = {c.id: f"{c.attacker} vs {c.defender}" for c in store.conversations(tournament.id)}
                labels = current_labels(store.label_events(tournament_id=tournament.id))
                items += [QueueItem(cid, tournament.id, matchups.get(cid, "?"), item_status(cid, annotator, labels))
                          for cid in mine]
            return items, settings

        items, settings = self._with_store(read)
        self.post_message(QueueLoaded(items, settings))

    @work(thread=True, exclusive=True, group="transcript", exit_on_error=False)
    def load_transcript(self, conversation_id: int) -> None:
        """Read one conversation's turns, findings and current labels."""

        def read(store: Store) -> TranscriptLoaded:
            labels = current_labels(store.label_events(conversation_id=conversation_id)).get(conversation_id, {})
            mine = labels.get(self.annotator)
            # No anchoring: other annotators' labels are only shown once this one has labelled.
            others = sorted((who, e.label or "") for who, e in labels.items() if who != self.annotator) if mine else []
            return TranscriptLoaded(conversation_id, store.turns(conversation_id), store.findings(conversation_id),
                                    mine.label if mine else None, others)

        self.post_message(self._with_store(read))

    @work(thread=True, group="labels", exit_on_error=False)
    def save_label(self, conversation_id: int, label: str, tags: tuple[str, ...], turn: int | None, note: str) -> None:
        """Append the label (one transaction) and report the item's new status."""

        def write(store: Store) -> str:
            record_label(store, conversation_id, self.annotator, label, tags=tags, turn=turn, note=note, source="tui")
            return self._status_of(store, conversation_id)

        try:
            status = self._with_store(write)
        except (EvaluationError, StoreError) as exc:
            self.post_message(StoreFailed(str(exc)))
            return
        self.post_message(LabelSaved(conversation_id, label, status, advance=True))

    @work(thread=True, group="labels", exit_on_error=False)
    def save_undo(self, conversation_id: int) -> None:
        """Undo this annotator's current label on the item."""

        def write(store: Store) -> tuple[str | None, str]:
            undo_label(store, conversation_id, self.annotator, source="tui")
            mine = current_labels(store.label_events(conversation_id=conversation_id)).get(conversation_id, {}).get(self.annotator)
            return (mine.label if mine else None), self._status_of(store, conversation_id)

        try:
            label, status = self._with_store(write)
        except (EvaluationError, StoreError) as exc:
            self.post_message(StoreFailed(str(exc)))
            return
        self.post_message(LabelSaved(conversation_id, label, status, advance=False))

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def run_search(self, query: str) -> None:
        """Full-text search over turns."""
        ids = self._with_store(lambda store: store.search_turns(query, limit=SEARCH_LIMIT))
        self.post_message(SearchFinished(query, ids))

    def _status_of(self, store: Store, conversation_id: int) -> str:
        labels = current_labels(store.label_events(conversation_id=conversation_id))
        return item_status(conversation_id, self.annotator, labels)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a failed worker becomes a visible, one-line error."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.notify(inert(f"{type(event.worker.error).__name__}: {event.worker.error}".splitlines()[0]),
                        title="store error", severity="error")

    # --- message handlers ---------------------------------------------------------

    def on_queue_loaded(self, message: QueueLoaded) -> None:
        """Show the queue and open the first item not yet labelled (resume)."""
        self.items = {item.conversation_id: item for item in message.items}
        self.settings = message.settings
        first = next((i.conversation_id for i in message.items if i.status == TO_DO), None)
        if first is None and message.items:
            first = message.items[0].conversation_id
        self.refresh_queue(select=first)
        if first is None:
            self.query_one("#item-header", Static).update(Text(f"Nothing assigned to {inert(self.annotator)}."))
            return
        self.open_item(first)

    def on_transcript_loaded(self, message: TranscriptLoaded) -> None:
        """Show the transcript if it is still the item the annotator wants."""
        if message.conversation_id != self.current_id:
            return
        self.loaded_id = message.conversation_id
        self.my_label = message.my_label
        self.other_labels = message.other_labels
        self.query_one(TranscriptView).show(message.turns, message.findings)
        self.update_header()

    def on_label_saved(self, message: LabelSaved) -> None:
        """Mark the item saved and, after a new label, open the next item to do."""
        self.saving = False
        cid = message.conversation_id
        item = self.items.get(cid)
        if item is not None:
            self.items[cid] = QueueItem(cid, item.tournament_id, item.matchup, message.status)
            self.query_one(QueueTable).set_status(cid, message.status)
        self.update_summary()
        if message.advance:
            self.pending_tags, self.pending_note = (), ""
            self.notify(f"saved: {inert(message.label or '')}", timeout=2)
            following = self.next_to_do(cid)
            if following is not None and following != cid:
                self.open_item(following)
                return
            self.notify("No items left to do.", timeout=3)
        else:
            self.notify("label undone" + (f" (now {inert(message.label)})" if message.label else ""), timeout=2)
        if cid == self.current_id:
            self.load_transcript(cid)

    def on_store_failed(self, message: StoreFailed) -> None:
        """A label was refused or the store failed: say so in one line."""
        self.saving = False
        self.notify(inert(message.error.splitlines()[0] if message.error else "store error"), severity="error")

    def on_search_finished(self, message: SearchFinished) -> None:
        """Filter the queue to the conversations that matched."""
        self.search_hits = message.conversation_ids
        self.refresh_queue(select=self.current_id)

    @on(Input.Submitted, "#search")
    def search_submitted(self, event: Input.Submitted) -> None:
        """Run the search, or clear it when the box is empty."""
        query = event.value.strip()
        if query:
            self.run_search(query)
        else:
            self.search_hits = None
            self.refresh_queue(select=self.current_id)
        self.query_one(QueueTable).focus()

    @on(DataTable.RowSelected, "#queue")
    def row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a queue row opens that item."""
        if event.row_key.value is not None:
            self.open_item(int(event.row_key.value))

    # --- state --------------------------------------------------------------------

    def visible_ids(self) -> list[int]:
        """Queue order after the status filter and the search."""
        return [cid for cid, item in self.items.items()
                if (self.view_filter == "all" or item.status == self.view_filter
                    or (self.view_filter == DONE and item.status == DISPUTED))
                and (self.search_hits is None or cid in self.search_hits)]

    def refresh_queue(self, select: int | None = None) -> None:
        """Redraw the queue table for the current filter and search."""
        self.query_one(QueueTable).show([self.items[cid] for cid in self.visible_ids()], select)
        self.update_summary()

    def update_summary(self) -> None:
        """The line above the queue: counts, filter, search."""
        todo = sum(1 for i in self.items.values() if i.status == TO_DO)
        line = Text(f"{len(self.items) - todo}/{len(self.items)} labelled · showing {self.view_filter}")
        if self.search_hits is not None:
            line.append(" · search on", style="italic")
        self.query_one("#queue-summary", Static).update(line)

    def next_to_do(self, after: int) -> int | None:
        """The next item still to do after `after` in the visible order, wrapping round."""
        order = self.visible_ids() or list(self.items)
        start = order.index(after) + 1 if after in order else 0
        for cid in order[start:] + order[:start]:
            if self.items[cid].status == TO_DO:
                return cid
        return None

    def open_item(self, conversation_id: int) -> None:
        """Open a conversation: header now, transcript when the worker has read it."""
        self.current_id = conversation_id
        self.my_label = None
        self.other_labels = []
        self.pending_tags, self.pending_note = (), ""
        self.bind_labels()
        self.update_header(loading=True)
        self.query_one(QueueTable).select(conversation_id)
        self.load_transcript(conversation_id)

    def current_settings(self) -> EvaluationSettings | None:
        """The evaluation settings of the open item's tournament."""
        item = self.items.get(self.current_id) if self.current_id is not None else None
        return self.settings.get(item.tournament_id) if item else None

    def bind_labels(self) -> None:
        """One digit key per label of the open item's tournament, shown in the footer."""
        settings = self.current_settings()
        labels = settings.labels[:MAX_LABEL_KEYS] if settings else ()
        if labels == self.bound_labels:
            return
        bindings = self._bindings.key_to_bindings
        for index in range(MAX_LABEL_KEYS):
            bindings.pop(str(index + 1), None)
        others = dict(bindings)
        bindings.clear()
        for index, label in enumerate(labels):
            self._bindings.bind(str(index + 1), f"label({index})", inert(label))
        # Label keys first, so the footer shows them even on a narrow terminal.
        bindings.update(others)
        self.bound_labels = labels
        self.refresh_bindings()

    def update_header(self, loading: bool = False) -> None:
        """The open item: id, matchup, status, my label, others' labels once I have labelled."""
        item = self.items.get(self.current_id) if self.current_id is not None else None
        if item is None:
            return
        header = Text()
        header.append(f"#{item.conversation_id}  ", style="bold")
        header.append(inert(item.matchup))
        header.append(f"  [{item.status}]", style="italic")
        if loading:
            header.append("  loading…", style="dim")
        elif self.saving:
            header.append("  saving…", style="dim")
        elif self.my_label is not None:
            header.append("  your label: ")
            header.append(inert(self.my_label), style="bold green")
            header.append(" ✓ saved", style="green")
            if self.other_labels:
                header.append("  others: " + ", ".join(f"{inert(w)}={inert(lab)}" for w, lab in self.other_labels),
                              style="magenta" if item.status == DISPUTED else "")
        view = self.query_one(TranscriptView) if self.is_mounted else None
        if view is not None and (self.pending_tags or self.pending_note or view.marked_turn is not None):
            pending = []
            if view.marked_turn is not None:
                pending.append(f"landed at turn {view.marked_turn + 1}")
            if self.pending_tags:
                pending.append("tags " + ", ".join(inert(t) for t in self.pending_tags))
            if self.pending_note:
                pending.append("note")
            header.append("\nwith the next label: " + "; ".join(pending), style="cyan")
        self.query_one("#item-header", Static).update(header)

    # --- actions ------------------------------------------------------------------

    def action_label(self, index: int) -> None:
        """Label the open item with the index-th label, written at once."""
        settings = self.current_settings()
        if settings is None or self.current_id is None or self.loaded_id != self.current_id or self.saving:
            return
        if not 0 <= index < len(settings.labels):
            return
        self.saving = True
        self.update_header()
        turn = self.query_one(TranscriptView).marked_turn
        self.save_label(self.current_id, settings.labels[index], self.pending_tags, turn, self.pending_note)

    def action_undo(self) -> None:
        """Undo my current label on the open item."""
        if self.current_id is not None and not self.saving:
            self.saving = True
            self.save_undo(self.current_id)

    def action_step(self, step: int) -> None:
        """Open the next (or previous) item in the visible queue."""
        order = self.visible_ids()
        if not order:
            return
        position = order.index(self.current_id) if self.current_id in order else -step
        target = order[max(0, min(len(order) - 1, position + step))]
        if target != self.current_id:
            self.open_item(target)

    def action_skip(self) -> None:
        """Leave the open item for later and open the next one to do."""
        if self.current_id is None:
            return
        following = self.next_to_do(self.current_id)
        if following is None or following == self.current_id:
            self.action_step(1)
        else:
            self.open_item(following)

    def action_turn(self, step: int) -> None:
        """Move the turn cursor."""
        self.query_one(TranscriptView).move_cursor(step)

    def action_mark(self) -> None:
        """Mark the cursor turn as where the attack landed (sent with the next label)."""
        self.query_one(TranscriptView).toggle_mark()
        self.update_header()

    def action_fold(self) -> None:
        """Fold or unfold long code blocks."""
        self.query_one(TranscriptView).toggle_fold()

    def action_search(self) -> None:
        """Focus the search box."""
        self.query_one("#search", Input).focus()

    def action_clear_search(self) -> None:
        """Drop the search filter and return to the queue."""
        search = self.query_one("#search", Input)
        search.value = ""
        if self.search_hits is not None:
            self.search_hits = None
            self.refresh_queue(select=self.current_id)
        self.query_one(QueueTable).focus()

    def action_cycle_filter(self) -> None:
        """Show all items, then only those to do, then only those done."""
        self.view_filter = FILTERS[(FILTERS.index(self.view_filter) + 1) % len(FILTERS)]
        self.refresh_queue(select=self.current_id)

    def action_tags(self) -> None:
        """Pick tags and write a note for the next label."""
        settings = self.current_settings()
        if settings is None:
            return

        def chosen(result: tuple[tuple[str, ...], str] | None) -> None:
            if result is not None:
                self.pending_tags, self.pending_note = result
                self.update_header()

        self.app.push_screen(TagsScreen(settings.tags, self.pending_tags, self.pending_note), chosen)

    def action_guidelines(self) -> None:
        """Show the tournament's labelling guidelines."""
        settings = self.current_settings() or next(iter(self.settings.values()), None)
        self.app.push_screen(GuidelinesScreen(settings.guidelines if settings else None))

    def action_help(self) -> None:
        """Show the keys."""
        self.app.push_screen(HelpScreen(self.bound_labels))
