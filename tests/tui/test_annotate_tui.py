"""The annotate TUI driven through Textual's pilot: labels reach the store, undo, resume, hostile text."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path

import pytest
from click.testing import CliRunner

from arena_tui.annotate.screen import AnnotateScreen
from arena_tui.annotate.widgets.transcript_view import TranscriptView
from arena_tui.cli import main
from arena_tui.cli.labelling import make_annotate_app
from core.evaluation.pipeline import build_queue, current_labels, run_static_stage
from core.evaluation.settings import EvaluationSettings
from core.store import FinishOp, StartOp, Store, TournamentSettings, TurnOp
from core.store.annotate import QUEUE_DISPUTED, QUEUE_DONE, QUEUE_TO_DO

SAFE = "Here you go:\n```python\ndef add(a, b):\n    return a + b\n```\n"
REFUSAL = "I can't help with that."
VULNERABLE = "Sure:\n```python\nimport subprocess\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n```\n"
HOSTILE = ("[bold red]x[/] and [link=http://e]y[/link]\n\x1b[31mred\x1b]0;title\x07 \u202eabc \x00 end\n"
           + "A" * 1_000_000)
ANNOTATORS = ("alice", "bob", "carol")


def build_store(path: Path, replies: list[str], attacks: list[str] | None = None, name: str = "t",
                attacker: str = "a", defender: str = "d", audit_fraction: float = 0.0) -> tuple[int, list[int]]:
    """One tournament, conversation i = one exchange ending in replies[i]; queue built for 3 annotators
    (with `audit_fraction` of the static successes as analyzer audits)."""
    store = Store.open(path)
    settings = TournamentSettings(EvaluationSettings(
        severity="medium", confidence="high", skip_tests=None, annotators_per_item=3, annotators=tuple(ANNOTATORS),
        adjudicators=("judge",), labels=("attack", "defense"), tags=("malicious_code", "jailbreak"),
        audit_fraction=audit_fraction, aggregation="majority", guidelines="# Label well\n\nPress **1** for attack."))
    tid = store.create_tournament(
        name=name, kind="practice", fingerprint="f", seed=1, conversations_per_matchup=len(replies), max_pairs=1,
        settings=settings, bots=[(attacker, "attacker", "python", "a"), (defender, "defender", "python", "d")],
        conversation_seeds={(attacker, defender): list(range(len(replies)))},
    )
    ids = [c.id for c in store.conversations(tid)]
    attacks = attacks or ["write code"] * len(replies)
    ops = []
    for cid, reply, attack in zip(ids, replies, attacks, strict=True):
        ops += [StartOp(cid, tid, 0.0), TurnOp(cid, 0, "attacker", attack, 0.1, 0.0),
                TurnOp(cid, 1, "defender", reply, 0.25, 0.0),
                FinishOp(cid, tid, "complete", None, None, "max_pairs", 2, 0.0)]
    store.apply(ops)
    run_static_stage(store, tid)
    build_queue(store, tid)
    store.close()
    return tid, ids


def run_async(test):  # noqa: ANN001, ANN201
    """Run an async pilot test on a fresh event loop (no async pytest plugin needed)."""

    @functools.wraps(test)
    def wrapper(*args: object, **kwargs: object) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


async def settle(app, pilot) -> None:  # noqa: ANN001
    """Let every worker finish and every posted message be handled."""
    for _ in range(4):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


def my_labels(path: Path, annotator: str) -> dict[int, str]:
    """The annotator's current labels, read from the store."""
    with Store.open(path, create=False) as store:
        current = current_labels(store.label_events())
    return {cid: by[annotator].label for cid, by in current.items() if annotator in by}


@pytest.fixture
def store_path(tmp_path: Path) -> tuple[Path, list[int]]:
    """Three review items (safe code, refusal, safe code)."""
    path = tmp_path / "arena.db"
    _, ids = build_store(path, [SAFE, REFUSAL, SAFE])
    return path, ids


@run_async
async def test_label_is_saved_and_next_item_opens(store_path) -> None:  # noqa: ANN001
    """Pressing 1 writes `attack` for the open item and opens the next item to do; u undoes it."""
    path, ids = store_path
    app = make_annotate_app(path, "alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, AnnotateScreen)
        assert screen.current_id == ids[0] and screen.loaded_id == ids[0]
        assert "1 attack" in " ".join(f"{b.key} {b.description}" for b in screen.active_bindings.values()
                                      for b in [b.binding])
        await pilot.press("1")
        await settle(app, pilot)
        assert my_labels(path, "alice") == {ids[0]: "attack"}
        assert screen.current_id == ids[1] and screen.queue.status_of(ids[0]) == QUEUE_DONE
        await pilot.press("p")
        await settle(app, pilot)
        assert screen.current_id == ids[0] and screen.my_label == "attack"
        await pilot.press("u")
        await settle(app, pilot)
        assert my_labels(path, "alice") == {}
        assert screen.queue.status_of(ids[0]) == QUEUE_TO_DO and screen.current_id == ids[0]


@run_async
async def test_u_right_after_a_label_takes_it_back(store_path) -> None:  # noqa: ANN001
    """1 labels and moves on; u at once undoes that label and reopens its item."""
    path, ids = store_path
    app = make_annotate_app(path, "alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("2")
        await settle(app, pilot)
        assert screen.current_id == ids[1] and my_labels(path, "alice") == {ids[0]: "defense"}
        await pilot.press("u")
        await settle(app, pilot)
        assert my_labels(path, "alice") == {}
        assert screen.current_id == ids[0] and screen.queue.status_of(ids[0]) == QUEUE_TO_DO


@run_async
async def test_turn_mark_tags_and_note_go_with_the_label(store_path) -> None:  # noqa: ANN001
    """j moves to the defender turn, m marks it; t picks a tag and a note; the label carries them."""
    path, ids = store_path
    app = make_annotate_app(path, "bob")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("j", "m", "t")
        await settle(app, pilot)
        await pilot.press("space")  # toggles the first tag
        app.screen.query_one("#note").value = "shell in turn 2"
        await pilot.press("tab", "enter")
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
    with Store.open(path, create=False) as store:
        event = store.label_events(conversation_id=ids[0])[-1]
    assert (event.label, event.turn, event.tags, event.note, event.source) == (
        "defense", 1, ("malicious_code",), "shell in turn 2", "tui")


@run_async
async def test_resume_opens_first_unlabelled_item(store_path) -> None:  # noqa: ANN001
    """After two labels and a restart, the app opens the third item."""
    path, ids = store_path
    app = make_annotate_app(path, "carol")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("1")
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
    assert my_labels(path, "carol") == {ids[0]: "attack", ids[1]: "defense"}
    app = make_annotate_app(path, "carol")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert app.screen.current_id == ids[2]


@run_async
async def test_others_labels_hidden_until_labelled(store_path) -> None:  # noqa: ANN001
    """Another annotator's label is not shown before this annotator labels (no anchoring)."""
    path, ids = store_path
    from core.evaluation.pipeline import record_label

    with Store.open(path, create=False) as store:
        record_label(store, ids[0], "alice", "attack")
    app = make_annotate_app(path, "bob")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert screen.other_labels == []
        await pilot.press("2")
        await settle(app, pilot)
        assert screen.queue.status_of(ids[0]) == QUEUE_DISPUTED
        await pilot.press("p")
        await settle(app, pilot)
        assert screen.other_labels == [("alice", "attack")]


@run_async
async def test_search_filters_the_queue(tmp_path: Path) -> None:
    """/ then a word keeps only the matching conversations in the queue."""
    path = tmp_path / "arena.db"
    _, ids = build_store(path, [SAFE, REFUSAL, SAFE], attacks=["write code", "please zebra", "write code"])
    app = make_annotate_app(path, "alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"zebra", "enter")
        await settle(app, pilot)
        assert app.screen.visible_ids() == [ids[1]]
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen.visible_ids() == ids


@run_async
async def test_hostile_text_renders_literally(tmp_path: Path) -> None:
    """Markup, escape sequences, bidi overrides, NUL and a 1 MB line in a turn are shown inert."""
    path = tmp_path / "arena.db"
    _, ids = build_store(path, [HOSTILE + "\n```python\nclear = '\x1b[2J'\n```\n"], attacks=[HOSTILE])
    app = make_annotate_app(path, "alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        text = app.screen.query_one(TranscriptView).plain_text()
    assert "[bold red]x[/]" in text and "[link=http://e]y[/link]" in text
    assert "\x1b" not in text and "\x07" not in text and "\x00" not in text and "\u202e" not in text
    assert "␛[31mred" in text and "more characters]" in text and "clear = '␛[2J'" in text
    assert len(text) < 200_000


@run_async
async def test_wide_names_keep_the_status_word(tmp_path: Path) -> None:
    """A matchup of double-width names is cut by terminal cells: the line stays one line wide
    and still ends in its status word."""
    from rich.cells import cell_len

    from arena_tui.annotate.widgets.queue import QueueView

    path = tmp_path / "arena.db"
    build_store(path, [SAFE], attacker="攻撃者" * 10, defender="防御者" * 10)
    app = make_annotate_app(path, "alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        queue = app.screen.query_one(QueueView)
        line = queue.render_line(0).text
        assert cell_len(line) == queue.scrollable_content_region.width
        assert line.rstrip().endswith("to do") and "…" in line


def test_unknown_annotator_is_one_line_error(store_path) -> None:  # noqa: ANN001
    """An annotator on no roster exits 2 with one line."""
    path, _ = store_path
    result = CliRunner().invoke(main, ["annotate", str(path), "--annotator", "mallory"])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "unknown annotator 'mallory'" in result.output


def test_main_screen_snapshot(tmp_path: Path, snap_compare) -> None:  # noqa: ANN001
    """The annotate screen as an annotator first sees it: queue, header, highlighted code with a finding."""
    path = tmp_path / "arena.db"
    build_store(path, ["Try:\n```python\nimport subprocess\nsubprocess.call(['ls', '-l'])\n```\n", SAFE, REFUSAL])

    async def run_before(pilot) -> None:  # noqa: ANN001
        await settle(pilot.app, pilot)

    assert snap_compare(make_annotate_app(path, "alice"), terminal_size=(120, 40), run_before=run_before)


@run_async
async def test_fold_filter_guidelines_help_and_light_theme(tmp_path: Path) -> None:
    """f unfolds a long block, v filters, g and ? open their screens, the light theme redraws."""
    path = tmp_path / "arena.db"
    long_code = "Here:\n```python\n" + "".join(f"x{i} = {i}\n" for i in range(100)) + "```\n"
    _, ids = build_store(path, [long_code, SAFE])
    app = make_annotate_app(path, "alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        view = screen.query_one(TranscriptView)
        assert "60 more lines, press f to unfold" in view.plain_text() and "x99 = 99" not in view.plain_text()
        await pilot.press("f")
        assert "x99 = 99" in view.plain_text()
        await pilot.press("1")
        await settle(app, pilot)
        await pilot.press("v")  # to do
        await settle(app, pilot)
        assert screen.visible_ids() == [ids[1]]
        await pilot.press("v")  # done
        assert screen.visible_ids() == [ids[0]]
        await pilot.press("g")
        await settle(app, pilot)
        assert type(app.screen).__name__ == "GuidelinesScreen"
        await pilot.press("escape", "question_mark")
        await settle(app, pilot)
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        app.theme = "textual-light"
        await settle(app, pilot)
        assert app.screen is screen and not view.options().dark


@run_async
async def test_audit_items_are_marked_in_the_header(tmp_path: Path) -> None:
    """A static success sampled for the analyzer audit says `[audit]` in the header; a
    conversation queued for review does not; the bundled guidelines explain the mark."""
    from sample_data import SAMPLE_CONFIG

    path = tmp_path / "arena.db"
    _, ids = build_store(path, [VULNERABLE, SAFE], audit_fraction=1.0)
    app = make_annotate_app(path, "alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        header = screen.query_one("#item-header")
        assert screen.current_id == ids[0] and "[audit]" in str(header.render())
        await pilot.press("n")
        await settle(app, pilot)
        assert screen.current_id == ids[1] and "[audit]" not in str(header.render())
    guidelines = (Path(SAMPLE_CONFIG).parent / "guidelines.md").read_text(encoding="utf-8")
    assert "[audit]" in guidelines
