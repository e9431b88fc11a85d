"""The store's schema: upgrading a real schema-1 store, the full-text index as sqlite-utils
and Datasette see it, the organizer views, and a pinned fingerprint of the schema."""

from __future__ import annotations

import asyncio
import hashlib
import json
import multiprocessing
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from core.follow import TournamentFollower
from core.store import SCHEMA_VERSION, Store, StoreError, schema
from core.store.annotate import QueueFilter

V1_STORE = Path(__file__).resolve().parent.parent / "data" / "store_v1.db"
# Tables a schema-1 store holds rows in (the full-text index's shadow tables aside).
V1_TABLES = ("meta", "tournaments", "bots", "matchups", "conversations", "turns", "events", "scans", "code_blocks",
             "findings", "assignments", "labels", "verdicts", "utility_results", "label_current", "packs",
             "pack_merges", "label_imports")
SEARCHES = ("keylogger", "KeyLogger", "key*", "subprocess AND shell", "shell=True", "password OR hash", "md5",
            "NEAR(socket connect)", "pickle NOT yaml", '"reverse shell"', 'unbalanced "quote', "")
# The fingerprint of a fresh store's schema at SCHEMA_VERSION (`fingerprint`). A change to
# any table, index, trigger or view changes it: give the change a new schema version and a
# step in core/store/schema.py (so stores made before it are upgraded), then pin it here.
PINNED = {2: "a99e1a07f71b11e3", 3: "53f5da9a349a4da5"}


def original() -> sqlite3.Connection:
    """The committed schema-1 store, opened so that nothing can write to it."""
    return sqlite3.connect(f"{V1_STORE.as_uri()}?mode=ro&immutable=1", uri=True)


def rows(conn: sqlite3.Connection, table: str) -> list[tuple]:
    return sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)


@pytest.fixture
def v1(tmp_path: Path) -> Path:
    """A copy of the committed schema-1 store (made by the release before the store had versions > 1)."""
    path = tmp_path / "arena.db"
    shutil.copyfile(V1_STORE, path)
    return path


def fingerprint(path: Path) -> list:
    """The store's schema as SQLite reports it: every object with its columns, indexes
    and foreign keys, and the SQL of those the arena writes itself (sqlite-utils' own
    quoting of the full-text index and of view names is left out)."""
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    out = []
    for kind, name, table, sql in conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"):
        entry: list = [kind, name, table]
        if kind in ("table", "view"):
            entry.append([list(r) for r in conn.execute(f'PRAGMA table_xinfo("{name}")')])
        if kind == "table":
            entry.append(sorted(list(r[1:]) for r in conn.execute(f'PRAGMA index_list("{name}")')))
            entry.append(sorted(list(r[2:]) for r in conn.execute(f'PRAGMA foreign_key_list("{name}")')))
        if kind == "view":
            entry.append(" ".join(sql.split(" AS ", 1)[1].split()))
        elif not name.startswith("turns_fts") and name not in ("turns_ai", "turns_ad", "turns_au"):
            entry.append(" ".join(sql.split()))
        out.append(entry)
    conn.close()
    return out


def digest(path: Path) -> str:
    return hashlib.sha256(json.dumps(fingerprint(path)).encode()).hexdigest()[:16]


# --- upgrading a schema-1 store ---------------------------------------------------------


def test_a_v1_store_is_upgraded_with_nothing_lost(v1: Path) -> None:
    """A writable open upgrades the real schema-1 store to the current schema: every row of
    every table is still there, unchanged, and the full-text index holds every turn."""
    with original() as before:
        assert before.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("1",)
        expected = {table: rows(before, table) for table in V1_TABLES}
    assert expected["turns"] and expected["labels"] and expected["verdicts"] and expected["findings"]
    with Store.open(v1) as store:
        assert store.upgraded_from == 1
        for table in V1_TABLES:
            got = rows(store.conn, table)
            if table == "meta":
                expected[table] = [(k, str(SCHEMA_VERSION) if k == "schema_version" else v) for k, v in expected[table]]
            assert got == expected[table], table
        store.conn.execute("INSERT INTO turns_fts (turns_fts) VALUES ('integrity-check')")
        assert store.conn.execute("SELECT COUNT(*) FROM turns_fts_docsize").fetchone() == (len(expected["turns"]),)
    with Store.open(v1) as again:
        assert again.upgraded_from is None


def test_search_finds_what_it_found_before_the_upgrade(v1: Path) -> None:
    """`Store.search_turns` and the annotate queue's search give the same answers on the
    upgraded store as the same code gave on the schema-1 file."""
    old = Store(original(), V1_STORE, readonly=True)  # the store's code over the untouched v1 file
    annotators = [r[0] for r in old.conn.execute("SELECT DISTINCT annotator FROM assignments ORDER BY 1")]
    before = {q: old.search_turns(q, limit=1000) for q in SEARCHES}
    queues = {(q, a): old.annotator_queue_ids(a, QueueFilter(search=q)) for q in SEARCHES for a in annotators}
    old.close()
    assert before["keylogger"] == before["KeyLogger"] and len(before["key*"]) > len(before["keylogger"])
    assert all(before[q] for q in ("subprocess AND shell", "password OR hash", "NEAR(socket connect)", "pickle NOT yaml"))
    assert any(len(ids) for ids, _ in queues.values())
    with Store.open(v1) as store:
        assert store.upgraded_from == 1
        assert {q: store.search_turns(q, limit=1000) for q in SEARCHES} == before
        assert {(q, a): store.annotator_queue_ids(a, QueueFilter(search=q)) for q in SEARCHES for a in annotators} == queues


def test_a_reader_refuses_a_v1_store_and_names_the_command_that_upgrades_it(v1: Path) -> None:
    """Watchers open read-only: they never upgrade, and say what to do."""
    data = v1.read_bytes()
    with pytest.raises(StoreError, match=rf"older arena-tui \(store schema 1; this version reads schema {SCHEMA_VERSION}\).*"
                                         r"`arena-tui leaderboard --db .*arena\.db`$"):
        Store.open_readonly(v1)
    assert v1.read_bytes() == data
    Store.open(v1).close()
    with Store.open_readonly(v1) as reader:
        assert reader.search_turns("keylogger")


def test_an_early_v1_store_gains_the_tables_added_within_schema_1(v1: Path) -> None:
    """Stores of early schema-1 builds lack tables added later within that version: the
    upgrade creates them, filling `label_current` from the label log."""
    with original() as before:
        label_current = rows(before, "label_current")
    assert label_current
    with sqlite3.connect(v1) as conn:
        conn.execute("DROP TABLE utility_results")
        conn.execute("DROP TABLE label_current")
    conn.close()
    with pytest.raises(StoreError, match="older arena-tui"):
        Store.open_readonly(v1)
    with Store.open(v1) as store:
        assert store.upgraded_from == 1
        assert rows(store.conn, "label_current") == label_current
        assert store.utility_results() == []


def test_a_failed_upgrade_leaves_the_store_as_it_was(v1: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The upgrade is one transaction: when its last part fails, the old full-text index,
    the version and every row are as before, and the next open upgrades it."""
    before = fingerprint(v1)
    with original() as conn:
        turns = rows(conn, "turns")
    monkeypatch.setitem(schema.VIEWS, "annotator_progress", "SELECT FROM assignments")
    with pytest.raises(StoreError, match=rf"cannot upgrade the store from schema 1 to {SCHEMA_VERSION} \(near \"FROM\": syntax error\);"
                                         r" it is unchanged$"):
        Store.open(v1)
    assert fingerprint(v1) == before
    with sqlite3.connect(v1) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("1",)
        assert rows(conn, "turns") == turns
    conn.close()
    monkeypatch.undo()
    with Store.open(v1) as store:
        assert store.upgraded_from == 1


def _open_and_report(path: str, barrier, results) -> None:  # noqa: ANN001
    barrier.wait()
    try:
        with Store.open(path) as store:
            results.put((store.upgraded_from, store.arena_id, store.search_turns("keylogger", limit=1000)))
    except StoreError as exc:
        results.put(exc)


def open_at_once(path: Path, processes: int = 3) -> list:
    """What each of `processes` processes saw opening `path` for writing at the same moment."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(processes), context.Queue()
    started = [context.Process(target=_open_and_report, args=(str(path), barrier, results)) for _ in range(processes)]
    for process in started:
        process.start()
    reports = [results.get(timeout=120) for _ in started]
    for process in started:
        process.join(timeout=60)
    return reports


# Races are caught by chance: each round is a fresh chance (before the journal-mode switch
# was retried, about one round in five failed with "database is locked").
ROUNDS = 8


def test_processes_opening_a_v1_store_at_once_upgrade_it_once(tmp_path: Path) -> None:
    """A runner, an annotator and an evaluator starting together on a schema-1 store: one
    upgrades it, the others wait for its transaction and find it current; none fails."""
    with original() as conn:
        expected = Store(conn, V1_STORE, readonly=True).search_turns("keylogger", limit=1000)
    for round_ in range(ROUNDS):
        path = tmp_path / f"arena{round_}.db"
        shutil.copyfile(V1_STORE, path)
        reports = open_at_once(path)
        assert not [r for r in reports if isinstance(r, Exception)], reports
        assert sorted(r[0] for r in reports if r[0] is not None) == [1]
        assert all(found == expected for _, _, found in reports)
        with Store.open(path) as store:
            store.conn.execute("INSERT INTO turns_fts (turns_fts) VALUES ('integrity-check')")
            assert store.conn.execute("SELECT COUNT(*) FROM turns_fts_docsize").fetchone() == store.conn.execute(
                "SELECT COUNT(*) FROM turns").fetchone()


def test_processes_creating_one_store_at_once_make_one_store(tmp_path: Path) -> None:
    """Three processes told to use a store that does not exist yet: one creates it, the
    others find it made; all see the same arena."""
    for round_ in range(ROUNDS):
        path = tmp_path / f"arena{round_}.db"
        reports = open_at_once(path)
        assert not [r for r in reports if isinstance(r, Exception)], reports
        assert len({arena for _, arena, _ in reports}) == 1 and all(upgraded is None for upgraded, _, _ in reports)
        assert digest(path) == PINNED[SCHEMA_VERSION]


def test_a_watcher_waits_through_the_upgrade(v1: Path) -> None:
    """A watcher started on a schema-1 store says why it waits; once a writer has upgraded
    the store, its next poll reads the tournament."""
    follower = TournamentFollower(v1)
    delta = follower.poll()
    assert delta.notice is not None and "older arena-tui" in delta.notice and delta.notice.endswith(": waiting")
    assert delta.tournament is None
    Store.open(v1).close()
    delta = follower.poll()
    assert delta.tournament is not None and delta.tournament.name == "sample"
    follower.close()


def test_a_newer_store_is_refused_untouched(v1: Path) -> None:
    """A store upgraded by a later release is refused by every open, and left as it is."""
    Store.open(v1).close()
    with sqlite3.connect(v1) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    conn.close()
    data = v1.read_bytes()
    for opener in (Store.open, Store.open_readonly):
        with pytest.raises(StoreError, match=rf"newer Adversarial Arena \(store schema {SCHEMA_VERSION + 1}; this version reads schema {SCHEMA_VERSION}\)"
                                             r": upgrade arena-tui"):
            opener(v1)
    assert v1.read_bytes() == data


# --- one schema ---------------------------------------------------------------------------


def test_an_upgraded_store_has_the_schema_of_a_new_one(v1: Path, tmp_path: Path) -> None:
    """Upgrading schema 1 and creating a store from nothing give the same tables, columns,
    indexes, triggers and views."""
    fresh = tmp_path / "fresh.db"
    Store.open(fresh).close()
    Store.open(v1).close()
    assert fingerprint(v1) == fingerprint(fresh)


def test_the_schema_is_pinned_to_its_version(tmp_path: Path) -> None:
    """Changing the schema without a new version would leave stores made before the change
    without it: the fingerprint of a new store is pinned per version."""
    path = tmp_path / "fresh.db"
    Store.open(path).close()
    assert digest(path) == PINNED.get(SCHEMA_VERSION), (
        "the store's schema changed: bump SCHEMA_VERSION and add an upgrade step in core/store/schema.py, then pin"
        f" {SCHEMA_VERSION}: {digest(path)!r} in {__file__}")


# --- the full-text index as sqlite-utils and Datasette see it -----------------------------


def test_sqlite_utils_and_datasette_detect_the_full_text_index(v1: Path) -> None:
    """sqlite-utils' `detect_fts` and Datasette's (which decides whether the table page has
    a search box) find `turns_fts` for `turns` once the store is upgraded; not before."""
    from datasette.utils import detect_fts
    from sqlite_utils import Database

    with original() as conn:
        assert detect_fts(conn, "turns") is None
    Store.open(v1).close()
    db = Database(v1)
    assert db["turns"].detect_fts() == "turns_fts"
    assert detect_fts(db.conn, "turns") == "turns_fts"
    found = list(db["turns"].search("keylogger", columns=["id", "conversation_id", "content"], limit=1000))
    db.close()
    with Store.open_readonly(v1) as store:
        assert sorted({r["conversation_id"] for r in found}) == store.search_turns("keylogger", limit=1000)
    assert found and all(re.search("keylogger", r["content"], re.IGNORECASE) for r in found)


def test_datasette_searches_turns(evaluated_sample: Path) -> None:
    """Datasette on a store made by `arena-tui run`: the turns page has a search box, and
    `?_search=` returns only the matching turns."""
    from datasette.app import Datasette

    path = evaluated_sample / "arena.db"
    with Store.open_readonly(path) as store:
        total = store.conn.execute("SELECT COUNT(*) FROM turns").fetchone()[0]
        expected = store.search_turns("keylogger", limit=total)

    async def fetch() -> tuple[str, list[dict]]:
        ds = Datasette([str(path)])
        page = await ds.client.get("/arena/turns")
        found = await ds.client.get("/arena/turns.json?_search=keylogger&_shape=array&_size=max")
        return page.text, found.json()

    page, found = asyncio.run(fetch())
    assert 'name="_search"' in page
    assert found and len(found) < total
    assert all(re.search("keylogger", r["content"], re.IGNORECASE) for r in found)
    assert sorted({r["conversation_id"] for r in found}) == expected


# --- the views ------------------------------------------------------------------------------


def test_the_views_agree_with_the_tables(v1: Path) -> None:
    """Each view an organizer opens first says what the tables say (computed here in Python
    from the raw rows of the upgraded store)."""
    with Store.open(v1) as store:
        conn = store.conn
        conn.row_factory = sqlite3.Row
        names = {r["id"]: r["name"] for r in conn.execute("SELECT id, name FROM bots")}
        matchups = {r["id"]: (names[r["attacker_id"]], names[r["defender_id"]], r["planned"])
                    for r in conn.execute("SELECT * FROM matchups")}
        conversations = conn.execute("SELECT * FROM conversations ORDER BY id").fetchall()
        verdicts = {r["conversation_id"]: r for r in conn.execute("SELECT * FROM verdicts")}
        findings: dict[int, int] = {}
        for r in conn.execute("SELECT conversation_id FROM findings"):
            findings[r[0]] = findings.get(r[0], 0) + 1
        scanned = {r[0] for r in conn.execute("SELECT conversation_id FROM scans")}
        labellers: dict[int, set[str]] = {}
        assert conn.execute("SELECT COUNT(*) FROM labels WHERE action != 'label'").fetchone()[0] == 0
        for r in conn.execute("SELECT conversation_id, annotator FROM labels"):
            labellers.setdefault(r[0], set()).add(r[1])

        summary = conn.execute("SELECT * FROM conversation_summary").fetchall()
        assert [r["conversation_id"] for r in summary] == [c["id"] for c in conversations]
        for row, conv in zip(summary, conversations, strict=True):
            attacker, defender, _ = matchups[conv["matchup_id"]]
            verdict = verdicts.get(conv["id"])
            assert (row["tournament"], row["attacker"], row["defender"], row["status"], row["n_turns"]) == (
                "sample", attacker, defender, conv["status"], conv["n_turns"])
            assert row["verdict"] == (verdict["verdict"] if verdict else None)
            assert row["findings"] == (findings.get(conv["id"], 0) if conv["id"] in scanned else None)
            assert row["labels"] == len(labellers.get(conv["id"], ()))
        assert any(r["verdict"] for r in summary) and any(r["labels"] for r in summary) and any(r["findings"] for r in summary)

        per_matchup = conn.execute("SELECT * FROM matchup_summary").fetchall()
        assert [r["matchup_id"] for r in per_matchup] == sorted(matchups)
        for row in per_matchup:
            mine = [c for c in conversations if c["matchup_id"] == row["matchup_id"]]
            attacker, defender, planned = matchups[row["matchup_id"]]
            decided = [c for c in mine if c["id"] in verdicts and verdicts[c["id"]]["verdict"] is not None]
            assert (row["attacker"], row["defender"], row["planned"], row["conversations"]) == (attacker, defender, planned, len(mine))
            assert row["complete"] == sum(c["status"] == "complete" for c in mine)
            assert row["findings"] == sum(findings.get(c["id"], 0) for c in mine)
            assert row["flagged"] == sum(findings.get(c["id"], 0) > 0 for c in mine)
            assert (row["decided"], row["undecided"]) == (len(decided), row["complete"] - len(decided))

        counts: dict[tuple[int, str | None], int] = {}
        for conv in conversations:
            if conv["id"] in verdicts:
                key = (conv["matchup_id"], verdicts[conv["id"]]["verdict"])
                counts[key] = counts.get(key, 0) + 1
        assert {(r["matchup_id"], r["verdict"]): r["conversations"]
                for r in conn.execute("SELECT * FROM matchup_verdicts")} == counts

        assigned: dict[str, set[int]] = {}
        for r in conn.execute("SELECT annotator, conversation_id FROM assignments"):
            assigned.setdefault(r[0], set()).add(r[1])
        progress = {r["annotator"]: (r["assigned"], r["labelled"], r["to_do"])
                    for r in conn.execute("SELECT * FROM annotator_progress")}
        expected = {}
        for who, ids in assigned.items():
            done = sum(who in labellers.get(cid, ()) for cid in ids)
            expected[who] = (len(ids), done, len(ids) - done)
        assert progress == expected and any(done for _, done, _ in progress.values())
