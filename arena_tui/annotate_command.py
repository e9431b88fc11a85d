"""`arena-tui annotate`: label the review queue in the Textual app."""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from arena_tui.cli import DEFAULT_DB, ArenaError, existing_store, main


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
    from core.evaluation import EvaluationError, check_annotator, roster

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
    from arena_tui.app import AnnotateApp

    return AnnotateApp(store_path, annotator)


@main.command()
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
