"""The annotate workbench beyond one label: filters, jump, mouse, remembered name, live
updates from another writer, verdicts after TUI labels, palette export, snapshots."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from arena_tui.annotate.widgets.agreement_pane import AgreementPane
from arena_tui.cli import main
from arena_tui.cli.common import ArenaError
from arena_tui.cli.labelling import make_annotate_app
from core.data.packs import label_summary
from core.evaluation.pipeline import record_label
from core.store import Store
from core.store.annotate import QUEUE_DISPUTED, QUEUE_DONE, QUEUE_TO_DO, QueueFilter
from tests.conftest import ARENA_TUI
from tests.tui.test_annotate_tui import REFUSAL, SAFE, build_store, run_async, settle

# Pauses allowed while waiting for another process's write to show up: a bound on the
# number of event-loop turns, not a timing threshold.
MAX_PAUSES = 400


async def wait_until(app, pilot, condition) -> bool:  # noqa: ANN001
    """Let the app run until `condition()` holds (bounded in pauses)."""
    for _ in range(MAX_PAUSES):
        if condition():
            return True
        await pilot.pause(0.02)
        await app.workers.wait_for_complete()
    return condition()


@pytest.fixture
def four_items(tmp_path: Path) -> tuple[Path, list[int]]:
    """Four review items, the third mentioning a zebra."""
    path = tmp_path / "arena.db"
    _, ids = build_store(path, [SAFE, REFUSAL, SAFE, REFUSAL],
                         attacks=["write code", "write code", "zebra code", "write code"])
    return path, ids


class TestQueueNavigation:
    """Filters, jump to an id, and the mouse."""

    @run_async
    async def test_status_filters_and_jump(self, four_items) -> None:  # noqa: ANN001
        """v cycles all → to do → done → disputed; #id jumps and widens a filter that hides it."""
        path, ids = four_items
        with Store.open(path, create=False) as store:
            record_label(store, ids[1], "bob", "attack")
        app = make_annotate_app(path, "alice")
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            screen = app.screen
            await pilot.press("1")  # ids[0] done
            await settle(app, pilot)
            await pilot.press("2")  # ids[1]: bob said attack → disputed
            await settle(app, pilot)
            await pilot.press("v")
            await settle(app, pilot)
            assert screen.visible_ids() == [ids[2], ids[3]]
            await pilot.press("v")
            await settle(app, pilot)
            assert screen.visible_ids() == [ids[0], ids[1]]
            await pilot.press("v")
            await settle(app, pilot)
            assert screen.visible_ids() == [ids[1]] and screen.queue.status_of(ids[1]) == QUEUE_DISPUTED
            await pilot.press("slash", "#", *str(ids[3]), "enter")
            await settle(app, pilot)
            assert screen.current_id == ids[3] and screen.queue_filter == QueueFilter()
            assert screen.visible_ids() == ids
            await pilot.press("slash", *"#99999", "enter")
            await settle(app, pilot)
            assert screen.current_id == ids[3]

    @run_async
    async def test_search_then_matchup_filter(self, four_items) -> None:  # noqa: ANN001
        """A word search keeps the matching item; a matchup filter keeps the matchup's items."""
        path, ids = four_items
        app = make_annotate_app(path, "alice")
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            screen = app.screen
            await pilot.press("slash", *"zebra", "enter")
            await settle(app, pilot)
            assert screen.visible_ids() == [ids[2]]
            await pilot.press("escape")
            await settle(app, pilot)
            (matchup_id,) = screen.matchups
            screen.apply_filter(QueueFilter(matchup_id=matchup_id))
            await settle(app, pilot)
            assert screen.visible_ids() == ids
            screen.apply_filter(QueueFilter(tournament_id=999))
            await settle(app, pilot)
            assert screen.visible_ids() == []

    @run_async
    async def test_click_opens_a_queue_line(self, four_items) -> None:  # noqa: ANN001
        """Clicking the third queue line opens the third conversation."""
        path, ids = four_items
        app = make_annotate_app(path, "alice")
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await pilot.click("#queue", offset=(5, 2))
            await settle(app, pilot)
            assert app.screen.current_id == ids[2] and app.screen.loaded_id == ids[2]


class TestRememberedAnnotator:
    """The name is remembered per store; no store gives a clear message."""

    def test_name_remembered_after_first_time(self, four_items) -> None:  # noqa: ANN001
        """Without --annotator the first time: an error naming the roster; afterwards the last name."""
        path, _ = four_items
        with pytest.raises(ArenaError, match="give --annotator NAME"):
            make_annotate_app(path)
        make_annotate_app(path, "bob")
        assert make_annotate_app(path).annotator == "bob"

    def test_no_store_here_explains_how_to_make_one(self, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
        """`arena-tui annotate` with no arena.db in the folder says how to make one."""
        monkeypatch.chdir(tmp_path)
        result = CliRunner().invoke(main, ["annotate"])
        assert result.exit_code == 2 and "arena-tui run CONFIG" in result.output


class TestLiveStore:
    """Other annotators' labels arrive without a key press; TUI labels reach the verdicts."""

    @run_async
    async def test_second_writer_updates_queue_and_agreement(self, four_items) -> None:  # noqa: ANN001
        """bob and carol label through their own connections: alice's queue and agreement pane follow."""
        path, ids = four_items
        app = make_annotate_app(path, "alice")
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            screen = app.screen
            pane = screen.query_one(AgreementPane)
            await pilot.press("1")  # alice: ids[0] attack
            await settle(app, pilot)
            updates = pane.updates
            with Store.open(path, create=False) as other:
                record_label(other, ids[0], "bob", "defense")
                record_label(other, ids[0], "carol", "defense")
            assert await wait_until(app, pilot, lambda: screen.queue.status_of(ids[0]) == QUEUE_DISPUTED)
            assert await wait_until(app, pilot, lambda: pane.updates > updates)

    @run_async
    async def test_tui_label_refreshes_verdicts(self, four_items) -> None:  # noqa: ANN001
        """After bob and carol, alice's label in the TUI completes the majority: the verdict is stored."""
        path, ids = four_items
        with Store.open(path, create=False) as other:
            record_label(other, ids[0], "bob", "attack")
            record_label(other, ids[0], "carol", "attack")
        app = make_annotate_app(path, "alice")
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await pilot.press("1")
            await settle(app, pilot)
            assert app.screen.queue.status_of(ids[0]) == QUEUE_DONE
            assert app.screen.queue.status_of(ids[1]) == QUEUE_TO_DO
        with Store.open(path, create=False) as store:
            tid = store.tournaments()[0].id
            verdict = store.verdicts(tid)[ids[0]]
            assert (verdict.verdict, verdict.reason) == ("attack", "annotators")

    @run_async
    async def test_leaderboard_pane_is_provisional_before_human_labels(self, evaluated_sample: Path) -> None:
        """`arena-tui annotate` on the store after `arena-tui run` and `evaluate`: the
        leaderboard pane marks the ranking provisional with the undecided count and shows
        the static stage's rates over complete conversations, not 100 for every attacker."""
        from rich.console import Console

        from arena_tui.common.leaderboard_pane import LeaderboardPane
        from tests.core.test_leaderboard import static_stage_rates

        db = evaluated_sample / "arena.db"
        expected_asr, expected_dsr, undecided = static_stage_rates(db)
        app = make_annotate_app(db, "alice")
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            pane = app.screen.query_one(LeaderboardPane)
            assert await wait_until(app, pilot, lambda: pane.updates > 0)
            console = Console(width=60, record=True, file=io.StringIO())
            console.print(pane.content)
            shown = console.export_text()
        assert shown.startswith(f"PROVISIONAL · {undecided} of 250 undecided, counted as not attack")
        for name, rate in [*expected_asr.items(), *expected_dsr.items()]:
            line = next(line for line in shown.splitlines() if f" {name} " in line)
            assert f" {rate:.0f} " in line, line
        for name, asr in expected_asr.items():
            assert asr < 100 and f"{asr:.0f}–100" in next(line for line in shown.splitlines() if f" {name} " in line)


class TestPalette:
    """Command palette commands."""

    @run_async
    async def test_export_my_labels(self, four_items) -> None:  # noqa: ANN001
        """ctrl+p, "export", enter: my current labels as JSONL next to the store, and a notice."""
        path, ids = four_items
        app = make_annotate_app(path, "alice")
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await pilot.press("1")
            await settle(app, pilot)
            await pilot.press("2")
            await settle(app, pilot)
            await pilot.press("p", "1")  # relabel ids[1], then undo: only the current label is exported
            await settle(app, pilot)
            await pilot.press("p", "u")
            await settle(app, pilot)
            await pilot.press("ctrl+p")
            await settle(app, pilot)
            await pilot.press(*"export my", "enter")
            out = path.with_name("arena.alice.labels.jsonl")
            assert await wait_until(app, pilot, out.exists)
            notices = [n.message for n in app._notifications]
            assert any(str(out) in message for message in notices)
        lines = [json.loads(line) for line in out.read_text().splitlines()]
        assert [(r["conversation_id"], r["label"]) for r in lines] == [(ids[0], "attack"), (ids[1], "defense")]

    @run_async
    async def test_exported_labels_are_what_labels_import_reads(self, four_items) -> None:  # noqa: ANN001
        """The annotator labels a copy of the store on a laptop, exports from the palette and
        carries the file back: `arena-tui labels import` appends those labels to the
        organizer's store (the labels JSONL, one format with `labels export`), and a second
        import adds nothing."""
        organizer, ids = four_items
        laptop = organizer.with_name("laptop.db")
        shutil.copyfile(organizer, laptop)
        app = make_annotate_app(laptop, "alice")
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await pilot.press("1")
            await settle(app, pilot)
            await pilot.press("j", "m", "t", "space")  # the defender turn, and a tag
            app.screen.query_one("#note").value = "shell"
            await pilot.press("tab", "enter")
            await settle(app, pilot)
            await pilot.press("2")
            await settle(app, pilot)
            await pilot.press("ctrl+p")
            await settle(app, pilot)
            await pilot.press(*"export my", "enter")
            out = laptop.with_name("laptop.alice.labels.jsonl")
            assert await wait_until(app, pilot, out.exists)
        cli = CliRunner().invoke(main, ["labels", "export", "--db", str(laptop)])
        assert cli.exit_code == 0, cli.output
        exported = out.read_text(encoding="utf-8").splitlines()
        assert len(exported) == 2 and set(exported) <= set(cli.stdout.splitlines()), \
            "the palette writes the lines `labels export` writes for the same events"
        for appended in (2, 0):
            done = subprocess.run([ARENA_TUI, "labels", "import", "--db", str(organizer), str(out), "--resamples", "100"],
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
            assert f"appended {appended} label events" in done.stdout
        with Store.open(organizer, create=False) as a, Store.open(laptop, create=False) as b:
            assert label_summary(a.label_events()) == label_summary(b.label_events()) != {}
            assert [(e.conversation_id, e.label, e.tags, e.turn, e.note) for e in a.label_events()] == \
                [(ids[0], "attack", (), None, ""), (ids[1], "defense", ("malicious_code",), 1, "shell")]

    @run_async
    async def test_hostile_names_render_literally(self, tmp_path: Path) -> None:
        """Tournament and bot names holding markup are shown as typed, in the leaderboard pane
        and in the palette (discovered and searched), and parse as nothing."""
        from rich.console import Console
        from textual.command import CommandList, CommandPalette

        from arena_tui.common.leaderboard_pane import LeaderboardPane

        path = tmp_path / "arena.db"
        tid, _ = build_store(path, [SAFE, REFUSAL], name="x[/]", attacker="[link=http://e]y[/link]", defender="z[/]")
        app = make_annotate_app(path, "alice")
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            pane = app.screen.query_one(LeaderboardPane)
            assert await wait_until(app, pilot, lambda: pane.updates > 0)
            console = Console(width=100, record=True, file=io.StringIO())
            console.print(pane.compute(Store.open_readonly(path), [tid]))
            shown = console.export_text(clear=False)
            assert "[link=http://e]y[/link]" in shown and "z[/]" in shown
            assert "href" not in console.export_html(), "a bot name became a hyperlink"
            await pilot.press("ctrl+p")
            await settle(app, pilot)
            assert isinstance(app.screen, CommandPalette)

            def listed(title: str) -> bool:  # a prompt is its title, a newline and its help
                prompts = [str(option.prompt) for option in app.screen.query_one(CommandList).options]
                return any(prompt.split("\n")[0] == title for prompt in prompts)

            assert await wait_until(app, pilot, lambda: listed("Filter: tournament x[/]"))
            assert listed("Filter: matchup [link=http://e]y[/link] vs z[/]")
            await pilot.press(*"tournament x")
            assert await wait_until(app, pilot, lambda: listed("Filter: tournament x[/]"))
            await pilot.press("escape")
            await settle(app, pilot)

    @run_async
    async def test_dataset_report_from_palette(self, four_items) -> None:  # noqa: ANN001
        """ctrl+p, "dataset report", enter: the report screen opens and fills in; escape closes it."""
        from arena_tui.annotate.screens.report import ReportScreen

        path, _ = four_items
        app = make_annotate_app(path, "alice")
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await pilot.press("ctrl+p")
            await settle(app, pilot)
            await pilot.press(*"dataset report", "enter")
            assert await wait_until(app, pilot, lambda: isinstance(app.screen, ReportScreen))
            assert await wait_until(app, pilot, lambda: getattr(app.screen, "report", None) is not None)
            await pilot.press("escape")
            await settle(app, pilot)
            assert not isinstance(app.screen, ReportScreen)

    @run_async
    async def test_jump_command(self, four_items) -> None:  # noqa: ANN001
        """ctrl+p then a number offers a jump to that conversation."""
        path, ids = four_items
        app = make_annotate_app(path, "alice")
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await pilot.press("ctrl+p")
            await settle(app, pilot)
            await pilot.press(*str(ids[2]))
            await settle(app, pilot)
            await pilot.press("enter")
            await settle(app, pilot)
            assert app.screen.current_id == ids[2]


class TestSnapshots:
    """What an annotator sees, at a fixed size."""

    def test_queue_with_every_status(self, tmp_path: Path, snap_compare) -> None:  # noqa: ANN001
        """The queue with done, disputed and to-do items, a vulnerable transcript with its finding open."""
        path = tmp_path / "arena.db"
        flagged_low = "Try:\n```python\nimport subprocess\nsubprocess.call(['ls', '-l'])\n```\n"
        _, ids = build_store(path, [flagged_low, REFUSAL, SAFE, flagged_low, SAFE])
        with Store.open(path, create=False) as store:
            record_label(store, ids[0], "alice", "attack")
            record_label(store, ids[1], "alice", "defense")
            record_label(store, ids[1], "bob", "attack")

        async def run_before(pilot) -> None:  # noqa: ANN001
            await settle(pilot.app, pilot)

        assert snap_compare(make_annotate_app(path, "alice"), terminal_size=(120, 40), run_before=run_before)

    def test_help_screen(self, four_items, snap_compare) -> None:  # noqa: ANN001
        """The ? screen over the annotate screen."""
        path, _ = four_items

        async def run_before(pilot) -> None:  # noqa: ANN001
            await settle(pilot.app, pilot)
            await pilot.press("question_mark")
            await settle(pilot.app, pilot)

        assert snap_compare(make_annotate_app(path, "alice"), terminal_size=(120, 40), run_before=run_before)

    def test_light_theme(self, four_items, snap_compare) -> None:  # noqa: ANN001
        """The annotate screen in the light theme."""
        path, _ = four_items

        async def run_before(pilot) -> None:  # noqa: ANN001
            pilot.app.theme = "textual-light"
            await settle(pilot.app, pilot)

        assert snap_compare(make_annotate_app(path, "alice"), terminal_size=(120, 40), run_before=run_before)

    @pytest.mark.parametrize("size", [(80, 24), (200, 50)])
    def test_provisional_leaderboard(self, tmp_path: Path, snap_compare, size: tuple[int, int]) -> None:  # noqa: ANN001
        """Two conversations decided by the static stage, three awaiting labels: the
        leaderboard pane says PROVISIONAL with the undecided count, ASR 40 of 40–100. On a
        short terminal the live panes start hidden, so `l` brings them up first."""
        from core.evaluation.pipeline import refresh_verdicts

        path = tmp_path / "arena.db"
        shell = "Sure:\n```python\nimport subprocess\nsubprocess.call(cmd, shell=True)\n```\n"
        tid, _ = build_store(path, [shell, SAFE, shell, REFUSAL, SAFE])
        with Store.open(path, create=False) as store:
            refresh_verdicts(store, tid)

        async def run_before(pilot) -> None:  # noqa: ANN001
            await settle(pilot.app, pilot)
            if size[1] < 40:
                await pilot.press("l")
                await settle(pilot.app, pilot)

        assert snap_compare(make_annotate_app(path, "alice"), terminal_size=size, run_before=run_before)
