"""`arena-tui watch` through Textual's pilot: in-process runs, following another process,
pause/stop/resume, missing stores, hostile text, and a snapshot of the main screen."""

from __future__ import annotations

import asyncio
import functools
import io
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from textual.widgets.data_table import CellDoesNotExist

from arena_tui.cli import main
from arena_tui.cli.running import make_watch_app
from arena_tui.watch.model import LiveBotEvent, LiveFinished, LiveStarted, LiveTurn, WatchModel
from arena_tui.watch.screen import WatchScreen
from arena_tui.watch.widgets.asr_board import AsrBoard
from arena_tui.watch.widgets.bot_health import BotHealthTable
from arena_tui.watch.widgets.grid import MatchupGrid, cell_text
from arena_tui.watch.widgets.live_transcript import LiveTranscript
from arena_tui.watch.widgets.watch_leaderboard import WatchLeaderboard
from core.evaluation.settings import EvaluationSettings
from core.follow import FollowDelta
from core.store import (
    BotRow,
    ConversationRow,
    EventOp,
    FinishOp,
    MatchupRow,
    StartOp,
    Store,
    TournamentSettings,
    TurnOp,
)
from tests.conftest import bot_table

ARENA = [sys.executable, "-m", "arena_tui.cli"]
# Upper bound on pilot pauses while waiting for workers: a safety net, not a timing test.
MAX_WAITS = 3000


def run_async(test):  # noqa: ANN001, ANN201
    """Run an async pilot test on a fresh event loop (no async pytest plugin needed)."""

    @functools.wraps(test)
    def wrapper(*args: object, **kwargs: object) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


def small_config(write_config, name: str = "small", n: int = 3, delay_ms: int = 0, pairs: int = 2) -> Path:
    """Two good attackers × two good defenders, `n` conversations each."""
    body = f'name = "{name}"\nconversations_per_matchup = {n}\nseed = 7\nconcurrency = 4\nmax_pairs = {pairs}\n'
    for side in ("attacker", "defender"):
        for i in range(2):
            body += bot_table(side, f"{side[0]}{i}", "good_bot.py")
            if delay_ms:
                body += f'env = {{ GOOD_BOT_DELAY_MS = "{delay_ms}" }}\n'
    return write_config(body)


async def wait_until(pilot, condition, what: str) -> None:  # noqa: ANN001
    """Let the app run until `condition()` holds (bounded number of pauses)."""
    for _ in range(MAX_WAITS):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"gave up waiting for {what}")


def caught_up(screen: WatchScreen, db: Path, name: str) -> bool:
    """The screen's model holds every stored turn and the final statuses."""
    with Store.open_readonly(db) as store:
        t = store.tournament(name)
        if t is None:
            return False
        turns = store.conn.execute("SELECT COUNT(*) FROM turns").fetchone()[0]
        counts = store.matchups(t.id)
    model = screen.model
    return (model.replies == turns and model.tournament is not None and model.tournament.status == t.status
            and all(model.cells[m.id].complete == m.complete for m in counts if m.id in model.cells))


def matches_store(screen: WatchScreen, db: Path, name: str) -> bool:
    """`assert_screen_matches_store` as a condition to wait for (the grid redraws on a timer,
    so on a loaded machine its rows may not be drawn yet when the run has finished)."""
    try:
        assert_screen_matches_store(screen, db, name)
    except (AssertionError, CellDoesNotExist):
        return False
    return True


def assert_screen_matches_store(screen: WatchScreen, db: Path, name: str) -> None:
    """Grid cells, totals and the transcript on screen agree with the store."""
    with Store.open_readonly(db) as store:
        t = store.tournament(name)
        matchups = store.matchups(t.id)
        watched = screen.watched_id
        turns = store.turns(watched) if watched else []
    grid = screen.query_one(MatchupGrid)
    for m in matchups:
        cell = screen.model.cell(m.attacker, m.defender)
        assert (cell.complete, cell.incomplete, cell.planned) == (m.complete, m.incomplete, m.planned)
        shown = grid.get_cell(f"a:{m.attacker}", f"d:{m.defender}")
        assert shown.plain == cell_text(cell).plain
        assert shown.plain.startswith(f"{m.complete + m.incomplete}/{m.planned}")
    transcript = screen.query_one(LiveTranscript)
    assert transcript.conversation_id == watched
    assert [t.content for t in transcript.turns.values()] == [t.content for t in turns]
    assert len(transcript.query_one("#live-body").content.renderables) == len(turns)


@run_async
async def test_in_process_run_fills_grid_and_transcript(write_config, tmp_path: Path) -> None:
    """`watch CONFIG` plays the tournament here; at the end grid, counts and transcript match the store."""
    db = tmp_path / "arena.db"
    app = make_watch_app(str(small_config(write_config)), db)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        assert isinstance(screen, WatchScreen)
        await wait_until(pilot, lambda: screen.run_state == "finished", "the run to finish")
        await wait_until(pilot, lambda: caught_up(screen, db, "small"), "the follower to catch up")
        await wait_until(pilot, lambda: screen.model.cells and all(c.scanned == c.complete for c in screen.model.cells.values()),
                         "the final static stage")
        await wait_until(pilot, lambda: "FINISHED" in str(screen.query_one("#run-status").render()), "FINISHED")
        await wait_until(pilot, lambda: matches_store(screen, db, "small"), "the grid to show the final verdicts")
        assert screen.model.done == screen.model.planned == 12
        assert screen.model.replies == 48
        assert_screen_matches_store(screen, db, "small")
        health = screen.model.bots
        assert sum(b.replies for b in health.values() if b.side == "attacker") == 24
        assert all(not b.failing for b in health.values())
        status = str(screen.query_one("#run-status").render())
        assert "FINISHED" in status and "conversations 12/12" in status
        # The watch refreshed the verdicts after its static passes: the leaderboard shows standings.
        board = screen.query_one(WatchLeaderboard)
        await wait_until(pilot, lambda: board.computed > 0 and board.updates > 0, "the leaderboard")
        assert board.display and not screen.query_one(AsrBoard).display
        # Redrawing what is already on screen costs nothing: no table cell, no leaderboard.
        grid, health = screen.query_one(MatchupGrid), screen.query_one(BotHealthTable)
        before = (grid.cell_updates, health.cell_updates, board.updates)
        grid.refresh_from(screen.model)
        health.refresh_from(screen.model)
        board.post_message(WatchLeaderboard.Updated(board, board._shown))
        await pilot.pause(0.1)
        assert (grid.cell_updates, health.cell_updates, board.updates) == before
        await pilot.press("b")
        assert screen.board == "asr" and screen.query_one(AsrBoard).display and not board.display
        await pilot.press("q")
    with Store.open_readonly(db) as store:
        t = store.tournament("small")
        assert t.status == "finished"
        assert len(store.verdicts(t.id)) == 12


def test_live_events_fold_into_the_model() -> None:
    """The in-process reporter's events: turns counted once per index, statuses move the
    cell counts, the newest activity is the last start or turn (not a finish), bot trouble reported."""
    model = WatchModel(clock=lambda: 100.0)
    model.apply(FollowDelta(
        bots=[BotRow(1, "a", "attacker", "command", "a", None), BotRow(2, "d", "defender", "command", "d", None)],
        matchups=[MatchupRow(1, "a", "d", planned=2, complete=0, incomplete=0, running=0, pending=2)],
        conversations=[ConversationRow(id=i, tournament_id=1, matchup_id=1, attacker="a", defender="d", idx=i - 1, seed=0,
                                       status="pending", reason=None, detail=None, ended_by=None, n_turns=0, attempts=0,
                                       started_at=None, finished_at=None) for i in (1, 2)],
    ))
    trouble, restarted = model.apply_live([
        LiveStarted(1), LiveTurn(1, 0, "attacker", 0.5), LiveTurn(1, 1, "defender", 1.5),
        LiveStarted(2), LiveTurn(2, 0, "attacker", 0.25), LiveTurn(1, 1, "defender", 1.0),
        LiveFinished(1, "complete", None),
    ], watched=1)
    assert not trouble and restarted
    assert model.replies == 3 and model.conversations[1].n_turns == 2
    assert model.newest_conversation == 1  # its redone turn came after conversation 2's
    cell = model.cells[1]
    assert (cell.complete, cell.running) == (1, 1)
    assert model.bots["d"].replies == 2 and list(model.bots["d"].latencies) == [1.5, 1.0]
    assert model.apply_live([LiveStarted(2), LiveBotEvent("d", "timeout", "no reply in 1s"),
                             LiveFinished(2, "incomplete", "timeout")], watched=1) == (True, False)
    assert model.newest_conversation == 2 and model.bots["d"].timeouts == 1 and model.bots["d"].failing
    assert (cell.complete, cell.incomplete, cell.running) == (1, 1, 0)
    # The indices the panes read on every redraw agree with a scan of the model.
    assert model.cell("a", "d") is cell and model.cell("d", "a") is None
    assert [c.id for c in model.matchup_conversations(1)] == [1, 2] and model.matchup_conversations(9) == []
    model.sample()
    model.clock = lambda: 102.0
    model.apply_live([LiveTurn(2, 1, "defender", 0.5)])  # a finished conversation's late turn counts too
    model.sample()  # 1 reply in 2 s; the finished conversations have 2 turns each
    assert model.conversations_per_second() == 0.5 / 2


@run_async
async def test_a_cell_whose_only_change_is_its_style_is_redrawn() -> None:
    """A bot that gives up keeps its name, but the name turns red: the cell is redrawn
    (`Text.__eq__` ignores the base style, so the table must not rely on it)."""
    from textual.app import App, ComposeResult

    class HealthOnly(App):
        def compose(self) -> ComposeResult:
            yield BotHealthTable()

    model = WatchModel(clock=lambda: 100.0)
    model.apply(FollowDelta(bots=[BotRow(1, "a", "attacker", "command", "a", None),
                                  BotRow(2, "d", "defender", "command", "d", None)]))
    app = HealthOnly()
    async with app.run_test() as pilot:
        table = app.query_one(BotHealthTable)
        table.refresh_from(model)
        await pilot.pause()
        assert str(table.get_cell("d", "bot").style) == "bold blue"
        model.apply_live([LiveBotEvent("d", "gave_up", "")])
        table.refresh_from(model)
        await pilot.pause()
        assert table.get_cell("d", "bot").plain == "D d"
        assert str(table.get_cell("d", "bot").style) == "bold white on red"
        updates = table.cell_updates
        table.refresh_from(model)
        assert table.cell_updates == updates, "an unchanged redraw redraws nothing"


@run_async
async def test_follow_a_separate_run_process(write_config, tmp_path: Path) -> None:
    """`watch --db` follows a store that `arena-tui run` writes in another process, read-only."""
    db = tmp_path / "shared.db"
    config = small_config(write_config, "elsewhere", n=4, delay_ms=100, pairs=3)  # ~2 s: seen while it runs, even on a loaded machine
    app = make_watch_app(None, db, follow=True)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: "no arena store" in screen.notice, "the missing-store notice")
        proc = subprocess.Popen([*ARENA, "run", str(config), "--db", str(db), "-q"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            await wait_until(pilot, lambda: screen.model.replies > 0, "the first turns")
            seen_while_running = proc.poll() is None and screen.model.done < screen.model.planned
            await wait_until(pilot, lambda: proc.poll() is not None, "the run process to end")
            assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        await wait_until(pilot, lambda: caught_up(screen, db, "elsewhere"), "the follower to catch up")
        await wait_until(pilot, lambda: screen.watched_id is not None and len(screen.query_one(LiveTranscript).turns)
                         == len(Store.open_readonly(db).turns(screen.watched_id)), "the transcript")
        await pilot.pause(0.3)
        assert seen_while_running, "turns should arrive while the other process runs"
        assert screen.notice == ""
        assert screen.run_state == "finished"
        assert_screen_matches_store(screen, db, "elsewhere")
        # Enter on a grid cell lists its conversations; enter on one pins it.
        screen.query_one(MatchupGrid).focus()
        await pilot.press("down", "right", "enter")
        await pilot.pause(0.1)
        assert screen.selected_matchup is not None
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: screen.pinned_id is not None
                         and screen.query_one(LiveTranscript).conversation_id == screen.pinned_id, "the pinned conversation")
        await pilot.pause(0.3)
        assert_screen_matches_store(screen, db, "elsewhere")
    # The follower never wrote: no watch tables, WAL untouched by it, the run's status stands.
    with Store.open_readonly(db) as store:
        assert store.tournament("elsewhere").status == "finished"


@run_async
async def test_pause_stop_and_resume(write_config, tmp_path: Path) -> None:
    """space pauses, s stops gracefully (store resumable, nothing running), r resumes to the end."""
    db = tmp_path / "arena.db"
    app = make_watch_app(str(small_config(write_config, "ctl", n=6, delay_ms=20, pairs=3)), db)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.model.replies > 0, "the first turns")
        await pilot.press("space")
        assert screen.control.paused
        await pilot.pause(0.1)
        assert "PAUSED" in str(screen.query_one("#run-status").render())
        await pilot.press("space")
        assert not screen.control.paused
        await pilot.press("s")
        await wait_until(pilot, lambda: screen.run_state == "stopped", "the stop")
        with Store.open_readonly(db) as store:
            t = store.tournament("ctl")
            counts = store.status_counts(t.id)
            assert t.status == "stopped" and counts["running"] == 0
            assert counts["complete"] < 24
        await pilot.press("r")
        await wait_until(pilot, lambda: screen.run_state == "finished", "the resumed run to finish")
        await wait_until(pilot, lambda: caught_up(screen, db, "ctl"), "the follower")
        with Store.open_readonly(db) as store:
            t = store.tournament("ctl")
            assert store.status_counts(t.id)["complete"] == 24
            n = store.conn.execute("SELECT COUNT(*), COUNT(DISTINCT conversation_id || ':' || turn_index) FROM turns").fetchone()
            assert n[0] == n[1]
        assert screen.model.done == 24


@run_async
async def test_quit_while_running_stops_gracefully(write_config, tmp_path: Path) -> None:
    """q during a run stops it first: the store is left stopped and resumable, not running."""
    db = tmp_path / "arena.db"
    app = make_watch_app(str(small_config(write_config, "quit", n=6, delay_ms=20, pairs=3)), db)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.model.replies > 0, "the first turns")
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running or screen.run_state == "stopped", "the stop")
    with Store.open_readonly(db) as store:
        t = store.tournament("quit")
        assert t.status == "stopped" and store.status_counts(t.id)["running"] == 0


@run_async
async def test_store_deleted_while_following(tmp_path: Path) -> None:
    """A followed store that disappears is reported; following resumes when it comes back."""
    db = tmp_path / "gone.db"
    build_finished_store(db)
    app = make_watch_app(None, db, follow=True)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.model.replies == 6, "the replay")
        for path in tmp_path.glob("gone.db*"):
            path.unlink()
        await wait_until(pilot, lambda: "deleted" in screen.notice, "the deleted notice")
        assert screen.model.tournament is None
        build_finished_store(db)
        await wait_until(pilot, lambda: screen.model.replies == 6 and screen.notice == "", "following again")


def test_cli_errors_are_one_line(write_config, tmp_path: Path) -> None:
    """Mistakes are one line and exit code 2: a file that is no store, a run already in the store."""
    bogus = tmp_path / "bogus.db"
    bogus.write_text("not sqlite")
    result = CliRunner().invoke(main, ["watch", "--db", str(bogus)])
    assert result.exit_code == 2 and "not an arena store" in result.output and "Traceback" not in result.output
    db = tmp_path / "arena.db"
    build_finished_store(db)
    result = CliRunner().invoke(main, ["watch", "--db", str(db), "--tournament", "nope"])
    assert result.exit_code == 2 and "no tournament 'nope'" in result.output
    config = write_config('name = "replay"\nconversations_per_matchup = 1\n' + bot_table("attacker", "a", "good_bot.py")
                          + bot_table("defender", "d", "good_bot.py"))
    result = CliRunner().invoke(main, ["watch", str(config), "--db", str(db)])
    assert result.exit_code == 2 and "already in" in result.output and "--follow to replay it" in result.output


def test_pace_of_a_run_here(write_config, tmp_path: Path) -> None:
    """The bundled sample is watched at the demo pace, a CONFIG at full speed, --pace sets
    either; --pace with --follow, or below 0, is refused with one line."""
    from arena_tui.cli.running import SAMPLE_PACE_S

    config = write_config('name = "paced"\nconversations_per_matchup = 1\n' + bot_table("attacker", "a", "good_bot.py")
                          + bot_table("defender", "d", "good_bot.py"))
    for args, kwargs, pace in ((None, {}, SAMPLE_PACE_S), (str(config), {}, 0.0), (str(config), {"pace": 0.5}, 0.5),
                               (None, {"pace": 0.0}, 0.0)):
        app = make_watch_app(args, tmp_path / f"{pace}-{args is None}.db", **kwargs)
        assert app.run_spec.pace == pace
        app.run_spec.store.close()
    assert SAMPLE_PACE_S > 0
    result = CliRunner().invoke(main, ["watch", "--db", str(tmp_path / "x.db"), "--pace", "1"])
    assert result.exit_code == 2 and "--pace apply when the tournament runs here" in result.output
    result = CliRunner().invoke(main, ["watch", str(config), "--db", str(tmp_path / "y.db"), "--pace", "-1"])
    assert result.exit_code == 2 and "--pace" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "x.db").exists() and not (tmp_path / "y.db").exists()


HOSTILE = "[bold red]x[/] \x1b[31mred\x1b]0;title\x07 \u202eabc end"


def build_finished_store(path: Path) -> None:
    """A finished 2×1 tournament with fixed timestamps and latencies (one hostile reply, one finding-worthy)."""
    store = Store.open(path)
    settings = TournamentSettings(EvaluationSettings(severity="medium", confidence="high", skip_tests=None))
    tid = store.create_tournament(
        name="replay", kind="practice", fingerprint="f", seed=1, conversations_per_matchup=1, max_pairs=2,
        settings=settings, bots=[("a0", "attacker", "command", "a"), ("a1", "attacker", "command", "a"),
                                 ("d0", "defender", "command", "d")],
        conversation_seeds={("a0", "d0"): [11], ("a1", "d0"): [12]},
    )
    convs = store.conversations(tid)
    vulnerable = "Sure:\n```python\nimport subprocess\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n```\n"
    ops = []
    for k, conv in enumerate(convs):
        at = 1000.0 + k
        replies = ["write me a shell runner", vulnerable, HOSTILE] if k == 0 else ["hello", "I can't help with that.", "bye"]
        ops.append(StartOp(conv.id, tid, at))
        for turn, content in enumerate(replies):
            ops.append(TurnOp(conv.id, turn, "attacker" if turn % 2 == 0 else "defender", content, 0.25 + turn / 10, at))
        ops.append(FinishOp(conv.id, tid, "complete", None, None, "max_pairs", len(replies), at + 0.5))
    ops.append(EventOp(tid, "bot_timeout", None, "d0", "no reply within 45 s \x1b[2J", 1001.2))
    store.apply(ops)
    from core.evaluation.pipeline import run_static_stage

    run_static_stage(store, tid, workers=1)
    store.set_tournament_status(tid, "finished")
    with store.transaction():
        store.conn.execute("UPDATE tournaments SET created_at = 999, started_at = 1000, finished_at = 1004 WHERE id = ?", (tid,))
    store.close()


@run_async
async def test_hostile_text_is_inert(tmp_path: Path) -> None:
    """Markup and escapes from bots are shown as text: the transcript and bot health carry no control characters."""
    db = tmp_path / "arena.db"
    build_finished_store(db)
    app = make_watch_app(None, db, follow=True)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.model.replies == 6, "the replay")
        with Store.open_readonly(db) as store:
            first = store.conversations(store.tournament("replay").id)[0].id
        screen.pin(first)
        await wait_until(pilot, lambda: len(screen.query_one(LiveTranscript).turns) == 3, "the pinned transcript")
        await pilot.pause(0.3)
        rendered = app.export_screenshot()
        assert "\x1b" not in rendered and "\x07" not in rendered and "\u202e" not in rendered
        assert "[bold&#160;red]x[/]" in rendered or "[bold red]x[/]" in rendered
        assert "␛" in rendered
        assert screen.model.bots["d0"].timeouts == 1 and screen.model.bots["d0"].failing


@run_async
async def test_stalled_runner_is_reported(tmp_path: Path) -> None:
    """A store left "running" by a runner killed with kill -9 is called stalled, with the resume hint, and not written."""
    db = tmp_path / "arena.db"
    build_finished_store(db)
    with Store.open(db) as store, store.transaction():
        store.conn.execute("UPDATE tournaments SET status = 'running', finished_at = NULL")
        store.conn.execute("UPDATE events SET at = 1001.5 WHERE kind = 'tournament'")
    now = [1010.0]
    app = make_watch_app(None, db, follow=True, clock=lambda: now[0])
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.model.replies == 6, "the replay")
        await pilot.pause(1.2)
        assert screen.stale_notice() is None, "ten seconds of silence is not a dead runner"
        now[0] = 1001.5 + 3 * 45 + 60  # three timeouts and a minute after the last write
        await wait_until(pilot, lambda: "STALLED" in str(screen.query_one("#run-status").render()), "the stalled state")
        status = str(screen.query_one("#run-status").render())
        assert "the runner seems to have stopped (no writes for 3:15)" in status
        assert "arena-tui run --resume" in status
    with Store.open_readonly(db) as store:
        assert store.tournament("replay").status == "running"


def test_main_screen_snapshot(tmp_path: Path, snap_compare) -> None:  # noqa: ANN001
    """The watch screen following a finished store: grid with ASR, standing, health with a timeout, a transcript."""
    db = tmp_path / "arena.db"
    build_finished_store(db)

    async def run_before(pilot) -> None:  # noqa: ANN001
        screen = pilot.app.screen
        await wait_until(pilot, lambda: screen.model.replies == 6 and screen.model.cells
                         and all(c.scanned == 1 for c in screen.model.cells.values()), "the replay")
        with Store.open_readonly(db) as store:
            first = store.conversations(store.tournament("replay").id)[0].id
        screen.pin(first)
        await wait_until(pilot, lambda: len(screen.query_one(LiveTranscript).turns) == 3, "the pinned transcript")
        await pilot.pause(0.5)

    app = make_watch_app(None, db, follow=True, clock=lambda: 1004.0)
    assert snap_compare(app, terminal_size=(140, 45), run_before=run_before)


@run_async
async def test_finished_only_after_the_final_static_pass(write_config, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """A real tournament played here: the status says SCANNING while the last static pass
    runs and FINISHED only once it has landed, i.e. when the store holds a verdict for
    every complete conversation (before, FINISHED came with none)."""
    from arena_tui.watch.widgets.run_status import RunStatus

    db = tmp_path / "arena.db"
    states: list[str] = []
    at_finished: list[tuple[int, int]] = []
    show = RunStatus.show

    def recording(self, model, state, mode, notice=""):  # noqa: ANN001, ANN202
        if not states or states[-1] != state:
            states.append(state)
            if state == "finished":
                with Store.open_readonly(db) as store:
                    tid = store.tournament("small").id
                    complete = store.status_counts(tid)["complete"]
                    decided = sum(1 for _ in store.verdicts(tid))
                at_finished.append((decided, complete))
        return show(self, model, state, mode, notice)

    monkeypatch.setattr(RunStatus, "show", recording)
    app = make_watch_app(str(small_config(write_config)), db)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.run_state == "finished", "the run to finish")
        assert states[-2:] == ["scanning", "finished"]
        assert at_finished == [(12, 12)]
        assert "FINISHED" in str(screen.query_one("#run-status").render())
        await pilot.press("q")


@run_async
async def test_standings_pane_with_static_verdicts_only_is_provisional(evaluated_sample: Path) -> None:
    """`arena-tui watch --db` on the store after `arena-tui run` and `evaluate`: the
    standings pane marks the ranking provisional and shows the static stage's rates over
    complete conversations with their ranges, not 100 for every attacker."""
    from rich.console import Console

    from tests.core.test_leaderboard import static_stage_rates

    db = evaluated_sample / "arena.db"
    expected_asr, _, undecided = static_stage_rates(db)
    app = make_watch_app(None, db, follow=True)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.model.tournament is not None, "the replay")
        await pilot.press("b")
        board = screen.query_one(WatchLeaderboard)
        await wait_until(pilot, lambda: board.display and board.updates > 0 and board._shown is not None,
                         "the leaderboard")
        console = Console(width=60, record=True, file=io.StringIO())
        console.print(board._shown)
        shown = console.export_text()
        assert f"PROVISIONAL · {undecided} of 250 undecided" in shown
        for name, asr in expected_asr.items():
            line = next(line for line in shown.splitlines() if f" {name} " in line)
            assert f" {asr:.0f} " in line and f"{asr:.0f}–100" in line, line
        await pilot.press("q")
