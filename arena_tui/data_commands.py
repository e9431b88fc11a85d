"""Data commands: annotation packs, labels JSONL, fine-tuning export, import, team
feedback and the dataset report. Thin shells over `core.packs`, `core.export`,
`core.importer`, `core.feedback` and `core.report`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console

from arena_tui.cli import (
    DB_OPTION,
    TOURNAMENT_OPTION,
    ArenaError,
    _print_agreement,
    existing_store,
    main,
    pick_tournaments,
)
from arena_tui.safe import inert, inert_text


def _console() -> Console:
    return Console(highlight=False)


# --- packs ------------------------------------------------------------------------------


@main.group()
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
    from core.packs import PackError, export_pack

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
    from core.packs import PackError, merge_packs

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
    from core.evaluation import agreement, agreement_shortfall, refresh_verdicts

    console = _console()
    console.print(inert_text(f"appended {result.appended} label events ({result.already_merged} were already merged, "
                             f"{result.skipped} skipped)"), soft_wrap=True)
    for conflict in result.conflicts:
        console.print(inert_text(f"conflict: {conflict}", style="yellow"), soft_wrap=True)
    for t in store.tournaments():
        if t.id in result.tournament_ids:
            refresh_verdicts(store, t.id)
            _print_agreement(console, t.name, agreement(store, t.id, resamples=resamples), agreement_shortfall(store, t.id))


# --- labels JSONL -------------------------------------------------------------------------


@main.group()
def labels() -> None:
    """Label events as JSONL: export them, import them (idempotent)."""


@labels.command("export")
@DB_OPTION
@TOURNAMENT_OPTION
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="File to write (default: standard output).")
def labels_export(db: str, tournament: str | None, output: str | None) -> None:
    """Write the label log as JSONL, one event per line, with the arena id and an event uid."""
    from core.export import atomic_writer
    from core.packs import export_labels

    with existing_store(db) as store:
        ids = [t.id for t in pick_tournaments(store, tournament)]
        events = export_labels(store, ids)
        if output is None:
            for event in events:
                click.echo(json.dumps(event, ensure_ascii=False))
            return
        n = 0
        with atomic_writer(Path(output)) as fh:
            for event in events:
                fh.write(json.dumps(event, ensure_ascii=False) + "\n")
                n += 1
    click.echo(f"wrote {n} label events to {output}", err=True)


@labels.command("import")
@DB_OPTION
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--resamples", default=1000, show_default=True, type=click.IntRange(100, 100_000),
              help="Bootstrap resamples for the agreement intervals.")
def labels_import(db: str, file: str, resamples: int) -> None:
    """Append the label events of a JSONL FILE (from `labels export`); every line is
    checked first and events already present are skipped."""
    from core.packs import PackError, import_labels

    with existing_store(db) as store:
        try:
            with open(file, encoding="utf-8") as fh:
                result = import_labels(store, fh, origin=Path(file).name)
        except UnicodeDecodeError:
            raise ArenaError(f"{file} is not UTF-8 text") from None
        except PackError as exc:
            raise ArenaError(str(exc)) from None
        _after_label_merge(store, result, resamples)


# --- fine-tuning export --------------------------------------------------------------------


def _progress(console: Console, description: str):  # noqa: ANN202
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    # markup=False: the description may hold names (hostile text). Off the terminal (a
    # pipe, a log file) there is no progress display at all.
    return Progress(TextColumn(description, markup=False), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True, disable=not console.is_terminal)


@main.command("export")
@DB_OPTION
@TOURNAMENT_OPTION
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="JSONL file to write (required unless --dry-run).")
@click.option("--format", "fmt", type=click.Choice(["chat-jsonl", "jsonl"]), default="chat-jsonl", show_default=True,
              help="chat-jsonl: messages with user/assistant roles (HF datasets); jsonl: native attacker/defender turns.")
@click.option("--filter", "filters", multiple=True, metavar="FILTER",
              help="Repeatable: no-vulnerable-code, no-malicious-assistance, complete-only (default), all-statuses, "
                   "verdict=attack|defense, kind=practice|official.")
@click.option("--include-undecided", is_flag=True,
              help="Also write conversations without a verdict (nobody reviewed them; incomplete ones included).")
@click.option("--dry-run", is_flag=True, help="Only count what would be written.")
def export_command(db: str, tournament: str | None, output: str | None, fmt: str, filters: tuple[str, ...],
                   include_undecided: bool, dry_run: bool) -> None:
    """Write conversations as fine-tuning data (the defender is the assistant).

    Only decided conversations (a verdict from the static stage or the annotators) are
    written unless --include-undecided. Streams the store page by page and writes
    through a temp file renamed at the end, so an interrupted export leaves nothing
    half-written.
    """
    from core.export import ExportError, ExportFilters, export_conversations

    if output is None and not dry_run:
        raise ArenaError("give --output FILE (or --dry-run to only count)")
    console = Console(highlight=False, stderr=True)
    with existing_store(db) as store:
        ids = [t.id for t in pick_tournaments(store, tournament)]
        try:
            parsed = ExportFilters.parse(filters, include_undecided=include_undecided)
            with _progress(console, "export") as progress:
                task = progress.add_task("export", total=None)
                summary = export_conversations(
                    store, ids, parsed, None if dry_run else Path(output), fmt=fmt,
                    progress=lambda done, total: progress.update(task, completed=done, total=total),
                )
        except ExportError as exc:
            raise ArenaError(str(exc)) from None
    dropped = ", ".join(f"{why}: {n}" for why, n in sorted(summary.dropped.items())) or "none"
    verb = "would write" if dry_run else "wrote"
    click.echo(f"{verb} {summary.written} of {summary.considered} conversations" + ("" if dry_run else f" to {output}")
               + f": {summary.decided} decided, {summary.undecided} undecided (dropped: {dropped})")
    left_out = summary.dropped.get("undecided", 0)
    if left_out:
        click.echo(f"{left_out} undecided conversations (no verdict: nobody reviewed them) were left out; label them "
                   "(arena-tui annotate) or pass --include-undecided", err=True)


# --- import --------------------------------------------------------------------------------


@main.command("import")
@DB_OPTION
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--tournament", "-t", "name", help="Name of the new tournament (default: the file name without extension).")
@click.option("--kind", type=click.Choice(["practice", "official"]), default="practice", show_default=True,
              help="Kind of the new tournament.")
@click.option("--like", "like", help="Copy the evaluation settings (roster, labels, tags, guidelines) of this tournament.")
@click.option("--skip-invalid", is_flag=True, help="Import the valid records and report the bad ones, instead of refusing the file.")
def import_command(db: str, file: str, name: str | None, kind: str, like: str | None, skip_invalid: bool) -> None:
    """Load conversations from a JSONL FILE (chat or native format) as a new tournament.

    Every record is checked first; a bad record is reported with its line number and
    nothing is written (unless --skip-invalid). Then run `arena-tui evaluate`.
    """
    from core.importer import ImportError_, check_name, import_conversations, parse_lines

    try:
        check_name(name or Path(file).stem)
        with open(file, "rb") as fh:  # decoded line by line: a bad line is reported with its number
            parsed = parse_lines(fh, skip_invalid=skip_invalid, origin=Path(file).name)
    except ImportError_ as exc:
        raise ArenaError(str(exc)) from None
    from arena_tui.cli import open_store

    with open_store(db) as store:
        settings = None
        if like is not None:
            source = pick_tournaments(store, like)[0]
            settings = {"evaluation": source.settings.get("evaluation", {}), "imported": True}
        try:
            tid = import_conversations(store, parsed, name=name or Path(file).stem, kind=kind, settings=settings)
        except ImportError_ as exc:
            raise ArenaError(str(exc)) from None
    for message in parsed.skipped:
        click.echo(inert(f"skipped {message}"), err=True)
    skipped = f", skipped {len(parsed.skipped)} invalid lines (listed above)" if parsed.skipped else ""
    click.echo(f"imported {len(parsed.conversations)} conversations ({len(parsed.pairs)} matchups) as tournament "
               f"{name or Path(file).stem!r} (id {tid}){skipped}; next: arena-tui evaluate --db {db}")


# --- team feedback -------------------------------------------------------------------------


@main.command("feedback")
@DB_OPTION
@TOURNAMENT_OPTION
@click.option("--team", required=True, help="The team (bot name) to write feedback for.")
@click.option("--output", "-o", required=True, type=click.Path(file_okay=False), help="Folder to write into (created).")
@click.option("--resamples", default=1000, show_default=True, type=click.IntRange(100, 100_000), help="Bootstrap resamples for the intervals.")
def feedback_command(db: str, tournament: str | None, team: str, output: str, resamples: int) -> None:
    """Write one team's conversations, verdicts, findings and standings (and the human labels
    where the tournament shares them) as JSONL plus a markdown summary."""
    from core.feedback import FeedbackError, write_feedback

    with existing_store(db) as store:
        ids = [t.id for t in pick_tournaments(store, tournament)]
        try:
            summary = write_feedback(store, team, ids, Path(output), n_boot=resamples)
        except FeedbackError as exc:
            raise ArenaError(str(exc)) from None
    click.echo(inert(f"wrote {summary.conversations} conversations for {team} to {output} "
                     f"(labels {'shared' if summary.labels_shared else 'not shared'})"))


# --- dataset report ------------------------------------------------------------------------


@main.command("report")
@DB_OPTION
@TOURNAMENT_OPTION
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Markdown file to write (default: print it).")
@click.option("--resamples", default=1000, show_default=True, type=click.IntRange(100, 100_000), help="Bootstrap resamples for the intervals.")
@click.option("--embedding", default="ngram", show_default=True, metavar="ngram|st:MODEL",
              help="Diversity embedding: offline character n-gram TF-IDF, or a sentence-transformers model already installed.")
def report_command(db: str, tournament: str | None, output: str | None, resamples: int, embedding: str) -> None:
    """Dataset report: counts and attack successes by reason, agreement, semantic diversity, analyzer audit."""
    from core.export import atomic_writer
    from core.report import build_report, sentence_transformer_embedder, to_markdown

    embed, name = None, None
    if embedding.startswith("st:"):
        try:
            embed = sentence_transformer_embedder(embedding[3:])
        except Exception as exc:  # noqa: BLE001 - any failure to load an optional model is a user error
            raise ArenaError(f"cannot load sentence-transformers model {embedding[3:]!r}: {str(exc).splitlines()[0] if str(exc) else exc!r}") from None
        name = f"sentence-transformers {embedding[3:]}, cosine distance"
    elif embedding != "ngram":
        raise ArenaError(f"unknown embedding {embedding!r} (ngram or st:MODEL)")
    with existing_store(db) as store:
        ids = [t.id for t in pick_tournaments(store, tournament)]
        # Progress on stderr (shown on a terminal only): the markdown may go to stdout.
        with _progress(Console(highlight=False, stderr=True), "report: {task.fields[step]}") as progress:
            task = progress.add_task("report", total=None, step="")
            report = build_report(store, ids, resamples=resamples, embed=embed, embedding_name=name,
                                  progress=lambda done, total, step: progress.update(task, completed=done, total=total,
                                                                                     step=inert(step)))
        text = to_markdown(report)
    if output is None:
        click.echo(inert(text), nl=False)  # names in it are hostile text
        return
    with atomic_writer(Path(output)) as fh:
        fh.write(text)
    click.echo(f"wrote {output}")
