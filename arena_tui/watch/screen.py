"""The watch screen: a tournament live — grid, standings, conversations, transcript, bot health, status.

Following another process's store, the store is the only source: a thread worker
(`TournamentFollower`: ``PRAGMA data_version`` and rows past the last rowid, read-only)
posts `StoreChanged`; the handlers fold deltas into a `WatchModel`. A runner that went
silent while the store still says "running" (killed with kill -9) is reported, without
writing anything.

Running here, the run itself is an async worker on the app's loop with a `TuiReporter`:
counts, progress and bot health come from the reporter's queued events (drained on the
redraw timer); the follower reads only the history before the run, the tournament row
and the conversation on screen. The static stage runs incrementally, each pass in a
child process (`core.evaluation.static_pass`, started by a thread worker); after each pass it
refreshes the stored verdicts, so the grid shows a live ASR and the leaderboard real
standings. Panes are redrawn at most `REFRESH_HZ` times a second, and less often while
the run is busy, so watching costs the tournament little (`benchmarks/bench_watch.py`).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, get_current_worker

from arena_tui.common.help import WATCH_KEYS, HelpScreen
from arena_tui.common.pane import Pane, go_to_pane, toggle_zoom
from arena_tui.common.safe import inert
from arena_tui.watch.messages import (
    PartialReply,
    RunEnded,
    RunStarted,
    StaticPassed,
    StoreChanged,
    TurnStored,
)
from arena_tui.watch.model import WatchModel
from arena_tui.watch.reporter import TuiReporter
from arena_tui.watch.widgets.asr_board import AsrBoard
from arena_tui.watch.widgets.bot_health import BotHealthTable
from arena_tui.watch.widgets.conversation_list import ConversationList
from arena_tui.watch.widgets.grid import MatchupGrid
from arena_tui.watch.widgets.live_transcript import LiveTranscript
from arena_tui.watch.widgets.run_status import RunStatus, clock_text
from arena_tui.watch.widgets.watch_leaderboard import WatchLeaderboard
from core.evaluation.static_pass import StaticPassError, run_pass_in_child
from core.follow import TournamentFollower
from core.store import FindingRow, Store, StoreError, TurnRow
from core.tournament.config import TournamentConfig
from core.tournament.orchestrator import RunControl, RunError, run_tournament
from core.tournament.reporter import RunSummary

# How often the follower looks at the store: turns show up within half a second, and
# a poll that finds nothing new is one PRAGMA; polling more often costs a fast run
# measurably (the follower shares the GIL with the orchestrator; see bench_watch).
POLL_INTERVAL_S = 0.5
# Panes are redrawn at most this often, however fast the tournament runs.
REFRESH_HZ = 4
# A redraw costs the app's loop (where a run here plays) tens of milliseconds, so while a
# run here reports more than `BUSY_EVENTS` events between redraws (it is busy), panes are
# redrawn only every `BUSY_REFRESH_S` (the status line still every second): numbers
# moving that fast are not read at 4 Hz anyway.
BUSY_EVENTS = 200
BUSY_REFRESH_S = 2.0
# Following the newest activity, a conversation stays on screen at least this long, so a
# fast run does not swap the transcript on every redraw; longer while the run is busy,
# when the conversation on screen is over in a blink and a swap costs a layout pass.
MIN_DWELL_S = 2.0
BUSY_DWELL_S = 6.0
# Running here, verdicts change after each static pass, which polls the leaderboard at
# once; its timer only catches labels written by other processes.
LEADERBOARD_POLL_HERE_S = 5.0
# The static stage runs at most every this many seconds while a run is in flight ...
STATIC_MIN_INTERVAL_S = 2.0
# ... and waits at least this many times its own duration, so bandit (CPU-bound, in its
# own process) takes at most ~5% of one core.
STATIC_DUTY_FACTOR = 20
# Terminal sizes where the layout changes (watch.tcss says what each class shows).
# 100 columns fit the grid of five sample defenders beside nothing else; 150 fit the grid
# and a bot health table wide enough for its numbers; 28 rows leave room for the header,
# 40 for bot health and the conversation list under everything else.
WIDTH_BREAKPOINTS = [(0, "-small"), (100, "-medium"), (150, "-wide")]
HEIGHT_BREAKPOINTS = [(0, "-tiny"), (28, "-short"), (40, "-tall")]
# Columns kept for bot health beside the grid on a wide terminal: the grid's names are cut
# before the health table loses its numbers.
HEALTH_MIN_COLUMNS = 70
# Footer: the keys that move between panes share one entry.
PANES = Binding.Group("panes")
FINISHED_NOTICE = "finished: every planned conversation was played and scanned (q quits)"


def matchup_title(attacker: str, defender: str) -> Text:
    """`attacker vs defender`, the attacker in red, the defender in blue (inert)."""
    title = Text()
    title.append(inert(attacker), style="bold red")
    title.append(" vs ")
    title.append(inert(defender), style="bold blue")
    return title


@dataclass
class InProcessRun:
    """A tournament the screen runs itself: its config and the writable store to run it into."""

    config: TournamentConfig
    store: Store
    resume: bool = False
    retry_incomplete: bool = False
    pace: float = 0.0  # seconds before each turn request (`RunControl.pace`); 0: full speed


class WatchScreen(Screen):
    """Watch one tournament: run it here, or follow one that another process runs."""

    HORIZONTAL_BREAKPOINTS = WIDTH_BREAKPOINTS
    VERTICAL_BREAKPOINTS = HEIGHT_BREAKPOINTS

    # In footer order: on a narrow terminal the footer shows the first ones.
    BINDINGS = [
        Binding("q", "quit_watch", "quit"),
        Binding("space", "pause", "pause"),
        Binding("s", "stop", "stop"),
        Binding("r", "resume_run", "resume"),
        Binding("g", "pane('grid')", "grid", group=PANES),
        Binding("c", "pane('list')", "conversations", group=PANES),
        Binding("x", "pane('transcript')", "transcript", group=PANES),
        Binding("l", "pane('board')", "standings", group=PANES),
        Binding("h", "pane('health')", "bot health", group=PANES),
        Binding("z", "zoom", "zoom"),
        Binding("f", "toggle_follow", "follow/pin"),
        Binding("b", "toggle_board", "board"),
        Binding("question_mark", "help", "keys"),
        Binding("escape", "follow_newest", "follow newest", show=False),
    ]

    def __init__(self, store_path: str | Path, tournament: str | None = None, run: InProcessRun | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.store_path = Path(store_path)
        self.run_spec = run
        self.clock = clock
        self.follower = TournamentFollower(self.store_path, run.config.name if run else tournament, live=run is not None)
        self.model = WatchModel(clock)
        self.control: RunControl | None = None
        self.reporter = TuiReporter(self.post_message)
        self.run_state = "waiting"
        self.run_error: str | None = None
        self.notice = ""
        self.pinned_id: int | None = None
        self.watched_id: int | None = None
        self.selected_matchup: int | None = None
        self.quit_after_run = False
        self.last_summary: RunSummary | None = None
        self._panes_stale = False
        self._events_since_redraw = 0
        self._last_redraw = 0.0
        self._busy = False
        # Turns (and findings) of the watched conversation that arrived while the run was busy.
        self._held_id: int | None = None
        self._held_turns: list[TurnRow] = []
        self._held_findings: list[FindingRow] | None = None
        self._watched_since = 0.0
        # Running here: reporter events are folded in once the follower has read the history.
        self._live_ready = False
        # Which standings the board shows: the leaderboard from stored verdicts, or the live
        # static-stage ASR. Running here the verdicts are refreshed live, so the leaderboard
        # is both live and real; following, only `arena-tui evaluate` writes verdicts, so
        # the live static-stage ASR is shown first.
        self.board = "leaderboard" if run is not None else "asr"
        self._wake_follower = threading.Event()
        self._stop_loops = threading.Event()
        self._run_in_flight = threading.Event()
        self._static_worker: Worker | None = None

    # --- layout ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Status on top; grid and bot health; standings and conversations beside the live
        transcript. watch.tcss decides, by terminal size, what shows where."""
        yield Header()
        yield RunStatus(self.clock, id="run-status")
        with Horizontal(id="top"):
            with Pane(id="grid-pane"):
                yield Static(Text("Matchups · done/planned ✗incomplete ASR", style="bold"), classes="pane-title")
                yield MatchupGrid(id="grid")
            with Pane(id="health-pane"):
                yield Static(Text("Bot health", style="bold"), classes="pane-title")
                yield BotHealthTable(id="health")
        with Horizontal(id="bottom"):
            with Vertical(id="side"):
                with Pane(id="board-pane"):
                    yield Static(self._board_title(), id="board-title", classes="pane-title")
                    with VerticalScroll(id="board-scroll"):
                        yield WatchLeaderboard(self.store_path, id="leaderboard",
                                               poll_seconds=LEADERBOARD_POLL_HERE_S if self.run_spec else POLL_INTERVAL_S)
                        yield AsrBoard(id="board")
                with Pane(id="list-pane"):
                    yield Static(Text("Conversations · select a cell", style="bold"), id="list-title",
                                 classes="pane-title")
                    yield ConversationList(id="conversations")
            yield LiveTranscript(id="transcript")
        yield Footer()

    def panes(self) -> dict[str, tuple[Widget, Widget]]:
        """Each pane the keys go to, with the widget in it that takes the focus."""
        return {
            "grid": (self.query_one("#grid-pane"), self.query_one(MatchupGrid)),
            "health": (self.query_one("#health-pane"), self.query_one(BotHealthTable)),
            "board": (self.query_one("#board-pane"), self.query_one("#board-scroll")),
            "list": (self.query_one("#list-pane"), self.query_one(ConversationList)),
            "transcript": (self.query_one(LiveTranscript), self.query_one(LiveTranscript)),
        }

    def on_resize(self) -> None:
        """Cut the grid's names to the width it has (whole when they fit)."""
        beside = HEALTH_MIN_COLUMNS if self.has_class("-wide") and self.has_class("-tall") else 0
        grid = self.query_one(MatchupGrid)
        grid.fit_width = self.size.width - beside - 2
        grid.refresh_from(self.model)

    @property
    def mode(self) -> str:
        """`running here` or `following <store>`."""
        return "running here" if self.run_spec else f"following {self.store_path.name} (read-only)"

    def _board_title(self) -> Text:
        """Short enough for the side column (40 cells at 80 columns, 48 from 150)."""
        if self.board == "asr":
            return Text.assemble(("Static ASR · live", "bold"), ("  b: leaderboard", "dim"))
        source = "live" if self.run_spec else "stored"
        return Text.assemble((f"Leaderboard · {source}", "bold"), ("  b: static ASR", "dim"))

    def _show_board(self) -> None:
        self.query_one("#board-title", Static).update(self._board_title())
        self.query_one(WatchLeaderboard).display = self.board == "leaderboard"
        self.query_one(AsrBoard).display = self.board == "asr"
        if self.board == "leaderboard":
            self.query_one(WatchLeaderboard).poll()

    def on_mount(self) -> None:
        """Start following the store, start the run in in-process mode, redraw on a timer."""
        self._show_board()
        self.follow_store()
        if self.run_spec is not None:
            # The run starts after the first frame: drawing the screen the first time is
            # the costliest redraw, and the run should not pay for it. The state is set
            # now, so the footer shows the run's keys from the start.
            self.run_state = "running"
            self.call_after_refresh(self.start_run, self.run_spec.resume, self.run_spec.retry_incomplete)
        self.set_interval(1 / REFRESH_HZ, self._refresh_panes)
        self.set_interval(1.0, self._tick)
        self._redraw_status()

    def on_unmount(self) -> None:
        """Stop the background loops."""
        self._stop_loops.set()
        self._wake_follower.set()

    # --- workers --------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="follow", exit_on_error=False)
    def follow_store(self) -> None:
        """Poll the store and post what changed; never touches widgets."""
        worker = get_current_worker()
        try:
            while not worker.is_cancelled and not self._stop_loops.is_set():
                delta = self.follower.poll()
                if not delta.empty:
                    self.post_message(StoreChanged(delta))
                if not delta.more:
                    self._wake_follower.wait(POLL_INTERVAL_S)
                    self._wake_follower.clear()
        finally:
            self.follower.close()

    def start_run(self, resume: bool, retry_incomplete: bool = False) -> None:
        """Run (or resume) the in-process tournament, with a fresh `RunControl`."""
        self.control = RunControl(pace=self.run_spec.pace)
        # What exists now (the app, its widgets, the imported modules) lives as long as the
        # screen: out of the garbage collector's sight, its full passes during the run walk
        # only the run's objects.
        gc.collect()
        gc.freeze()
        keys_change = self.run_state != "running"
        self.run_state = "running"
        self.run_error = None
        self._run_in_flight.set()
        self.run_in_process(resume, retry_incomplete)
        if keys_change:
            self.refresh_bindings()

    @work(exclusive=True, group="run", exit_on_error=False)
    async def run_in_process(self, resume: bool, retry_incomplete: bool) -> None:
        """Play the tournament on the app's event loop; post `RunEnded`."""
        assert self.run_spec is not None and self.control is not None
        if self.follower.history_upto is None:
            # Rows up to here are history the follower reads; the rest the reporter reports.
            self.follower.history_upto = self.run_spec.store.last_rowids()
            self._wake_follower.set()
        try:
            summary = await run_tournament(self.run_spec.config, self.run_spec.store, self.reporter, resume=resume,
                                           retry_incomplete=retry_incomplete, control=self.control)
        except RunError as exc:
            self.post_message(RunEnded(None, str(exc)))
        except (StoreError, OSError) as exc:
            self.post_message(RunEnded(None, f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(RunEnded(summary))

    @work(thread=True, exclusive=True, group="static", exit_on_error=False)
    def static_stage(self, tournament_id: int, first_wait: float = 0.0) -> None:
        """Scan finished conversations with bandit while the run goes on, then once more at the end.

        Each pass is a child process (`core.evaluation.static_pass`), so bandit never holds this
        process's GIL against the tournament. `first_wait`: seconds before the first
        pass (a fresh run has nothing to scan yet)."""
        worker = get_current_worker()

        def cancelled() -> bool:
            return worker.is_cancelled or self._stop_loops.is_set()

        try:
            self._static_pause(first_wait)
            while not cancelled():
                last = not self._run_in_flight.is_set()
                started = time.perf_counter()
                counts = run_pass_in_child(self.store_path, tournament_id, cancelled)
                if counts is None:
                    return
                self.post_message(StaticPassed(counts, final=last))
                if last:
                    return
                self._static_pause(max(STATIC_MIN_INTERVAL_S, STATIC_DUTY_FACTOR * (time.perf_counter() - started)))
        except (StaticPassError, OSError) as exc:
            if not self._stop_loops.is_set():
                self.app.call_from_thread(self._static_stopped, str(exc))

    def _static_stopped(self, error: str) -> None:
        """The static stage failed: say so; a run waiting for its final pass is finished without it."""
        if self.run_state == "scanning":
            self.run_state = "finished"
            self.notice = f"finished, but the static stage stopped: {error} (arena-tui evaluate scans the rest)"
        else:
            self.notice = f"static stage stopped: {error}"
        self._redraw_status()

    def _static_pause(self, seconds: float) -> None:
        """Sleep between static passes; cut short when the run ends or the screen closes."""
        for _ in range(int(seconds / 0.1) + 1 if seconds > 0 else 0):
            if not self._run_in_flight.is_set() or self._stop_loops.is_set():
                break
            time.sleep(0.1)

    def _set_notice(self, notice: str) -> None:
        self.notice = notice
        self._redraw_status()

    # --- message handlers -----------------------------------------------------------

    @on(StoreChanged)
    def store_changed(self, message: StoreChanged) -> None:
        """Fold the delta into the model; the transcript is updated at once, the rest on the next refresh."""
        if not self.is_mounted or self._stop_loops.is_set():
            return
        delta = message.delta
        if delta.notice is not None:
            self.notice = delta.notice
        if delta.reset:
            self.pinned_id = self.watched_id = None
            self.selected_matchup = None
            self.follower.watched_id = None
            self.query_one(LiveTranscript).clear_view("the store changed: reloading")
        self.model.apply(delta)
        if delta.history_done:
            self._live_ready = True
            self._drain_reporter()
        if delta.tournament is not None:
            self.query_one(WatchLeaderboard).set_tournaments([delta.tournament.id])
        if self.run_spec is None:
            # Following, the run's state is the stored tournament's.
            tournament = self.model.tournament
            self.run_state = "waiting" if tournament is None or tournament.status == "created" else tournament.status
        if delta.watched_id is not None and delta.watched_id == self.watched_id:
            transcript = self.query_one(LiveTranscript)
            if delta.watched_full:
                self._held_turns, self._held_findings = [], None
                transcript.show(delta.watched_id, delta.watched_turns or [], delta.watched_findings or [])
            elif self._busy:
                # Each change of the transcript's body is a layout pass: while the run is
                # busy, new turns wait for the next redraw of the panes, and come in together.
                self._held_id = delta.watched_id
                if delta.watched_findings is not None:
                    self._held_findings = delta.watched_findings
                if delta.watched_turns:
                    self._held_turns.extend(delta.watched_turns)
            else:
                self._show_held()
                if delta.watched_findings is not None:
                    transcript.set_findings(delta.watched_findings)
                if delta.watched_turns:
                    transcript.append(delta.watched_turns)
        self._panes_stale = True

    def _show_held(self) -> None:
        """Show the watched conversation's turns and findings held while the run was busy."""
        turns, findings = self._held_turns, self._held_findings
        if not turns and findings is None:
            return
        self._held_turns, self._held_findings = [], None
        transcript = self.query_one(LiveTranscript)
        if transcript.conversation_id != self._held_id or self.watched_id != self._held_id:
            return  # another conversation is (about to be) on screen
        if findings is not None:
            transcript.set_findings(findings)
        if turns:
            transcript.append(turns)

    @on(RunStarted)
    def run_started(self, message: RunStarted) -> None:
        """The run has its tournament id: start the live static stage."""
        self._static_worker = self.static_stage(message.info.id,
                                                first_wait=0.0 if message.info.already_done else STATIC_MIN_INTERVAL_S)

    @on(StaticPassed)
    def static_passed(self, message: StaticPassed) -> None:
        """A static pass ended: show the live ASR and re-read the findings on screen; the
        final pass of a finished run makes it FINISHED."""
        if not self.is_mounted or self._stop_loops.is_set():
            return
        self.model.apply_static(message.static)
        if message.final and self.run_state == "scanning":
            self.run_state = "finished"
            self.notice = FINISHED_NOTICE
            self._redraw_status()
        self.query_one(WatchLeaderboard).poll()
        self.follower.findings_generation += 1
        self._wake_follower.set()
        self._panes_stale = True

    def _drain_reporter(self) -> None:
        """Fold the run's queued events into the model (running here, after the history),
        then let the reporter fold later ones itself; note what they changed."""
        if not self._live_ready:
            return
        events = self.reporter.take()
        bot_trouble = restarted = False
        if events:
            bot_trouble, restarted = self.model.apply_live(events, self.watched_id)
        if self.reporter.model is None:
            self.reporter.attach(self.model)
        n, trouble, again = self.reporter.take_flags()
        n += len(events)
        if not n:
            return
        if restarted or again:
            self.follower.watched_generation += 1  # the watched conversation restarted: show it from scratch
        if bot_trouble or trouble:
            self.follower.logs_generation += 1
        if not events:
            self.model.live_wrote(self.clock())
        self._events_since_redraw += n
        self._panes_stale = True

    @on(PartialReply)
    def partial_reply(self, message: PartialReply) -> None:
        """Stream a partial reply into the transcript of the watched conversation."""
        transcript = self.query_one(LiveTranscript)
        if message.conversation_id == transcript.conversation_id and message.turn_index not in transcript.turns:
            transcript.set_partial(message.turn_index, message.content)

    @on(TurnStored)
    def turn_stored(self, message: TurnStored) -> None:
        """A watched turn is complete: fetch it now."""
        self._wake_follower.set()

    @on(RunEnded)
    def run_ended(self, message: RunEnded) -> None:
        """Show finished / stopped / failed; quit if the user asked to."""
        # Read before the static stage learns that the run ended: its final pass comes after.
        final_pass_due = self._static_worker is not None and not self._static_worker.is_finished
        self._run_in_flight.clear()
        self._wake_follower.set()
        self._drain_reporter()
        self.last_summary = message.summary
        if message.error is not None:
            self.run_state = "failed"
            self.run_error = message.error
            self.notice = f"the run failed: {message.error}"
        elif message.summary is not None and message.summary.stopped:
            self.run_state = "stopped"
            self.notice = "stopped: press r to resume here, or run `arena-tui run --resume` later"
        elif final_pass_due:
            # Every conversation is played; FINISHED once the final static pass has
            # stored its verdicts (static_passed), so the standings are the final ones.
            self.run_state = "scanning"
            self.notice = ("every planned conversation was played; final static pass (bandit) running "
                           "(q quits; arena-tui evaluate scans the rest later)")
        else:
            self.run_state = "finished"
            self.notice = FINISHED_NOTICE
        self.refresh_bindings()
        self._redraw_status()
        if self.quit_after_run:
            self.app.exit()

    @on(MatchupGrid.MatchupChosen)
    def matchup_chosen(self, message: MatchupGrid.MatchupChosen) -> None:
        """List the chosen cell's conversations and move focus there (zoomed when the
        terminal has no room for the list)."""
        self.selected_matchup = message.matchup_id
        self._refresh_list()
        self.action_pane("list")

    @on(ConversationList.ConversationChosen)
    def conversation_chosen(self, message: ConversationList.ConversationChosen) -> None:
        """Pin the chosen conversation in the transcript; a zoomed list makes way for it."""
        self.pin(message.conversation_id)
        if self.maximized is self.query_one("#list-pane"):
            self.minimize()
            self.query_one(LiveTranscript).focus()

    # --- following and pinning ------------------------------------------------------

    def pin(self, conversation_id: int | None) -> None:
        """Pin one conversation (None: follow the newest activity)."""
        self.pinned_id = conversation_id
        self._choose_watched()
        self._refresh_title()

    def _choose_watched(self) -> None:
        target = self.pinned_id
        if target is None:
            current = self.model.conversations.get(self.watched_id or -1)
            # Stay on a conversation while it is still being played (and a moment more),
            # then jump to the newest.
            dwelling = time.monotonic() - self._watched_since < (BUSY_DWELL_S if self._busy else MIN_DWELL_S)
            if current is not None and (current.status == "running" or dwelling):
                target = current.id
            else:
                target = self.model.newest_conversation
        if target != self.watched_id:
            self._watched_since = time.monotonic()
            self.watched_id = target
            self.follower.watched_id = target
            self.reporter.watched_id = target
            self._wake_follower.set()

    def _refresh_title(self) -> None:
        transcript = self.query_one(LiveTranscript)
        conv = self.model.conversations.get(self.watched_id or -1)
        if conv is None:
            transcript.set_title(Text("waiting for the first conversation", style="dim"))
            return
        title = matchup_title(conv.attacker, conv.defender)
        title.append(f"  #{conv.id}  {conv.status}")  # the id `label`, `annotate` and the exports use
        if conv.reason:
            title.append(f" ({inert(conv.reason)})", style="red")
        title.append(f"  {conv.n_turns} turns", style="dim")
        title.append("   pinned (f: follow newest)" if self.pinned_id is not None else "   following newest (f: pin)",
                     style="italic dim")
        transcript.set_title(title)

    # --- redrawing ------------------------------------------------------------------

    def _refresh_panes(self) -> None:
        self._drain_reporter()
        if not self._panes_stale:
            return
        now = time.monotonic()
        self._busy = self._events_since_redraw > BUSY_EVENTS
        self.reporter.quiet = self._busy
        if self._busy and now - self._last_redraw < BUSY_REFRESH_S:
            return
        self._panes_stale = False
        self._events_since_redraw = 0
        self._last_redraw = now
        self.query_one(MatchupGrid).refresh_from(self.model)
        self.query_one(BotHealthTable).refresh_from(self.model)
        if self.board == "asr":
            self.query_one(AsrBoard).refresh_from(self.model)
        self._choose_watched()
        self._show_held()
        self._refresh_list()
        self._refresh_title()
        self._redraw_status()

    def _refresh_list(self) -> None:
        matchup_id = self.selected_matchup
        if matchup_id is None:
            # Until the user picks a cell, list the matchup of the conversation on screen.
            watched = self.model.conversations.get(self.watched_id or -1)
            matchup_id = watched.matchup_id if watched else None
        if matchup_id is None:
            return
        cell = self.model.cells.get(matchup_id)
        if cell is None:
            return
        self.query_one("#list-title", Static).update(matchup_title(cell.attacker, cell.defender),
                                                     layout=False)  # one line, always
        self.query_one(ConversationList).show(matchup_id, self.model.matchup_conversations(matchup_id))

    def _tick(self) -> None:
        self.model.sample()
        self._redraw_status()

    def stale_notice(self) -> str | None:
        """Following: the hint shown when the runner went silent while the store says running."""
        if self.run_spec is not None:
            return None
        silent = self.model.stale_seconds(self.clock())
        if silent is None:
            return None
        return (f"the runner seems to have stopped (no writes for {clock_text(silent)}); "
                "resume it with arena-tui run --resume")

    def _redraw_status(self) -> None:
        state = self.run_state
        if state == "running" and self.control is not None and self.control.paused:
            state = "paused"
        notice = self.notice
        stale = self.stale_notice()
        if stale is not None and state == "running":
            state, notice = "stalled", stale
        self.query_one(RunStatus).show(self.model, state, self.mode, notice)

    # --- actions --------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Run controls only when the run is here; resume only after a stop."""
        if action in ("pause", "stop"):
            return self.run_spec is not None and self.run_state == "running"
        if action == "resume_run":
            return self.run_spec is not None and self.run_state == "stopped"
        return True

    def action_pause(self) -> None:
        """Pause (no new turn requests) or resume."""
        if self.control is None or self.run_state != "running":
            return
        if self.control.paused:
            self.control.resume()
            self.notice = ""
        else:
            self.control.pause()
            self.notice = "paused: replies in flight finish; space resumes"
        self._redraw_status()

    def action_stop(self) -> None:
        """Stop gracefully: running conversations are marked interrupted; the store stays resumable."""
        if self.control is None or self.run_state != "running":
            return
        self.control.stop()
        self.run_state = "stopping"
        self.notice = "stopping: finishing writes"
        self.refresh_bindings()
        self._redraw_status()

    def action_resume_run(self) -> None:
        """Resume a stopped run here: unfinished conversations are redone."""
        if self.run_spec is None or self.run_state != "stopped":
            return
        self.notice = ""
        self.start_run(resume=True)
        self._redraw_status()

    def action_toggle_board(self) -> None:
        """Show the leaderboard (stored verdicts) or the live static-stage ASR."""
        self.board = "asr" if self.board == "leaderboard" else "leaderboard"
        self._show_board()
        self._panes_stale = True

    def action_toggle_follow(self) -> None:
        """Pin the conversation on screen, or go back to following the newest."""
        self.pin(None if self.pinned_id is not None else self.watched_id)

    def action_follow_newest(self) -> None:
        """Follow the newest activity again."""
        self.pin(None)

    def action_pane(self, name: str) -> None:
        """Go to a pane (`grid`, `list`, `transcript`, `board`, `health`): focus it, zoomed
        when the layout hides it."""
        pane, target = self.panes()[name]
        go_to_pane(self, pane, target)

    def action_zoom(self) -> None:
        """Zoom the pane with the focus (the transcript when nothing has it), or restore the layout."""
        toggle_zoom(self, self.query_one(LiveTranscript))

    def action_help(self) -> None:
        """Show the keys."""
        self.app.push_screen(HelpScreen(WATCH_KEYS))

    def action_quit_watch(self) -> None:
        """Quit; a run in progress here is stopped gracefully first (resumable)."""
        if self.run_spec is not None and self.run_state in ("running", "stopping"):
            self.quit_after_run = True
            self.action_stop()
            return
        self.app.exit()
