"""The annotate screen: the annotator's queue on the left, the open transcript on the right,
live agreement and leaderboard panes under it.

Keyboard first: one key per label, undo, next/previous/skip, a turn cursor to mark where
an attack landed, tags and a note, full-text search, queue filters and jump-to-id. Every
store read and write runs in a thread worker that calls the screen's
`core.annotator_session.AnnotatorSession` (the connections, their locks and the verdict
scheduler) and posts a message from `arena_tui.annotate.messages`; the handlers here own
the state.

The queue stays cheap at any size: the screen holds the filtered queue's conversation ids
and status bytes (in `QueueView`), never rows. A timer polls the store's data_version
in a worker, so labels written by other annotators' processes update the statuses
without a key press.
"""

from __future__ import annotations

import re
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static
from textual.worker import Worker, WorkerState

from arena_tui.annotate.messages import (
    JumpChecked,
    LabelSaved,
    LabelsExported,
    QueueLoaded,
    SafeReplySaved,
    StoreFailed,
    TranscriptLoaded,
)
from arena_tui.annotate.palette import AnnotateCommands
from arena_tui.annotate.screens.guidelines import GuidelinesScreen
from arena_tui.annotate.screens.tags import TagsScreen
from arena_tui.annotate.widgets.agreement_pane import AgreementPane
from arena_tui.annotate.widgets.queue import QueueView, status_word
from arena_tui.annotate.widgets.transcript_view import TranscriptView
from arena_tui.common.help import ANNOTATE_KEYS, HelpScreen
from arena_tui.common.leaderboard_pane import LeaderboardPane
from arena_tui.common.live_pane import POLL_SECONDS
from arena_tui.common.pane import Pane, go_to_pane, toggle_zoom
from arena_tui.common.safe import inert
from core.annotator_session import AnnotatorSession
from core.evaluation.pipeline import EvaluationError
from core.evaluation.settings import EvaluationSettings
from core.store import StoreError
from core.store.annotate import QUEUE_DISPUTED, QUEUE_DONE, QUEUE_TO_DO, QueueFilter
from core.turns import turn_number

# Label keys: one digit per label, so at most nine labels get a key.
MAX_LABEL_KEYS = 9
# The status filters `v` cycles through.
STATUS_FILTERS: tuple[int | None, ...] = (None, QUEUE_TO_DO, QUEUE_DONE, QUEUE_DISPUTED)
JUMP = re.compile(r"^#?\s*(\d+)$")
# Terminal sizes where the layout changes (annotate.tcss): under 100 columns the queue
# narrows; under 40 rows the live panes start hidden, so the transcript keeps the height.
WIDTH_BREAKPOINTS = [(0, "-small"), (100, "-medium")]
HEIGHT_BREAKPOINTS = [(0, "-short"), (40, "-tall")]
# Footer: the keys that move between panes share one entry.
PANES = Binding.Group("panes")


def describe_filter(queue_filter: QueueFilter, matchups: dict[int, str], tournaments: dict[int, str]) -> str:
    """`to do · t1 · a vs d · "query"`: the filter in words."""
    parts = ["all" if queue_filter.status is None else status_word(queue_filter.status)]
    if queue_filter.tournament_id is not None:
        parts.append(tournaments.get(queue_filter.tournament_id, f"tournament {queue_filter.tournament_id}"))
    if queue_filter.matchup_id is not None:
        parts.append(matchups.get(queue_filter.matchup_id, f"matchup {queue_filter.matchup_id}"))
    if queue_filter.search:
        parts.append(f"“{queue_filter.search}”")
    return " · ".join(inert(p) for p in parts)


class AnnotateScreen(Screen):
    """Step through one annotator's review queue and label it."""

    AUTO_FOCUS = "#queue"
    COMMANDS = {AnnotateCommands}
    HORIZONTAL_BREAKPOINTS = WIDTH_BREAKPOINTS
    VERTICAL_BREAKPOINTS = HEIGHT_BREAKPOINTS

    # In footer order, after the label keys (see `bind_labels`): a narrow footer shows the first.
    # `q` types a q in the search box and the note: Textual gives printable keys to a
    # focused input before screen bindings.
    BINDINGS = [
        Binding("q", "app.quit", "quit"),
        Binding("n", "step(1)", "next"),
        Binding("p", "step(-1)", "prev"),
        Binding("s", "skip", "skip"),
        Binding("u", "undo", "undo"),
        Binding("j", "turn(1)", "turn ↓", show=False),
        Binding("k", "turn(-1)", "turn ↑", show=False),
        Binding("m", "mark", "mark turn"),
        Binding("t", "tags", "tags/note"),
        Binding("w", "safe_reply", "safe reply", show=False),
        Binding("f", "fold", "fold", show=False),
        Binding("slash", "search", "search"),
        Binding("v", "cycle_filter", "filter", show=False),
        Binding("a", "toggle_panes", "panes", show=False),
        Binding("escape", "clear_search", "clear search", show=False),
        Binding("g", "guidelines", "guidelines"),
        Binding("c", "pane('queue')", "queue", group=PANES),
        Binding("x", "pane('transcript')", "transcript", group=PANES),
        Binding("l", "pane('live')", "agreement/leaderboard", group=PANES),
        Binding("z", "zoom", "zoom"),
        Binding("R", "report", "report", show=False),
        Binding("question_mark", "help", "keys"),
    ]

    def __init__(self, store_path: str | Path, annotator: str) -> None:
        super().__init__()
        self.store_path = Path(store_path)
        # Items labelled in this session, newest last: `u` takes back the last one.
        self.labelled_this_session: list[int] = []
        self.annotator = annotator
        self.session = AnnotatorSession(self.store_path, annotator)
        self._polling = False
        self.settings: dict[int, EvaluationSettings] = {}
        self.matchups: dict[int, str] = {}
        self.tournament_names: dict[int, str] = {}
        self.queue_filter = QueueFilter()
        self.total = self.labelled = 0
        self.queue_ready = False
        self.current_id: int | None = None
        self.current_tournament: int | None = None
        self.current_matchup = ""
        self.current_status = QUEUE_TO_DO
        self.current_kind = "review"
        self.loaded_id: int | None = None
        self.my_label: str | None = None
        self.other_labels: list[tuple[str, str]] = []
        self.judge_hints: list[str] = []
        self.pending_tags: tuple[str, ...] = ()
        self.pending_note = ""
        self.saving = False
        self.bound_labels: tuple[str, ...] = ()

    # --- layout -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Queue and search on the left; item header, transcript and live panes on the right."""
        yield Header()
        with Horizontal():
            with Pane(id="queue-pane"):
                yield Input(placeholder="search turns, or #id to jump…", id="search")
                yield Static(id="queue-summary")
                yield QueueView(self.store_path, self.annotator, id="queue")
            with Vertical(id="item-pane"):
                yield Static("loading the queue…", id="item-header")
                yield TranscriptView(id="transcript")
                with Pane(id="live-panes"):
                    yield AgreementPane(self.store_path, annotator=self.annotator, id="agreement")
                    yield LeaderboardPane(self.store_path, id="leaderboard")
        yield Footer()

    def on_mount(self) -> None:
        """Read the queue, then follow the store."""
        self.title = "Adversarial Arena · annotate"
        self.sub_title = inert(self.annotator)
        self.load_queue(self.queue_filter, select=None)
        self.set_interval(POLL_SECONDS, self.poll)

    def on_unmount(self) -> None:
        """Close the store connections."""
        self.session.close()

    @property
    def queue(self) -> QueueView:
        """The queue widget."""
        return self.query_one(QueueView)

    # --- store access (worker threads only; the session holds connections and locks) ---

    @work(thread=True, exclusive=True, group="queue", exit_on_error=False)
    def load_queue(self, queue_filter: QueueFilter, select: int | None) -> None:
        """Read the annotator's queue under a filter (ids and statuses only)."""
        self.post_message(QueueLoaded(queue_filter, self.session.queue(queue_filter), select))

    def poll(self) -> None:
        """Ask the store whether another connection committed (at most one poll at a time)."""
        if self.queue_ready and not self._polling:
            self._polling = True
            self._poll(self.queue_filter)

    @work(thread=True, group="poll", exit_on_error=False)
    def _poll(self, queue_filter: QueueFilter) -> None:
        try:
            snapshot = self.session.poll(queue_filter)
            if snapshot is not None:
                self.post_message(QueueLoaded(queue_filter, snapshot, select=None, refresh=True))
        finally:
            self._polling = False

    @work(thread=True, exclusive=True, group="transcript", exit_on_error=False)
    def load_transcript(self, conversation_id: int) -> None:
        """Read one conversation's turns, findings and current labels."""
        item = self.session.item(conversation_id)
        if item is None:
            self.post_message(StoreFailed(f"conversation {conversation_id} is not in the store"))
        else:
            self.post_message(TranscriptLoaded(item))

    @work(thread=True, group="labels", exit_on_error=False)
    def save_label(self, conversation_id: int, label: str, tags: tuple[str, ...], turn: int | None, note: str) -> None:
        """Append the label: `LabelSaved` is posted only once the transaction has committed."""
        try:
            change = self.session.label(conversation_id, label, tags, turn, note)
        except (EvaluationError, StoreError) as exc:
            self.post_message(StoreFailed(str(exc)))
            return
        self.post_message(LabelSaved(change, advance=True))

    @work(thread=True, group="labels", exit_on_error=False)
    def save_undo(self, conversation_id: int) -> None:
        """Undo this annotator's current label on the item."""
        try:
            change = self.session.undo(conversation_id)
        except (EvaluationError, StoreError) as exc:
            self.post_message(StoreFailed(str(exc)))
            return
        self.post_message(LabelSaved(change, advance=False))

    @work(thread=True, group="labels", exit_on_error=False)
    def save_safe_reply(self, conversation_id: int, turn_index: int, text: str) -> None:
        """Append a safe reply: `SafeReplySaved` is posted once it has committed."""
        from core.data.preference import SafeReplyError

        try:
            self.session.safe_reply(conversation_id, turn_index, text)
        except (SafeReplyError, StoreError) as exc:
            self.post_message(StoreFailed(str(exc)))
            return
        self.post_message(SafeReplySaved(conversation_id, turn_index))

    def request_verdicts(self, tournament_id: int) -> None:
        """Recompute a tournament's verdicts soon (in a worker), so the leaderboard sees the label.

        Requests made while a recompute runs are folded into one more pass.
        """
        if self.session.request_verdicts(tournament_id):
            self._refresh_verdicts()

    @work(thread=True, group="verdicts", exit_on_error=False)
    def _refresh_verdicts(self) -> None:
        self.session.refresh_verdicts()

    @work(thread=True, group="jump", exit_on_error=False)
    def check_jump(self, conversation_id: int) -> None:
        """Is the conversation in the annotator's queue (whatever the filter)?"""
        self.post_message(JumpChecked(conversation_id, self.session.queue_status(conversation_id)))

    @work(thread=True, group="export", exit_on_error=False)
    def export_labels(self) -> None:
        """Write this annotator's current labels beside the store, in the labels JSONL."""
        path, count = self.session.export_labels()
        self.post_message(LabelsExported(str(path), count))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a failed worker becomes a visible, one-line error."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.saving = False
            self.notify(inert(f"{type(event.worker.error).__name__}: {event.worker.error}".splitlines()[0]),
                        title="store error", severity="error", markup=False)

    # --- message handlers ---------------------------------------------------------

    def on_queue_loaded(self, message: QueueLoaded) -> None:
        """Show the queue; on first load open the first item not yet labelled (resume)."""
        if message.queue_filter != self.queue_filter:
            return  # a stale read under a filter the annotator has left
        snapshot = message.snapshot
        self.settings = snapshot.settings
        self.tournament_names = {m.tournament_id: m.tournament for m in snapshot.matchups}
        self.matchups = {m.id: f"{m.tournament} · {m.attacker} vs {m.defender}" if len(self.tournament_names) > 1
                         else f"{m.attacker} vs {m.defender}" for m in snapshot.matchups}
        self.total, self.labelled = snapshot.total, snapshot.labelled
        queue = self.queue
        first_load = not self.queue_ready
        self.queue_ready = True
        if message.refresh and queue.conversation_ids == snapshot.conversation_ids:
            queue.replace_statuses(snapshot.statuses)
        else:
            queue.set_queue(snapshot.conversation_ids, snapshot.statuses, message.select or self.current_id)
            queue.forget_rows()
        self.update_summary()
        if message.refresh:
            if self.current_id is not None and self.loaded_id == self.current_id and not self.saving:
                status = queue.status_of(self.current_id)
                if status is not None and status != self.current_status:
                    self.load_transcript(self.current_id)  # someone else labelled the open item
            return
        if not first_load and message.select is None:
            return
        target = message.select
        if target is None:
            ids, statuses = snapshot.conversation_ids, snapshot.statuses
            position = statuses.find(QUEUE_TO_DO)
            target = ids[position] if position >= 0 else (ids[0] if ids else None)
        if target is None:
            self.query_one("#item-header", Static).update(
                Text(f"Nothing assigned to {inert(self.annotator)}." if not self.total else "Nothing in this view."))
            return
        self.open_item(target)

    def on_transcript_loaded(self, message: TranscriptLoaded) -> None:
        """Show the transcript if it is still the item the annotator wants."""
        if message.conversation_id != self.current_id:
            return
        item = message.item
        conversation = item.conversation
        self.loaded_id = message.conversation_id
        self.current_tournament = conversation.tournament_id
        self.current_matchup = f"{conversation.attacker} vs {conversation.defender}"
        self.current_status = item.status
        self.current_kind = item.kind
        self.queue.set_status(conversation.id, item.status)
        self.my_label = item.my_label
        self.other_labels = item.other_labels
        self.judge_hints = list(item.judge_hints)
        self.bind_labels()
        # The panes start once the first transcript is up: the queue is usable first.
        for pane in (self.query_one(AgreementPane), self.query_one(LeaderboardPane)):
            pane.set_tournaments(sorted(self.settings))
        view = self.query_one(TranscriptView)
        if view.turns and view.turns[0].conversation_id == conversation.id:
            marked = view.marked_turn
            view.show(item.turns, item.findings)
            view.marked_turn = marked  # a refresh keeps the mark the annotator set
        else:
            view.show(item.turns, item.findings)
        self.update_header()

    def on_label_saved(self, message: LabelSaved) -> None:
        """Mark the item saved and, after a new label, open the next item to do."""
        self.saving = False
        change = message.change
        cid = change.conversation_id
        previous = self.queue.status_of(cid)
        if previous is not None and (previous == QUEUE_TO_DO) != (change.status == QUEUE_TO_DO):
            self.labelled += 1 if change.status != QUEUE_TO_DO else -1
        self.queue.set_status(cid, change.status)
        if cid == self.current_id:
            self.current_status = change.status
            self.my_label = change.label
        self.update_summary()
        if change.tournament_id >= 0:
            self.request_verdicts(change.tournament_id)
        if message.advance:
            self.labelled_this_session.append(cid)
            self.pending_tags, self.pending_note = (), ""
            self.notify(f"saved: {inert(change.label or '')}", timeout=2, markup=False)
            following = self.next_to_do(cid)
            if following is not None and following != cid:
                self.open_item(following)
                return
            self.notify("No items left to do in this view.", timeout=3)
            self.update_header()
        else:
            if self.labelled_this_session and self.labelled_this_session[-1] == cid:
                self.labelled_this_session.pop()
            self.notify("label undone" + (f" (now {inert(change.label)})" if change.label else ""), timeout=2, markup=False)
            self.load_transcript(cid)

    def on_safe_reply_saved(self, message: SafeReplySaved) -> None:
        """One-line notice: the reply is in the store."""
        self.notify(f"safe reply saved for turn {turn_number(message.turn_index)} of conversation "
                    f"{message.conversation_id}", timeout=3, markup=False)

    def on_store_failed(self, message: StoreFailed) -> None:
        """Show a store error in one line."""
        self.saving = False
        self.update_header()
        self.notify(inert(message.error), title="not saved", severity="error", markup=False)

    def on_jump_checked(self, message: JumpChecked) -> None:
        """Open the asked-for conversation, widening the filter if it hides it."""
        if message.status is None:
            self.notify(f"conversation {message.conversation_id} is not in your queue", severity="warning")
            return
        if self.queue.index_of(message.conversation_id) is not None:
            self.open_item(message.conversation_id)
            return
        self.apply_filter(QueueFilter(), select=message.conversation_id)

    def on_labels_exported(self, message: LabelsExported) -> None:
        """One-line notice with the path of the export."""
        self.notify(inert(f"{message.count} labels written to {message.path}"), title="exported", timeout=8,
                    markup=False)

    @on(QueueView.Opened)
    def queue_opened(self, message: QueueView.Opened) -> None:
        """Enter or a click on a queue line opens that conversation."""
        if message.conversation_id != self.current_id:
            self.open_item(message.conversation_id)

    @on(Input.Submitted, "#search")
    def search_submitted(self, message: Input.Submitted) -> None:
        """Run the search (or jump to `#id`), then go back to the queue."""
        query = message.value.strip()
        self.queue.focus()
        jump = JUMP.match(query)
        if jump:
            message.input.value = ""
            self.jump_to(int(jump.group(1)))
            return
        self.apply_filter(QueueFilter(self.queue_filter.status, self.queue_filter.tournament_id,
                                      self.queue_filter.matchup_id, query or None))

    # --- state helpers ------------------------------------------------------------

    def apply_filter(self, queue_filter: QueueFilter, select: int | None = None) -> None:
        """Show the part of the queue `queue_filter` keeps (read in a worker)."""
        self.queue_filter = queue_filter
        self.query_one("#search", Input).value = queue_filter.search or ""
        self.update_summary(loading=True)
        self.load_queue(queue_filter, select=select)

    def jump_to(self, conversation_id: int) -> None:
        """Open a conversation by id if it is in the annotator's queue."""
        if self.queue.index_of(conversation_id) is not None:
            self.open_item(conversation_id)
        else:
            self.check_jump(conversation_id)

    def visible_ids(self) -> list[int]:
        """The conversations the queue shows, in order (for tests and the palette)."""
        return list(self.queue.conversation_ids)

    def update_summary(self, loading: bool = False) -> None:
        """The line above the queue: counts and the filter."""
        line = Text(f"{self.labelled:,}/{self.total:,} labelled · ")
        line.append(describe_filter(self.queue_filter, self.matchups, self.tournament_names), style="bold")
        line.append(f" ({len(self.queue.conversation_ids):,})" if not loading else " …", style="dim")
        self.query_one("#queue-summary", Static).update(line)

    def next_to_do(self, after: int) -> int | None:
        """The next item still to do after `after` in the shown queue, wrapping round."""
        queue = self.queue
        ids, statuses = queue.conversation_ids, queue.statuses
        index = queue.index_of(after)
        start = 0 if index is None else index + 1
        position = statuses.find(QUEUE_TO_DO, start)
        if position < 0:
            position = statuses.find(QUEUE_TO_DO, 0, start)
        return ids[position] if position >= 0 else None

    def open_item(self, conversation_id: int) -> None:
        """Open a conversation: header now, transcript when the worker has read it."""
        self.current_id = conversation_id
        self.my_label = None
        self.other_labels = []
        self.pending_tags, self.pending_note = (), ""
        self.update_header(loading=True)
        self.queue.select(conversation_id)
        self.load_transcript(conversation_id)

    def current_settings(self) -> EvaluationSettings | None:
        """The evaluation settings of the open item's tournament."""
        if self.current_tournament is not None and self.current_tournament in self.settings:
            return self.settings[self.current_tournament]
        return next(iter(self.settings.values()), None)

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
        if self.current_id is None:
            return
        header = Text()
        header.append(f"#{self.current_id}  ", style="bold")
        if self.loaded_id == self.current_id:
            header.append(inert(self.current_matchup))
            header.append(f"  [{status_word(self.current_status)}]", style="italic")
            if self.current_kind == "audit":
                # A static success sampled to measure the analyser's precision (see the guidelines).
                header.append("  [audit]", style="bold yellow")
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
                              style="magenta" if self.current_status == QUEUE_DISPUTED else "")
            for hint in self.judge_hints:
                # A machine's label, shown only once the annotator has labelled (no anchoring).
                header.append("\njudge " + inert(hint), style="dim")
        view = self.query_one(TranscriptView) if self.is_mounted else None
        if view is not None and (self.pending_tags or self.pending_note or view.marked_turn is not None):
            pending = []
            if view.marked_turn is not None:
                pending.append(f"landed at turn {turn_number(view.marked_turn)}")
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
        """Undo my last label: on the open item if it has one of mine, else the item I
        labelled last in this session (which is opened again)."""
        if self.saving:
            return
        target = self.current_id
        if self.my_label is None and self.labelled_this_session:
            target = self.labelled_this_session[-1]
        if target is None:
            return
        self.saving = True
        if target != self.current_id:
            self.open_item(target)
        self.save_undo(target)

    def action_step(self, step: int) -> None:
        """Open the next (or previous) item in the shown queue."""
        queue = self.queue
        if not queue.conversation_ids:
            return
        index = queue.index_of(self.current_id) if self.current_id is not None else None
        position = queue.cursor if index is None else index
        target_index = max(0, min(len(queue.conversation_ids) - 1, position + (step if index is not None else 0)))
        target = queue.conversation_ids[target_index]
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
        """Drop the search and return to the queue."""
        self.query_one("#search", Input).value = ""
        if self.queue_filter.search is not None:
            self.apply_filter(QueueFilter(self.queue_filter.status, self.queue_filter.tournament_id,
                                          self.queue_filter.matchup_id, None), select=self.current_id)
        self.queue.focus()

    def action_cycle_filter(self) -> None:
        """Show all items, then only those to do, done, disputed (search and scope kept)."""
        status = STATUS_FILTERS[(STATUS_FILTERS.index(self.queue_filter.status) + 1) % len(STATUS_FILTERS)]
        self.apply_filter(QueueFilter(status, self.queue_filter.tournament_id, self.queue_filter.matchup_id,
                                      self.queue_filter.search), select=self.current_id)

    def action_toggle_panes(self) -> None:
        """Show or hide the live agreement and leaderboard panes (a class, so the layout's
        default for the terminal size applies until the annotator chooses)."""
        panes = self.query_one("#live-panes")
        shown = not panes.display
        panes.set_class(shown, "-shown")
        panes.set_class(not shown, "-hidden")
        if shown:
            for pane in (self.query_one(AgreementPane), self.query_one(LeaderboardPane)):
                pane.poll()

    def action_pane(self, name: str) -> None:
        """Go to a pane: the queue, the transcript (focused), or the live panes (zoomed:
        they take no focus, and short terminals hide them)."""
        if name == "queue":
            go_to_pane(self, self.query_one("#queue-pane"), self.queue)
        elif name == "transcript":
            go_to_pane(self, self.query_one(TranscriptView), self.query_one(TranscriptView))
        else:
            go_to_pane(self, self.query_one("#live-panes"))
            for pane in (self.query_one(AgreementPane), self.query_one(LeaderboardPane)):
                pane.poll()

    def action_zoom(self) -> None:
        """Zoom the pane with the focus (the transcript when nothing has it), or restore the layout."""
        toggle_zoom(self, self.query_one(TranscriptView))

    def action_export(self) -> None:
        """Write my current labels as JSONL next to the store."""
        self.export_labels()

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

    def action_safe_reply(self) -> None:
        """Write a safe reply in place of the defender reply under the turn cursor."""
        view = self.query_one(TranscriptView)
        conversation_id, turn = self.current_id, view.cursor_turn
        if conversation_id is None or turn is None or self.loaded_id != conversation_id:
            return
        if next((t.role for t in view.turns if t.turn_index == turn), None) != "defender":
            self.notify("move the turn cursor (j/k) to a defender reply first", severity="warning", timeout=3)
            return

        def written(text: str | None) -> None:
            if text is not None:
                self.save_safe_reply(conversation_id, turn, text)

        from arena_tui.annotate.screens.safe_reply import SafeReplyScreen

        self.app.push_screen(SafeReplyScreen(turn_number(turn)), written)

    def action_guidelines(self) -> None:
        """Show the tournament's labelling guidelines."""
        settings = self.current_settings()
        self.app.push_screen(GuidelinesScreen(settings.guidelines if settings else None))

    def action_report(self) -> None:
        """Show the dataset report of this store (counts, agreement, diversity, audit)."""
        from arena_tui.annotate.screens.report import ReportScreen

        self.app.push_screen(ReportScreen(self.store_path))

    def action_help(self) -> None:
        """Show the keys."""
        labels = [(str(index + 1), f"label this item {label} (saved at once, then the next item opens)")
                  for index, label in enumerate(self.bound_labels)]
        self.app.push_screen(HelpScreen([*labels, *ANNOTATE_KEYS]))
