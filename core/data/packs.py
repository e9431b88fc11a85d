"""Annotation packs for air-gapped labelling, and label import/export as JSONL.

A **pack** is one self-contained file that is itself a valid arena store (same schema,
written through `Store`): one annotator's assigned conversations with their turns, code
blocks, findings, assignments and tournament row (settings: label set, tags,
guidelines), plus that annotator's own earlier labels, so `arena-tui annotate PACK` works
on it unchanged. Conversation ids are the source store's, so labels map back. A pack is
in rollback-journal mode (`Store.open`): every saved label is in the pack file itself,
so the file travels alone; a ``PACK-journal`` beside it is a save cut short by a killed
process, and SQLite rolls it back on the next open (merging copies it along).

Pack metadata lives in the pack's ``meta`` table (keys ``pack_*``): pack id, source arena
id, annotator, exported_at, a sha256 over every exported row (`pack_checksum`), the id of
the source's last label event at export (`pack_last_label_id`) and the highest label id
copied into the pack (`pack_base_label_id`; pack events above it were made in the pack).
The source store records each export in its ``packs`` table.

Merging validates every pack first (pack file readable, same arena, known pack, checksum
equal to the pack's meta and to the source's record, items still in the store, each new
event well formed) and only then appends the new events in one transaction with source
``pack:<id>`` and a provenance row each (``pack_merges``), so merging again adds nothing.
Safe replies written in the pack come back after them, checked like `arena-tui
safe-reply`, each added once (recognised by item, turn, annotator, text and time).
A pack that holds no label made after export, or that was left in WAL mode (by an
earlier version of arena-tui) without its ``PACK-wal`` beside it, is merged with a
warning (`MergeResult.warnings`): its labels may be in a file that did not travel.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from core.data.export import atomic_writer
from core.data.preference import SafeReplyError, check_safe_reply
from core.evaluation.pipeline import (
    EvaluationError,
    check_annotator,
    current_labels,
)
from core.evaluation.settings import EvaluationSettings
from core.store import LabelEvent, Store, StoreError
from core.text import surrogate_problem
from core.turns import turn_index, turn_number

PACK_FORMAT = "1"
# Labels JSONL: format 2 numbers `turn` from 1 (`core.turns`); format 1 files (turn
# 0-based, written before) are still read.
LABELS_FORMAT = 2
LABELS_FORMATS_READ = (1, 2)
ACTIONS = ("label", "undo")


class PackError(ValueError):
    """A pack or label file that cannot be used; the message is one line."""


@dataclass
class PackSummary:
    """What `export_pack` wrote."""

    path: Path
    pack_id: str
    annotator: str
    conversations: int
    labels: int
    checksum: str


@dataclass
class MergeResult:
    """What `merge_packs` (or `import_labels`) did. `conflicts` are one-line descriptions."""

    packs: list[str] = field(default_factory=list)
    appended: int = 0
    already_merged: int = 0
    skipped: int = 0
    conflicts: list[str] = field(default_factory=list)
    tournament_ids: set[int] = field(default_factory=set)
    # One line each: a pack that brought no new label, or whose labels may be missing.
    warnings: list[str] = field(default_factory=list)
    # Safe replies (`w` in annotate) a pack brought back.
    safe_replies: int = 0


# --- export -----------------------------------------------------------------------------


def _checksum(content: dict[str, tuple[list[str], list[tuple[Any, ...]]]], labels: Sequence[tuple[Any, ...]]) -> str:
    """sha256 over the pack's rows, table by table; tournament status and timestamps are
    left out (they change as a run proceeds and are not what the annotator labels)."""
    digest = hashlib.sha256()
    for table in sorted(content):
        columns, rows = content[table]
        keep = [i for i, c in enumerate(columns) if not (table == "tournaments" and c in ("status", "started_at", "finished_at"))]
        digest.update(f"\x00{table}\x00".encode())
        for row in rows:
            digest.update(json.dumps([row[i] for i in keep], separators=(",", ":")).encode() + b"\n")
    digest.update(b"\x00labels\x00")
    for row in labels:
        digest.update(json.dumps(list(row), separators=(",", ":")).encode() + b"\n")
    return digest.hexdigest()


def export_pack(store: Store, annotator: str, out: str | Path, tournament_ids: Sequence[int] | None = None) -> PackSummary:
    """Write the pack of `annotator`'s assigned conversations to `out` (atomically) and
    record it in the store. Raises `PackError` when the annotator has nothing assigned."""
    out = Path(out)
    wanted = [t for t in store.tournaments() if tournament_ids is None or t.id in tournament_ids]
    try:
        check_annotator(annotator, wanted)
    except EvaluationError as exc:
        raise PackError(str(exc)) from None
    conversation_ids = sorted({a.conversation_id for t in wanted for a in store.assignments(t.id) if a.annotator == annotator})
    if not conversation_ids:
        raise PackError(f"nothing is assigned to {annotator!r}: run arena-tui evaluate first")
    content = store.pack_content(conversation_ids, annotator)
    last_label_id = store.last_label_id()
    labels = store.label_rows(conversation_ids, annotator, last_label_id)
    base_label_id = max((r[0] for r in labels), default=0)
    checksum = _checksum(content, labels)
    exported_at = time.time()
    if not out.parent.is_dir():
        raise PackError(f"folder {out.parent} does not exist")
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with Store.open(tmp) as pack:
            pack_id = pack.arena_id
            for table, (columns, rows) in content.items():
                pack.insert_rows(table, columns, rows)
            pack.insert_rows("labels", ["id", "conversation_id", "annotator", "action", "label", "tags", "turn", "note",
                                        "source", "forced", "undoes", "created_at"], labels)
            pack.set_meta({
                "pack_format": PACK_FORMAT, "pack_id": pack_id, "pack_source_arena_id": store.arena_id,
                "pack_annotator": annotator, "pack_exported_at": repr(exported_at), "pack_checksum": checksum,
                "pack_last_label_id": str(last_label_id), "pack_base_label_id": str(base_label_id),
                "pack_conversations": str(len(conversation_ids)),
            })
            pack.single_file()
        store.record_pack(pack_id, annotator, exported_at, checksum, last_label_id, len(conversation_ids))
        tmp.replace(out)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
            leftover.unlink(missing_ok=True)
    return PackSummary(out, pack_id, annotator, len(conversation_ids), len(labels), checksum)


# --- merge ------------------------------------------------------------------------------


@dataclass
class _ValidatedPack:
    pack_id: str
    annotator: str
    events: list[dict[str, Any]]
    skipped: int
    conflicts: list[str]
    tournament_ids: set[int]
    merged: dict[int, int]  # pack event id -> store label id of events merged before
    warnings: list[str]
    # Safe replies written in the pack (`w` in annotate) not yet in the store.
    safe_replies: list[tuple[int, int, str, str, float]]


def _check_event(where: str, action: Any, label: Any, tags: Any, turn: Any, settings: EvaluationSettings,
                 n_turns: int) -> None:
    """Raise `PackError` (naming `where`) for an unknown action or, on a label event, an
    unknown label, a tag outside the tag set or a turn that is not an index into the
    conversation (`turn` is the stored 0-based index; the message gives its number).
    The same checks for pack events and imported JSONL lines."""
    if action not in ACTIONS:
        raise PackError(f"{where}: unknown action {action!r}")
    if action != "label":
        return
    if label not in settings.labels:
        raise PackError(f"{where}: unknown label {label!r}")
    if not isinstance(tags, list) or any(t not in settings.tags for t in tags):
        raise PackError(f"{where}: a tag outside the tag set")
    if turn is not None and (not isinstance(turn, int) or isinstance(turn, bool)):
        raise PackError(f"{where}: turn {turn!r} is not a whole number")
    if turn is not None and not 0 <= turn < max(n_turns, 1):
        raise PackError(f"{where}: turn {turn_number(turn)} out of range (the conversation has {n_turns} turns, "
                        "numbered from 1)")


def _resolve_undo(where: str, event: dict[str, Any], target: Any, stored: dict[Any, int], pending: dict[Any, int]) -> None:
    """Point an undo event at what it undoes: ``undoes`` for an event already in the store
    (`stored`: target -> store label id), ``undoes_ref`` for one earlier in the batch
    being appended (`pending`: target -> position). Raises `PackError` otherwise."""
    if target is None:
        raise PackError(f"{where}: an undo without a target")
    if target in stored:
        event["undoes"] = stored[target]
    elif target in pending:
        event["undoes_ref"] = pending[target]
    else:
        raise PackError(f"{where}: undo of an unknown event {target!r}")


class _PackRead(NamedTuple):
    meta: dict[str, str]
    ids: list[int]
    content: dict[str, Any]
    old_labels: list[tuple[Any, ...]]
    all_labels: list[tuple[Any, ...]]
    settings: dict[int, EvaluationSettings]
    # The pack was left in WAL mode and its WAL is not beside it (labels saved last may be
    # in that missing file).
    wal_missing: bool
    safe_replies: list[tuple[int, int, str, str, float]]


def _read_pack(path: Path) -> _PackRead:
    """Open a copy of the pack (never the file itself), with any journal beside it, and
    read what merging needs."""
    if not path.is_file():
        raise PackError(f"no pack at {path}")
    with tempfile.TemporaryDirectory(prefix="arena-pack-") as tmp:
        copy = Path(tmp) / "pack.db"
        shutil.copyfile(path, copy)
        for suffix in ("-wal", "-journal"):
            journal = path.with_name(path.name + suffix)
            if journal.exists():
                shutil.copyfile(journal, Path(tmp) / f"pack.db{suffix}")
        with copy.open("rb") as fh:  # the copy: no lock of this process is on it
            header = fh.read(20)
        # Bytes 18-19 of the SQLite header are 2 in WAL mode.
        wal_missing = header[18:20] == b"\x02\x02" and not (Path(tmp) / "pack.db-wal").exists()
        try:
            with Store.open(copy, create=False) as pack:
                meta = pack.meta()
                if "pack_id" not in meta:
                    raise PackError(f"{path} is an arena store but not an annotation pack")
                ids = pack.pack_conversation_ids()
                content = pack.pack_content(ids, meta["pack_annotator"])
                base = int(meta["pack_base_label_id"])
                old_labels = pack.label_rows(ids, meta["pack_annotator"], base)
                all_labels = pack.labels_after(0)
                settings = {t.id: t.settings.evaluation for t in pack.tournaments()}
                safe_replies = pack.safe_reply_rows()
        except StoreError as exc:
            raise PackError(f"{path}: not a readable pack ({_first_line(exc)})") from None
        except (sqlite3.DatabaseError, KeyError, ValueError) as exc:
            if isinstance(exc, PackError):
                raise
            raise PackError(f"{path}: damaged or truncated pack ({_first_line(exc)})") from None
    return _PackRead(meta, ids, content, old_labels, all_labels, settings, wal_missing, safe_replies)


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def validate_pack(store: Store, path: str | Path) -> _ValidatedPack:
    """Check one pack against the store and collect the events to append; raises
    `PackError` (one line) for anything that makes it unusable. Writes nothing."""
    path = Path(path)
    meta, ids, content, old_labels, all_labels, settings, wal_missing, pack_replies = _read_pack(path)
    pack_id, annotator = meta["pack_id"], meta["pack_annotator"]
    if meta.get("pack_source_arena_id") != store.arena_id:
        raise PackError(f"{path} was exported from another arena ({meta.get('pack_source_arena_id')}), not from {store.path}")
    record = store.pack_record(pack_id)
    if record is None:
        raise PackError(f"{path}: pack {pack_id} was never exported from {store.path}")
    checksum = _checksum(content, old_labels)
    if checksum != meta.get("pack_checksum") or checksum != record.checksum or len(ids) != record.conversations:
        raise PackError(f"{path}: pack {pack_id} was modified after export (content checksum does not match)")
    existing = store.existing_conversations(ids)
    missing = [cid for cid in ids if cid not in existing]
    if missing:
        raise PackError(f"{path}: {len(missing)} of the pack's conversations are no longer in {store.path} (e.g. {missing[0]})")
    conv_tournament = {r[0]: r[1] for r in content["conversations"][1]}
    n_turns = {r[0]: r[content["conversations"][0].index("n_turns")] for r in content["conversations"][1]}
    base = int(meta["pack_base_label_id"])
    merged = store.merged_events(pack_id)
    known_ids = {r[0] for r in old_labels}
    # What a pack undo may target in the store: an exported event (same id in the source
    # store, all at or below `base`) or a pack event merged before (all above `base`).
    stored = {event_id: event_id for event_id in known_ids} | merged
    events: list[dict[str, Any]] = []
    position: dict[int, int] = {}
    conflicts: list[str] = []
    skipped = 0
    roster_skipped: set[int] = set()
    for row in all_labels:
        (event_id, cid, who, action, label, tags_json, turn, note, _source, forced, undoes, created_at) = row
        if event_id <= base:
            if event_id not in known_ids:
                raise PackError(f"{path}: pack {pack_id} has a label event {event_id} that was not exported")
            continue
        if event_id in merged:
            continue
        where = f"{path}: pack event {event_id}"
        if cid not in conv_tournament:
            raise PackError(f"{where} labels conversation {cid}, which is not in the pack")
        ev_settings = settings[conv_tournament[cid]]
        if who not in ev_settings.annotators + ev_settings.adjudicators or who != annotator:
            conflicts.append(f"pack {pack_id}: event {event_id} by {who!r}, who is not on the roster of this pack; not merged")
            roster_skipped.add(event_id)
            skipped += 1
            continue
        try:
            tags = json.loads(tags_json)
        except (TypeError, ValueError):
            raise PackError(f"{where}: unreadable tags") from None
        _check_event(where, action, label, tags, turn, ev_settings, n_turns[cid])
        event: dict[str, Any] = {
            "conversation_id": cid, "annotator": who, "action": action, "label": label, "tags": tags, "turn": turn,
            "note": note, "source": f"pack:{pack_id}", "forced": forced, "created_at": created_at,
            "pack": (pack_id, event_id),
        }
        if action == "undo":
            if undoes in roster_skipped:
                skipped += 1
                continue
            _resolve_undo(where, event, undoes, stored, position)
        position[event_id] = len(events)
        events.append(event)
    # Conflicts: items the same annotator relabelled in the store since the export.
    relabelled = {r[1] for r in store.labels_after(int(meta["pack_last_label_id"]))
                  if r[2] == annotator and not str(r[8]).startswith("pack:") and r[1] in conv_tournament}
    for cid in sorted(relabelled & {e["conversation_id"] for e in events}):
        conflicts.append(f"pack {pack_id}: conversation {cid} was also labelled by {annotator!r} in the store since export;"
                         " the pack's label is appended after it and is now current")
    safe_replies = []
    for row in pack_replies:
        cid, turn_index, who, text, _created = row
        if who != annotator or cid not in conv_tournament:
            conflicts.append(f"pack {pack_id}: a safe reply by {who!r} to conversation {cid}, not this pack's; not merged")
            continue
        try:
            check_safe_reply(store, cid, who, turn_index, text)
        except SafeReplyError as exc:
            raise PackError(f"{path}: safe reply to conversation {cid}: {exc}") from None
        if not store.has_safe_reply(row):
            safe_replies.append(row)
    warnings = []
    if wal_missing:
        warnings.append(f"{path} was left in WAL mode and {path.name}-wal is not beside it: the labels saved last may be"
                        " in that file; copy it next to the pack and merge again")
    if not any(row[0] > base for row in all_labels) and not pack_replies:
        warnings.append(f"{path} holds no label made after export (pack {pack_id} of {annotator!r}): nothing merged from it")
    return _ValidatedPack(pack_id, annotator, events, skipped, conflicts, set(conv_tournament.values()), merged, warnings,
                          safe_replies)


def merge_packs(store: Store, paths: Sequence[str | Path]) -> MergeResult:
    """Validate every pack, then append their new label events in one transaction.

    Raises `PackError` before writing anything if any pack is unusable. Idempotent:
    events already merged are skipped. Verdicts are not refreshed here (the caller does,
    for `result.tournament_ids`).
    """
    validated = [validate_pack(store, p) for p in paths]
    ids = [v.pack_id for v in validated]
    if len(set(ids)) != len(ids):
        raise PackError("the same pack is given twice")
    result = MergeResult(packs=ids)
    batch: list[dict[str, Any]] = []
    for v in validated:
        offset = len(batch)
        for event in v.events:
            if "undoes_ref" in event:
                event = dict(event, undoes_ref=event["undoes_ref"] + offset)
            batch.append(event)
        result.skipped += v.skipped
        result.conflicts.extend(v.conflicts)
        result.warnings.extend(v.warnings)
        result.already_merged += len(v.merged)
        if v.events:
            result.tournament_ids |= v.tournament_ids
    if batch:
        store.append_labels(batch)
    result.appended = len(batch)
    # After the labels, in a transaction of their own: a merge cut off in between is
    # finished by merging again (labels merged before are skipped, replies by identity).
    replies = [row for v in validated for row in v.safe_replies]
    if replies:
        store.add_safe_replies(replies)
    result.safe_replies = len(replies)
    return result


# --- labels as JSONL ---------------------------------------------------------------------


def event_uid(arena_id: str, row: Sequence[Any]) -> str:
    """A stable id for a label event: a hash of the arena and the event's content, so the
    same event exported twice (or from a copy of the store) is recognised on import."""
    payload = json.dumps([arena_id, *row], separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _uids(store: Store, rows: Sequence[Sequence[Any]] | None = None) -> dict[int, str]:
    """store label id -> its uid (the imported uid when the event came from a file).
    `rows`: the store's whole label table (`labels_after(0)`) when already read."""
    arena = store.arena_id
    uids = {row[0]: event_uid(arena, row) for row in (store.labels_after(0) if rows is None else rows)}
    for uid, label_id in store.imported_uids().items():
        uids[label_id] = uid
    return uids


def export_labels(store: Store, tournament_ids: Sequence[int] | None = None, *,
                  current_of: str | None = None) -> Iterator[dict[str, Any]]:
    """Label events as JSON-ready dicts, oldest first (one per JSONL line); `turn` is
    numbered from 1 (format 2). `current_of`: only the events that are that annotator's
    current labels (the annotate workbench's "Export my labels")."""
    rows = store.labels_after(0)
    uids = _uids(store, rows)
    if current_of is not None:
        current = {event.id for event in store.annotator_current_labels(current_of)}
        rows = [row for row in rows if row[0] in current]
    wanted = None if tournament_ids is None else set(tournament_ids)
    # the labelled conversations only
    conversations = store.existing_conversations([row[1] for row in rows])
    arena = store.arena_id
    for row in rows:
        (label_id, cid, who, action, label, tags, turn, note, source, forced, undoes, created_at) = row
        if cid not in conversations or (wanted is not None and conversations[cid].tournament_id not in wanted):
            continue
        yield {
            "format": LABELS_FORMAT, "arena_id": arena, "event_uid": uids[label_id], "conversation_id": cid,
            "annotator": who, "action": action, "label": label, "tags": json.loads(tags),
            "turn": None if turn is None else turn_number(turn), "note": note, "created_at": created_at, "source": source, "forced": bool(forced),
            "undoes_uid": uids.get(undoes) if undoes is not None else None,
        }


def write_labels(store: Store, out: str | Path, tournament_ids: Sequence[int] | None = None, *,
                 current_of: str | None = None) -> int:
    """Write `export_labels` to the file `out` (atomically, one event per line); returns
    the number of events written."""
    n = 0
    with atomic_writer(Path(out)) as fh:
        for event in export_labels(store, tournament_ids, current_of=current_of):
            fh.write(json.dumps(event, ensure_ascii=False) + "\n")
            n += 1
    return n


_REQUIRED = {"arena_id": str, "event_uid": str, "conversation_id": int, "annotator": str, "action": str,
             "created_at": (int, float), "source": str}


def import_labels(store: Store, lines: Iterable[str], *, origin: str = "labels") -> MergeResult:
    """Validate every line of a labels JSONL file, then append the new events in one
    transaction (each with its uid, so importing twice adds nothing). Raises `PackError`
    naming the first bad line; nothing is written then. Format 2 lines number `turn` from
    1, format 1 lines (and lines without a format) from 0."""
    arena = store.arena_id
    uids = _uids(store)
    known = {uid: label_id for label_id, uid in uids.items()}
    tournaments = {t.id: (t, t.settings.evaluation) for t in store.tournaments()}
    result = MergeResult()
    batch: list[dict[str, Any]] = []
    position: dict[str, int] = {}
    conv_cache: dict[int, Any] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{origin} line {number}"
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise PackError(f"{where}: not JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise PackError(f"{where}: expected an object")
        problem = surrogate_problem(record)
        if problem:
            raise PackError(f"{where}: {problem}")
        for key, kind in _REQUIRED.items():
            if not isinstance(record.get(key), kind) or isinstance(record.get(key), bool):
                raise PackError(f"{where}: {key!r} is missing or not a {getattr(kind, '__name__', 'number')}")
        fmt = record.get("format", 1)
        if fmt not in LABELS_FORMATS_READ:
            raise PackError(f"{where}: labels format {fmt!r} is not one this version reads "
                            f"({', '.join(map(str, LABELS_FORMATS_READ))}); update arena-tui")
        turn = record.get("turn")
        if fmt >= 2 and isinstance(turn, int) and not isinstance(turn, bool):
            turn = turn_index(turn)
        if record["arena_id"] != arena:
            raise PackError(f"{where}: labels of another arena ({record['arena_id']}), not of {store.path}")
        uid = record["event_uid"]
        if uid in known or uid in position:
            result.already_merged += 1
            continue
        cid = record["conversation_id"]
        if cid not in conv_cache:
            conv_cache[cid] = store.conversation(cid)
        conv = conv_cache[cid]
        if conv is None:
            raise PackError(f"{where}: unknown conversation {cid}")
        _, settings = tournaments[conv.tournament_id]
        who, action = record["annotator"], record["action"]
        if who not in settings.annotators + settings.adjudicators:
            raise PackError(f"{where}: annotator {who!r} is not on the roster")
        tags = record.get("tags") or []
        _check_event(where, action, record.get("label"), tags, turn, settings, conv.n_turns)
        event: dict[str, Any] = {
            "conversation_id": cid, "annotator": who, "action": action, "label": record.get("label"), "tags": tags,
            "turn": turn, "note": record.get("note") or "", "source": record["source"],
            "forced": bool(record.get("forced")), "created_at": float(record["created_at"]), "uid": uid,
        }
        if action == "undo":
            _resolve_undo(where, event, record.get("undoes_uid"), known, position)
        position[uid] = len(batch)
        batch.append(event)
        result.tournament_ids.add(conv.tournament_id)
    if batch:
        store.append_labels(batch)
    result.appended = len(batch)
    return result


def label_summary(events: Iterable[LabelEvent]) -> dict[int, dict[str, str | None]]:
    """conversation -> annotator -> current label (for comparisons and tests)."""
    return {cid: {who: ev.label for who, ev in by.items()} for cid, by in current_labels(events).items()}
