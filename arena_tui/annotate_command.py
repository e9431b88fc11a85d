"""`arena-tui annotate`: label the review queue in the Textual app."""

from __future__ import annotations

from pathlib import Path

import click

from arena_tui.cli import DEFAULT_DB, ArenaError, existing_store, main
from core.evaluation import EvaluationSettings


def make_annotate_app(store_path: str | Path, annotator: str):  # noqa: ANN201 - keeps Textual out of CLI start-up
    """The annotate app for `annotator` on the store at `store_path`.

    Raises `ArenaError` when the store is missing or the name is on no tournament's
    roster (annotators and adjudicators). Used by the command and by the tests.
    """
    with existing_store(str(store_path)) as store:
        rosters = [EvaluationSettings.from_tournament(t) for t in store.tournaments()]
    known = sorted({name for s in rosters for name in s.annotators + s.adjudicators})
    if annotator not in known:
        raise ArenaError(f"unknown annotator {annotator!r} (roster: {', '.join(known) or 'none configured'})")
    from arena_tui.app import AnnotateApp

    return AnnotateApp(store_path, annotator)


@main.command()
@click.argument("store", required=False, type=click.Path(dir_okay=False))
@click.option("--db", default=None, type=click.Path(dir_okay=False), help=f"Arena store (SQLite); same as STORE [default: {DEFAULT_DB}].")
@click.option("--annotator", "-a", required=True, help="Your name, as on the tournament's annotator roster.")
def annotate(store: str | None, db: str | None, annotator: str) -> None:
    """Label the review queue of STORE in a keyboard-first terminal UI.

    Opens at your first item not yet labelled. One key per label (shown in the footer),
    u undoes, ? lists every key. Each label is saved the moment you press its key.
    """
    if store and db and store != db:
        raise ArenaError("give the store either as STORE or with --db, not both")
    make_annotate_app(store or db or DEFAULT_DB, annotator).run()
