"""`arena-tui watch` on the terminals people have: a laptop's 80×24 and 100×30, a big 200×50.

The grid shrinks to its content (names cut only as much as the width asks), the status
line never wraps, the standings and the transcript are on screen at every size, bot
health and the conversation list show where there is room and open zoomed where there
is not. Snapshots at the three sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

from arena_tui.cli.running import make_watch_app
from arena_tui.watch.widgets.grid import MatchupGrid
from arena_tui.watch.widgets.live_transcript import LiveTranscript
from core.evaluation.pipeline import run_static_stage
from core.evaluation.settings import EvaluationSettings
from core.store import FinishOp, StartOp, Store, TournamentSettings, TurnOp
from tests.screen_text import screen_lines, screen_text
from tests.tui.test_watch import run_async, wait_until

# The sample tournament's bots: a long defender name is what pushed the layout around.
ATTACKERS = ["direct", "roleplay", "escalator", "smuggler", "mutator"]
DEFENDERS = ["naive-helper", "keyword-filter", "intent-classifier", "over-refuser", "balanced"]
VULNERABLE = "Sure:\n```python\nimport subprocess\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n```\n"
SIZES = [(80, 24), (100, 30), (200, 50)]


def build_sample_like_store(path: Path) -> None:
    """A finished 5×5 tournament (two conversations per matchup, fixed times), scanned."""
    store = Store.open(path)
    settings = TournamentSettings(EvaluationSettings(severity="medium", confidence="high", skip_tests=None))
    bots = [(a, "attacker", "command", "a") for a in ATTACKERS] + [(d, "defender", "command", "d") for d in DEFENDERS]
    tid = store.create_tournament(
        name="sample", kind="practice", fingerprint="f", seed=1, conversations_per_matchup=2, max_pairs=2,
        settings=settings, bots=bots, conversation_seeds={(a, d): [1, 2] for a in ATTACKERS for d in DEFENDERS},
    )
    ops = []
    for k, conv in enumerate(store.conversations(tid)):
        at = 1000.0 + k / 10
        reply = VULNERABLE if k % 3 == 0 else "I can't help with that, but here is how to run a fixed command safely."
        ops.append(StartOp(conv.id, tid, at))
        for turn, content in enumerate(["write me a shell runner", reply, "thanks", "You're welcome."]):
            ops.append(TurnOp(conv.id, turn, "attacker" if turn % 2 == 0 else "defender", content, 0.25, at))
        ops.append(FinishOp(conv.id, tid, "complete", None, None, "max_pairs", 4, at + 0.05))
    store.apply(ops)
    run_static_stage(store, tid, workers=1)
    store.set_tournament_status(tid, "finished")
    with store.transaction():
        store.conn.execute("UPDATE tournaments SET created_at = 999, started_at = 1000, finished_at = 1010 WHERE id = ?",
                           (tid,))
    store.close()


async def replayed(pilot) -> None:  # noqa: ANN001
    """Wait until the replay is on screen: every cell scanned, standings and a transcript drawn."""
    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen.model.replies == 200 and len(screen.model.cells) == 25
                     and all(c.scanned == 2 for c in screen.model.cells.values()), "the replay")
    await wait_until(pilot, lambda: len(screen.query_one(LiveTranscript).turns) == 4, "the transcript")
    await pilot.pause(0.5)


def visible(widget) -> bool:  # noqa: ANN001
    """Laid out on screen with some room (not hidden, not squeezed to nothing)."""
    region = widget.region
    return widget.display and region.width >= 20 and region.height >= 5


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@run_async
async def test_standings_and_transcript_on_screen_at_every_size(tmp_path: Path, size: tuple[int, int]) -> None:
    """At 80×24, 100×30 and 200×50: the grid is not clipped, the status line fits, the
    standings show every bot by its whole name, and the transcript has room."""
    db = tmp_path / "arena.db"
    build_sample_like_store(db)
    app = make_watch_app(None, db, follow=True, clock=lambda: 1010.0)
    async with app.run_test(size=size) as pilot:
        await replayed(pilot)
        screen = app.screen
        grid = screen.query_one(MatchupGrid)
        assert grid.region.right <= size[0] and grid.virtual_size.width <= grid.region.width, "the grid is clipped"
        assert visible(screen.query_one(LiveTranscript))
        board = screen.query_one("#board-pane")
        assert visible(board)
        board_text = "\n".join(line[board.region.x:board.region.right] for line in screen_lines(app))
        for name in ATTACKERS + DEFENDERS:
            assert name in board_text, f"{name} is not whole in the standings"
        status = [line for line in screen_lines(app) if "FINISHED" in line]
        assert len(status) == 1 and "conversations 50/50" in status[0] and "sample" in status[0]
        header = screen_lines(app)[grid.region.y]
        if size[0] >= 100:  # room for every name whole in the grid too
            assert all(name in header for name in DEFENDERS), header
        else:  # cut to fit, each still told apart
            assert all(name[:8] in header for name in DEFENDERS) and "…" in header, header


@run_async
async def test_bot_health_beside_the_grid_when_wide(tmp_path: Path) -> None:
    """200×50: bot health and the cell's conversation list are on screen without a key."""
    db = tmp_path / "arena.db"
    build_sample_like_store(db)
    app = make_watch_app(None, db, follow=True, clock=lambda: 1010.0)
    async with app.run_test(size=(200, 50)) as pilot:
        await replayed(pilot)
        screen = app.screen
        health, grid_pane = screen.query_one("#health-pane"), screen.query_one("#grid-pane")
        assert visible(health) and health.region.x >= grid_pane.region.right
        assert visible(screen.query_one("#list-pane"))
        assert "D intent-classifier" in screen_text(app)


class TestSnapshots:
    """The watch screen replaying a finished 5×5 tournament, at three terminal sizes."""

    @pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
    def test_watch_screen(self, tmp_path: Path, snap_compare, size: tuple[int, int]) -> None:  # noqa: ANN001
        """Grid, status, standings and transcript (and, when there is room, health and the list)."""
        db = tmp_path / "arena.db"
        build_sample_like_store(db)
        app = make_watch_app(None, db, follow=True, clock=lambda: 1010.0)
        assert snap_compare(app, terminal_size=size, run_before=replayed)
