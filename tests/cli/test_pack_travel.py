"""Packs carried alone: the organizer exports a pack, the annotator labels it in the TUI,
only the `.pack` file comes back, and `arena-tui pack merge` (a real process) finds every
label in it, also after the annotator was killed right after "saved". A pack whose labels
may be in a file that did not travel, or that brings no label, is merged with a warning
and exit code 1. And a store labelled in the TUI is whole in its one file afterwards."""

from __future__ import annotations

import os
import pty
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from arena_tui.cli.common import ArenaError
from arena_tui.cli.labelling import make_annotate_app
from core.data.packs import label_summary
from core.store import Store
from tests.cli.test_annotate_durability import read_until
from tests.cli.test_packs import label_in_tui
from tests.tui.test_annotate_tui import REFUSAL, SAFE, build_store, run_async

# The `arena-tui` entry point, run by this Python.
ARENA = [sys.executable, "-c", "from arena_tui.cli import main; main()"]


def arena_tui(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([*ARENA, *map(str, args)], capture_output=True, text=True, timeout=120)


def export_pack(db: Path, annotator: str, out: Path) -> None:
    result = arena_tui("pack", "export", "--db", db, "-a", annotator, "-o", out)
    assert result.returncode == 0, result.stderr


def carry(pack: Path, to: Path) -> Path:
    """Copy only the pack file (no journal beside it) into another folder."""
    to.mkdir()
    return Path(shutil.copy(pack, to / pack.name))


def merge(db: Path, *packs: Path) -> subprocess.CompletedProcess:
    return arena_tui("pack", "merge", "--db", db, "--resamples", "100", *packs)


def store_labels(db: Path) -> dict[int, dict[str, str | None]]:
    with Store.open_readonly(db) as store:
        return label_summary(store.label_events())


@pytest.fixture
def arena(tmp_path: Path) -> tuple[Path, list[int]]:
    path = tmp_path / "arena.db"
    _, ids = build_store(path, [SAFE, REFUSAL, SAFE])
    return path, ids


@run_async
async def test_pack_labelled_in_the_tui_travels_alone(arena, tmp_path: Path) -> None:
    """Label three items in the TUI and quit: the pack is one file; its copy alone merges all three."""
    db, ids = arena
    pack = tmp_path / "out" / "alice.pack"
    pack.parent.mkdir()
    export_pack(db, "alice", pack)
    await label_in_tui(pack, "alice", ["1", "2", "1"])
    result = merge(db, carry(pack, tmp_path / "back"))
    assert result.returncode == 0, result.stderr
    assert "appended 3 label events" in result.stdout and result.stderr == ""
    assert store_labels(db) == {ids[0]: {"alice": "attack"}, ids[1]: {"alice": "defense"}, ids[2]: {"alice": "attack"}}
    assert sorted(p.name for p in pack.parent.iterdir()) == ["alice.pack"]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
def test_pack_killed_right_after_saved_travels_alone(arena, tmp_path: Path) -> None:
    """`arena-tui annotate PACK` in a terminal, press 1, wait for "saved", kill -9: the copy of
    the pack file alone holds the label."""
    db, ids = arena
    pack = tmp_path / "out" / "alice.pack"
    pack.parent.mkdir()
    export_pack(db, "alice", pack)
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    process = subprocess.Popen([*ARENA, "annotate", str(pack), "-a", "alice"], stdin=slave, stdout=slave, stderr=slave, env=env,
                               cwd=tmp_path, start_new_session=True)
    os.close(slave)
    seen: list[str] = []
    try:
        assert read_until(master, "defense", seen), "the app did not show its label keys"
        seen.clear()
        os.write(master, b"1")
        assert read_until(master, "saved", seen), "the app did not acknowledge the label"
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    result = merge(db, carry(pack, tmp_path / "back"))
    assert result.returncode == 0, result.stderr
    assert "appended 1 label events" in result.stdout
    assert store_labels(db) == {ids[0]: {"alice": "attack"}}


def _label_in_wal_mode_and_die(pack: Path, conversation_id: int) -> None:
    """What an earlier arena-tui did: switch the pack to WAL mode, save a label, and be
    killed before closing, so the label is only in PACK-wal."""
    code = (
        "import os, sys\n"
        "from core.store import Store\n"
        "store = Store.open(sys.argv[1], create=False)\n"
        "assert store.conn.execute('PRAGMA journal_mode = WAL').fetchone()[0] == 'wal'\n"
        "store.add_label_event(int(sys.argv[2]), 'alice', 'label', 'attack', source='tui')\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(pack), str(conversation_id)], check=True, timeout=60)


def test_pack_missing_its_wal_is_merged_with_a_warning_and_the_next_open_folds_the_wal_in(arena, tmp_path: Path) -> None:
    """A label only in PACK-wal: merging the pack file alone says so (exit 1, nothing appended);
    opening the pack once where it was labelled folds the WAL in, and then the file alone carries it."""
    db, ids = arena
    pack = tmp_path / "out" / "alice.pack"
    pack.parent.mkdir()
    export_pack(db, "alice", pack)
    _label_in_wal_mode_and_die(pack, ids[1])
    assert Path(f"{pack}-wal").stat().st_size > 0
    result = merge(db, carry(pack, tmp_path / "lone"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "appended 0 label events" in result.stdout and "Traceback" not in result.stderr
    warnings = result.stderr.splitlines()
    assert len(warnings) == 2 and all(w.startswith("arena-tui: warning: ") for w in warnings)
    assert "alice.pack-wal is not beside it" in warnings[0] and "holds no label made after export" in warnings[1]
    assert store_labels(db) == {}
    # The next open on the labelling machine (any command) folds the WAL into the pack file.
    opened = arena_tui("queue", "--db", pack, "-a", "alice")
    assert opened.returncode == 0, opened.stderr
    assert sorted(p.name for p in pack.parent.iterdir()) == ["alice.pack"]
    result = merge(db, carry(pack, tmp_path / "back"))
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert "appended 1 label events" in result.stdout
    assert store_labels(db) == {ids[1]: {"alice": "attack"}}


def test_pack_with_no_new_label_is_merged_with_a_warning(arena, tmp_path: Path) -> None:
    """A pack nobody labelled: one warning line, exit 1; the other pack's labels are merged;
    merging again what was merged before is no warning."""
    db, ids = arena
    alice, bob = tmp_path / "alice.pack", tmp_path / "bob.pack"
    export_pack(db, "alice", alice)
    export_pack(db, "bob", bob)
    with Store.open(bob, create=False) as p:
        p.add_label_event(ids[0], "bob", "label", "defense", source="tui")
    result = merge(db, alice, bob)
    assert result.returncode == 1
    assert "appended 1 label events" in result.stdout
    assert result.stderr.splitlines() == [f"arena-tui: warning: {alice} holds no label made after export (pack "
                                          f"{_pack_id(alice)} of 'alice'): nothing merged from it"]
    again = merge(db, bob)
    assert again.returncode == 0 and again.stderr == "" and "appended 0 label events (1 were already merged" in again.stdout
    assert store_labels(db) == {ids[0]: {"bob": "defense"}}


def _pack_id(pack: Path) -> str:
    with Store.open_readonly(pack) as p:
        return p.meta()["pack_id"]


def test_pack_opened_as_another_annotator_says_whose_it_is(arena, tmp_path: Path) -> None:
    """`annotate alice.pack -a bob` names alice (one line, exit 2, pack untouched); without -a it opens as alice."""
    db, _ = arena
    pack = tmp_path / "alice.pack"
    export_pack(db, "alice", pack)
    before = pack.read_bytes()
    result = arena_tui("annotate", pack, "-a", "bob")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (f"arena-tui: {pack} is the pack of 'alice', not of 'bob': open it with --annotator 'alice',"
                             " or ask for a pack of your own (arena-tui pack export -a 'bob')\n")
    assert pack.read_bytes() == before
    assert make_annotate_app(pack).annotator == "alice"
    with pytest.raises(ArenaError, match="the pack of 'alice'"):
        make_annotate_app(pack, "bob")


@run_async
async def test_store_labelled_in_the_tui_is_whole_in_its_one_file(arena, tmp_path: Path) -> None:
    """Label in the TUI on an arena store and quit: a copy of the store file alone has the labels."""
    db, ids = arena
    await label_in_tui(db, "alice", ["1", "2"])
    copy = carry(db, tmp_path / "usb")
    assert store_labels(copy) == {ids[0]: {"alice": "attack"}, ids[1]: {"alice": "defense"}}


@run_async
async def test_safe_reply_written_in_a_pack_travels_back_once(arena, tmp_path: Path) -> None:
    """An annotator writes a safe reply (`w`) in the pack and quits; the pack alone comes
    back; `pack merge` brings the reply into the store (and says so); merging again adds it
    no second time; a tampered pack whose reply replaces an attacker turn is refused whole,
    nothing written."""
    from arena_tui.annotate.screens.safe_reply import SafeReplyScreen
    from tests.tui.test_annotate_tui import settle

    db, ids = arena
    pack = tmp_path / "out" / "alice.pack"
    pack.parent.mkdir()
    export_pack(db, "alice", pack)
    reply = "I won't write that.\nHere is a safe way to do the task."
    app = make_annotate_app(pack, "alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("j", "w")
        await settle(app, pilot)
        assert isinstance(app.screen, SafeReplyScreen)
        app.screen.query_one("TextArea").text = reply
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    back = carry(pack, tmp_path / "back")
    result = merge(db, back)
    assert result.returncode == 0, result.stderr
    assert "appended 0 label events (0 were already merged, 0 skipped); 1 safe replies" in result.stdout
    with Store.open_readonly(db) as store:
        assert store.safe_replies_of(ids) == {(ids[0], 1): ("alice", reply)}
    again = merge(db, back)
    assert again.returncode == 0 and "safe replies" not in again.stdout
    with Store.open_readonly(db) as store:
        assert len(store.safe_reply_rows()) == 1
    # Tampered: the reply now replaces the attacker's turn 1.
    with Store.open(back, create=False) as p:
        p.conn.execute("UPDATE safe_replies SET turn_index = 0, created_at = created_at + 1")
    bad = merge(db, back)
    assert bad.returncode == 2
    assert "safe reply to conversation" in bad.stderr and "is the attacker's" in bad.stderr
    with Store.open_readonly(db) as store:
        assert len(store.safe_reply_rows()) == 1
