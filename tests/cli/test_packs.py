"""Annotation packs and labels JSONL: export, label offline in the TUI, merge back; idempotent,
tamper-evident, nothing written on a bad pack."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from arena_tui.cli import main
from arena_tui.cli.labelling import make_annotate_app
from core.data.packs import label_summary
from core.evaluation.pipeline import agreement, compute_verdicts, record_label
from core.store import Store
from tests.tui.test_annotate_tui import REFUSAL, SAFE, build_store, run_async, settle


def checkpoint(path: Path) -> bytes:
    """Fold the WAL into the main file and return the file's bytes."""
    with Store.open(path, create=False) as store:
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.read_bytes()


def export(db: Path, annotator: str, out: Path) -> None:
    result = CliRunner().invoke(main, ["pack", "export", "--db", str(db), "-a", annotator, "-o", str(out)])
    assert result.exit_code == 0, result.output


def merge(db: Path, *packs: Path):  # noqa: ANN201
    return CliRunner().invoke(main, ["pack", "merge", "--db", str(db), "--resamples", "100", *map(str, packs)])


@pytest.fixture
def arena(tmp_path: Path) -> tuple[Path, list[int]]:
    path = tmp_path / "arena.db"
    _, ids = build_store(path, [SAFE, REFUSAL, SAFE])
    return path, ids


async def label_in_tui(path: Path, annotator: str, keys: list[str]) -> None:
    """Open the annotate app on `path` and press one label key per item."""
    app = make_annotate_app(path, annotator)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        for key in keys:
            await pilot.press(key)
            await settle(app, pilot)


def test_pack_is_an_arena_store_with_only_the_annotators_items(arena, tmp_path: Path) -> None:
    """The pack holds the annotator's assignments, same conversation ids, settings and meta."""
    db, ids = arena
    pack = tmp_path / "alice.pack"
    export(db, "alice", pack)
    assert not Path(str(pack) + "-wal").exists()
    with Store.open_readonly(pack) as p:
        meta = p.meta()
        assert meta["pack_annotator"] == "alice" and meta["pack_source_arena_id"] != meta["pack_id"]
        assert {a.conversation_id for a in p.assignments(1)} == set(ids) and {a.annotator for a in p.assignments(1)} == {"alice"}
        assert p.tournaments()[0].settings.evaluation.guidelines.startswith("# Label well")
        assert [t.content for t in p.turns(ids[1])] == ["write code", REFUSAL]
        assert p.label_events() == []
    with Store.open(db, create=False) as s:
        assert meta["pack_source_arena_id"] == s.arena_id and s.pack_record(meta["pack_id"]).annotator == "alice"


@run_async
async def test_round_trip_equals_labelling_the_store_directly(tmp_path: Path) -> None:
    """Label in packs through the TUI, merge: verdicts and agreement equal those of labelling the store."""
    direct = tmp_path / "direct.db"
    build_store(direct, [SAFE, REFUSAL, SAFE])
    air = tmp_path / "air.db"
    build_store(air, [SAFE, REFUSAL, SAFE])
    plan = {"alice": ["1", "2", "2"], "bob": ["1", "2", "1"], "carol": ["2", "2", "1"]}
    packs = []
    for who, keys in plan.items():
        await label_in_tui(direct, who, keys)
        pack = tmp_path / f"{who}.pack"
        export(air, who, pack)
        await label_in_tui(pack, who, keys)
        packs.append(pack)
    result = merge(air, *packs)
    assert result.exit_code == 0, result.output
    assert "appended 9 label events" in result.output and "Fleiss" in result.output
    with Store.open(direct, create=False) as a, Store.open(air, create=False) as b:
        assert label_summary(a.label_events()) == label_summary(b.label_events())
        strip = [(v.conversation_id, v.verdict, v.reason) for v in compute_verdicts(a, 1)]
        assert strip == [(v.conversation_id, v.verdict, v.reason) for v in compute_verdicts(b, 1)]
        assert b.verdicts(1) and all(v.verdict for v in b.verdicts(1).values())
        ka, kb = agreement(a, 1, resamples=100), agreement(b, 1, resamples=100)
        assert (ka.fleiss_kappa, ka.krippendorff_alpha) == (kb.fleiss_kappa, kb.krippendorff_alpha)
        pack_ids = {r[0] for r in b.conn.execute("SELECT pack_id FROM packs")}
        assert {e.source for e in b.label_events()} == {f"pack:{p}" for p in pack_ids}
    again = merge(air, *packs)
    assert again.exit_code == 0 and "appended 0 label events (9 were already merged" in again.output
    with Store.open(air, create=False) as b:
        assert len(b.label_events()) == 9


@run_async
async def test_undo_in_pack_and_earlier_labels_are_carried(arena, tmp_path: Path) -> None:
    """Labels made before export come along (resume works); an undo in the pack maps to the right store event."""
    db, ids = arena
    with Store.open(db, create=False) as s:
        record_label(s, ids[0], "alice", "attack")
    pack = tmp_path / "alice.pack"
    export(db, "alice", pack)
    app = make_annotate_app(pack, "alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert app.screen.current_id == ids[1]
        await pilot.press("2")
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        await pilot.press("u")
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        await pilot.press("u")  # undo the label made before export
        await settle(app, pilot)
    assert merge(db, pack).exit_code == 0
    with Store.open(db, create=False) as s:
        assert label_summary(s.label_events()) == {}


def test_conflicts_and_unknown_annotators_are_reported(arena, tmp_path: Path) -> None:
    """A relabel in the store since export is reported; an event by someone off the roster is not merged."""
    db, ids = arena
    pack = tmp_path / "bob.pack"
    export(db, "bob", pack)
    with Store.open(pack, create=False) as p:
        p.add_label_event(ids[0], "bob", "label", "defense", source="tui")
        p.add_label_event(ids[1], "mallory", "label", "attack", source="tui")
    with Store.open(db, create=False) as s:
        record_label(s, ids[0], "bob", "attack")
    result = merge(db, pack)
    assert result.exit_code == 0, result.output
    assert "conversation 1 was also labelled by 'bob'" in result.output and "'mallory'" in result.output
    with Store.open(db, create=False) as s:
        assert label_summary(s.label_events()) == {ids[0]: {"bob": "defense"}}


def _tamper(pack: Path) -> None:
    conn = sqlite3.connect(pack)
    conn.execute("UPDATE turns SET content = 'edited' WHERE id = (SELECT MIN(id) FROM turns)")
    conn.commit()
    conn.close()


def _foreign(pack: Path, tmp_path: Path) -> Path:
    other = tmp_path / "other.db"
    build_store(other, [SAFE, REFUSAL, SAFE])
    export(other, "alice", pack)
    return pack


@pytest.mark.parametrize("damage", ["corrupt", "truncated", "tampered", "foreign", "deleted_items", "not_a_pack", "meta"])
def test_bad_pack_is_refused_and_store_unchanged(arena, tmp_path: Path, damage: str) -> None:
    """Each damaged pack gives one clear error line, exit 2, and the store stays byte-identical."""
    db, ids = arena
    pack = tmp_path / "alice.pack"
    export(db, "alice", pack)
    with Store.open(pack, create=False) as p:
        p.add_label_event(ids[0], "alice", "label", "attack", source="tui")
    if damage == "corrupt":
        pack.write_bytes(b"garbage" * 100)
    elif damage == "truncated":
        pack.write_bytes(pack.read_bytes()[: 4096 * 2])
    elif damage == "tampered":
        _tamper(pack)
    elif damage == "foreign":
        _foreign(pack, tmp_path)
    elif damage == "deleted_items":
        with Store.open(db, create=False) as s, s.transaction():
            s.conn.execute("DELETE FROM assignments WHERE conversation_id = ?", (ids[2],))
            s.conn.execute("DELETE FROM code_blocks WHERE conversation_id = ?", (ids[2],))
            s.conn.execute("DELETE FROM scans WHERE conversation_id = ?", (ids[2],))
            s.conn.execute("DELETE FROM turns WHERE conversation_id = ?", (ids[2],))
            s.conn.execute("DELETE FROM conversations WHERE id = ?", (ids[2],))
    elif damage == "not_a_pack":
        shutil.copyfile(db, pack)
    elif damage == "meta":
        conn = sqlite3.connect(pack)
        conn.execute("UPDATE meta SET value = 'x' WHERE key = 'pack_checksum'")
        conn.commit()
        conn.close()
    before = checkpoint(db)
    result = merge(db, pack)
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and result.output.startswith("arena-tui: ") and "Traceback" not in result.output
    assert checkpoint(db) == before


def test_labels_jsonl_round_trip_is_idempotent(arena, tmp_path: Path) -> None:
    """labels export → import into a copy made before the labels: same labels; importing twice adds nothing."""
    db, ids = arena
    copy = tmp_path / "copy.db"
    checkpoint(db)
    shutil.copyfile(db, copy)
    with Store.open(db, create=False) as s:
        first = record_label(s, ids[0], "alice", "attack", tags=["jailbreak"], note="n")
        record_label(s, ids[1], "bob", "defense")
        s.add_label_event(ids[0], "alice", "undo", undoes=first)
        record_label(s, ids[0], "alice", "defense")
    out = tmp_path / "labels.jsonl"
    result = CliRunner().invoke(main, ["labels", "export", "--db", str(db), "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 4 and lines[2]["undoes_uid"] == lines[0]["event_uid"] and lines[0]["tags"] == ["jailbreak"]
    for _ in range(2):
        result = CliRunner().invoke(main, ["labels", "import", "--db", str(copy), str(out), "--resamples", "100"])
        assert result.exit_code == 0, result.output
    assert "appended 0 label events (4 were already merged" in result.output
    with Store.open(db, create=False) as a, Store.open(copy, create=False) as b:
        assert label_summary(a.label_events()) == label_summary(b.label_events())
        assert len(b.label_events()) == 4
    # importing into the store the labels came from adds nothing either
    result = CliRunner().invoke(main, ["labels", "import", "--db", str(db), str(out)])
    assert "appended 0 label events" in result.output


def test_bad_label_line_names_the_line_and_writes_nothing(arena, tmp_path: Path) -> None:
    """An unknown label on line 2 is refused with its line number; line 1 is not written either."""
    db, ids = arena
    with Store.open(db, create=False) as s:
        arena_id = s.arena_id
    good = {"arena_id": arena_id, "event_uid": "u1", "conversation_id": ids[0], "annotator": "alice", "action": "label",
            "label": "attack", "tags": [], "created_at": 1.0, "source": "cli"}
    bad = dict(good, event_uid="u2", label="maybe")
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    before = checkpoint(db)
    result = CliRunner().invoke(main, ["labels", "import", "--db", str(db), str(path)])
    assert result.exit_code == 2 and "line 2" in result.output and "maybe" in result.output
    assert checkpoint(db) == before
