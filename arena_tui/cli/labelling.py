"""Labelling: `annotate` (and the factory of the annotate app the tests reuse),
`label`, `queue`, annotation packs (`pack export`/`pack merge`) and the label log as
JSONL (`labels export`/`labels import`)."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from arena_tui.cli.common import (
    DB_OPTION,
    DEFAULT_DB,
    TOURNAMENT_OPTION,
    ArenaError,
    existing_store,
    make_console,
    pick_tournaments,
)
from arena_tui.cli.evaluation import print_agreement
from arena_tui.common.safe import inert, inert_text


def annotator_key() -> str:
    """The store setting that remembers the annotator of this computer account: several
    people may label one shared store, each from their own account."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers)
        user = "default"
    return f"annotate.annotator.{user}"


def make_annotate_app(store_path: str | Path, annotator: str | None = None):  # noqa: ANN201 - keeps Textual out of CLI start-up
    """The annotate app for `annotator` on the store at `store_path`.

    Without `annotator`: on a pack, the pack's annotator; otherwise the name last used on
    this store from this account. Raises `ArenaError` when the store is missing, no name
    is given or remembered, the name is on no tournament's roster (annotators and
    adjudicators), or the store is another annotator's pack. The name is remembered in
    the store. Used by the command and by the tests.
    """
    from core.evaluation.pipeline import EvaluationError, check_annotator, roster

    with existing_store(str(store_path)) as store:
        owner = store.meta_get("pack_annotator")  # a pack is one annotator's
        if owner is not None and annotator not in (None, owner):
            raise ArenaError(f"{store_path} is the pack of {owner!r}, not of {annotator!r}: open it with --annotator"
                             f" {owner!r}, or ask for a pack of your own (arena-tui pack export -a {annotator!r})")
        annotator = annotator or owner
        if annotator is None:
            annotator = store.meta_get(annotator_key())
            if annotator is None:
                raise ArenaError(f"who is labelling? give --annotator NAME the first time on this store"
                                 f" (roster: {', '.join(roster(store.tournaments())) or 'none configured'})")
        try:
            check_annotator(annotator, store.tournaments())
        except EvaluationError as exc:
            raise ArenaError(str(exc)) from None
        if store.meta_get(annotator_key()) != annotator:
            store.meta_set(annotator_key(), annotator)
    from arena_tui.annotate.app import AnnotateApp

    return AnnotateApp(store_path, annotator)


@click.command()
@click.argument("store", required=False, type=click.Path(dir_okay=False))
@click.option("--db", default=None, type=click.Path(dir_okay=False), help=f"Arena store (SQLite); same as STORE [default: {DEFAULT_DB}].")
@click.option("--annotator", "-a", default=None,
              help="Your name, as on the tournament's annotator roster; remembered for this store after the first time.")
def annotate(store: str | None, db: str | None, annotator: str | None) -> None:
    """Label the review queue of STORE in a keyboard-first terminal UI.

    Opens at your first item not yet labelled. One key per label (shown in the footer),
    u undoes, ? lists every key, ctrl+p opens the command palette. Each label is saved
    the moment you press its key.
    """
    if store and db and store != db:
        raise ArenaError("give the store either as STORE or with --db, not both")
    path = store or db
    if path is None:
        if not Path(DEFAULT_DB).exists():
            raise ArenaError(f"no {DEFAULT_DB} here: give the store (arena-tui annotate STORE), or make one with"
                             f" `arena-tui run CONFIG` then `arena-tui evaluate`")
        path = DEFAULT_DB
    make_annotate_app(path, annotator).run()


@click.command()
@DB_OPTION
@click.option("--annotator", "-a", required=True, help="Who is labelling (must be in the tournament's roster).")
@click.argument("conversation_id", type=int)
@click.argument("label", required=False)
@click.option("--tag", "tags", multiple=True, help="A tag from the config's tag set (repeatable).")
@click.option("--turn", type=int, help="Turn where the attack landed, numbered from 1 as in the transcript view.")
@click.option("--note", default="", help="Free-text note.")
@click.option("--force", is_flag=True, help="Label an item not assigned to this annotator (recorded as forced).")
@click.option("--undo", is_flag=True, help="Undo this annotator's current label on the item instead.")
def label(db: str, annotator: str, conversation_id: int, label: str | None, tags: tuple[str, ...], turn: int | None,
          note: str, force: bool, undo: bool) -> None:
    """Label one conversation (scriptable; the TUI does the same).

    CONVERSATION_ID is the id `arena-tui queue` and the TUI show; LABEL one of the
    tournament's labels (e.g. attack or defense). Labels are append-only: relabelling
    adds an event, --undo adds an undo event.
    """
    from core.evaluation.pipeline import EvaluationError, record_label, refresh_verdicts, undo_label
    from core.turns import turn_index

    with existing_store(db) as store:
        try:
            if undo:
                if label is not None:
                    raise ArenaError("give either a LABEL or --undo, not both")
                event = undo_label(store, conversation_id, annotator)
            else:
                if label is None:
                    raise ArenaError("missing LABEL (or --undo)")
                event = record_label(store, conversation_id, annotator, label, tags=tags,
                                     turn=None if turn is None else turn_index(turn), note=note, force=force)
        except EvaluationError as exc:
            raise ArenaError(str(exc)) from None
        conv = store.conversation(conversation_id)
        verdict = {v.conversation_id: v for v in refresh_verdicts(store, conv.tournament_id)}[conversation_id]
    state = verdict.verdict or f"undecided ({verdict.reason})"
    click.echo(f"saved label event {event}; conversation {conversation_id} verdict: {state}")


@click.command()
@DB_OPTION
@TOURNAMENT_OPTION
@click.option("--annotator", "-a", required=True, help="Whose queue to show.")
@click.option("--all", "show_all", is_flag=True, help="Include items already labelled.")
def queue(db: str, tournament: str | None, annotator: str, show_all: bool) -> None:
    """List the conversations assigned to an annotator (to do first), with matchup and findings."""
    from core.evaluation.pipeline import EvaluationError, check_annotator
    from core.store.annotate import QUEUE_TO_DO, STATUS_WORDS, QueueFilter

    console = Console(highlight=False)
    table = Table(title=inert_text(f"Queue of {annotator}"), title_justify="left")
    for column in ("id", "tournament", "attacker", "defender", "kind", "turns", "findings", "status"):
        table.add_column(column, justify="right" if column in ("id", "turns", "findings") else "left")
    todo = done = 0
    with existing_store(db) as store:
        chosen = pick_tournaments(store, tournament)
        try:
            check_annotator(annotator, chosen)
        except EvaluationError as exc:
            raise ArenaError(str(exc)) from None
        for t in chosen:
            ids, statuses = store.annotator_queue_ids(annotator, QueueFilter(tournament_id=t.id))
            shown = [(cid, status) for cid, status in zip(ids, statuses, strict=True)
                     if show_all or status == QUEUE_TO_DO]
            todo += sum(1 for status in statuses if status == QUEUE_TO_DO)
            done += sum(1 for status in statuses if status != QUEUE_TO_DO)
            rows = store.queue_rows([cid for cid, _ in shown], annotator)
            findings = store.finding_counts([cid for cid, _ in shown])
            for cid, status in sorted(shown, key=lambda item: (item[1] != QUEUE_TO_DO, item[0])):
                row = rows[cid]
                table.add_row(str(cid), inert_text(row.tournament), inert_text(row.attacker), inert_text(row.defender),
                              row.kind, str(row.n_turns), str(findings.get(cid, 0)), STATUS_WORDS[status])
    console.print(table)
    console.print(f"{todo} to do, {done} done")


# --- packs ------------------------------------------------------------------------------


@click.group()
def pack() -> None:
    """Annotation packs: label on a machine with no network, merge the labels back."""


@pack.command("export")
@DB_OPTION
@TOURNAMENT_OPTION
@click.option("--annotator", "-a", required=True, help="Whose assigned conversations go into the pack.")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), help="Pack file to write.")
def pack_export(db: str, tournament: str | None, annotator: str, output: str) -> None:
    """Write one annotator's queue to a self-contained pack file.

    The pack is an arena store: label it with `arena-tui annotate PACK --annotator NAME`,
    then bring it back with `arena-tui pack merge PACK`.
    """
    from core.data.packs import PackError, export_pack

    with existing_store(db) as store:
        ids = [t.id for t in pick_tournaments(store, tournament)]
        try:
            summary = export_pack(store, annotator, output, ids)
        except PackError as exc:
            raise ArenaError(str(exc)) from None
    click.echo(inert_text(f"wrote pack {summary.pack_id} for {annotator}: {summary.conversations} conversations, "
                          f"{summary.labels} earlier labels, to {output}").plain)


@pack.command("merge")
@DB_OPTION
@click.argument("packs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--resamples", default=1000, show_default=True, type=click.IntRange(100, 100_000),
              help="Bootstrap resamples for the agreement intervals.")
def pack_merge(db: str, packs: tuple[str, ...], resamples: int) -> None:
    """Merge the labels made in PACKS back into the store.

    Every pack is checked first (same arena, content intact, items still in the store);
    if any is unusable nothing is written. Merging a pack twice changes nothing. A pack
    that holds no label made after export, or whose labels may be in a journal file that
    did not travel with it, is reported with a warning and the exit code is 1 (the
    labels of the other packs are merged).
    """
    from core.data.packs import PackError, merge_packs

    with existing_store(db) as store:
        try:
            result = merge_packs(store, packs)
        except PackError as exc:
            raise ArenaError(str(exc)) from None
        _after_label_merge(store, result, resamples)
    for warning in result.warnings:
        click.echo(f"arena-tui: warning: {inert(warning)}", err=True)
    if result.warnings:
        sys.exit(1)


def _after_label_merge(store, result, resamples: int) -> None:  # noqa: ANN001
    from core.evaluation.pipeline import agreement, agreement_shortfall, refresh_verdicts

    console = make_console()
    replies = f"; {result.safe_replies} safe replies" if result.safe_replies else ""
    console.print(inert_text(f"appended {result.appended} label events ({result.already_merged} were already merged, "
                             f"{result.skipped} skipped){replies}"), soft_wrap=True)
    for conflict in result.conflicts:
        console.print(inert_text(f"conflict: {conflict}", style="yellow"), soft_wrap=True)
    for t in store.tournaments():
        if t.id in result.tournament_ids:
            refresh_verdicts(store, t.id)
            print_agreement(console, t.name, agreement(store, t.id, resamples=resamples), agreement_shortfall(store, t.id))


# --- labels JSONL -------------------------------------------------------------------------


@click.group()
def labels() -> None:
    """Label events as JSONL: export them, import them (idempotent)."""


@labels.command("export")
@DB_OPTION
@TOURNAMENT_OPTION
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="File to write (default: standard output).")
def labels_export(db: str, tournament: str | None, output: str | None) -> None:
    """Write the label log as JSONL, one event per line, with the arena id and an event uid."""
    from core.data.export import ExportError
    from core.data.packs import export_labels, write_labels

    with existing_store(db) as store:
        ids = [t.id for t in pick_tournaments(store, tournament)]
        if output is None:
            for event in export_labels(store, ids):
                click.echo(json.dumps(event, ensure_ascii=False))
            return
        try:
            n = write_labels(store, output, ids)
        except ExportError as exc:
            raise ArenaError(str(exc)) from None
    click.echo(f"wrote {n} label events to {output}", err=True)


@labels.command("import")
@DB_OPTION
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--resamples", default=1000, show_default=True, type=click.IntRange(100, 100_000),
              help="Bootstrap resamples for the agreement intervals.")
def labels_import(db: str, file: str, resamples: int) -> None:
    """Append the label events of a JSONL FILE (from `labels export`, or "Export my
    labels" in `arena-tui annotate`); every line is checked first and events already
    present are skipped."""
    from core.data.packs import PackError, import_labels

    with existing_store(db) as store:
        try:
            with open(file, encoding="utf-8") as fh:
                result = import_labels(store, fh, origin=Path(file).name)
        except UnicodeDecodeError:
            raise ArenaError(f"{file} is not UTF-8 text") from None
        except PackError as exc:
            raise ArenaError(str(exc)) from None
        _after_label_merge(store, result, resamples)
