"""Data products: the fine-tuning `export`, `import` of conversations made elsewhere,
team `feedback` and the dataset `report`."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from arena_tui.cli.common import (
    DB_OPTION,
    TOURNAMENT_OPTION,
    ArenaError,
    existing_store,
    make_progress,
    pick_tournaments,
)
from arena_tui.common.safe import inert


@click.command("export")
@DB_OPTION
@TOURNAMENT_OPTION
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="JSONL file to write (required unless --dry-run); its folder gets the dataset card README.md.")
@click.option("--format", "fmt", type=click.Choice(["chat-jsonl", "jsonl", "preference"]), default="chat-jsonl",
              show_default=True,
              help="chat-jsonl: messages with user/assistant roles (SFT); jsonl: native attacker/defender turns; "
                   "preference: TRL prompt/chosen/rejected pairs built at the turn where an attack landed.")
@click.option("--filter", "filters", multiple=True, metavar="FILTER",
              help="Repeatable: no-vulnerable-code, no-malicious-assistance, complete-only (default), all-statuses, "
                   "verdict=attack|defense, kind=practice|official.")
@click.option("--include-undecided", is_flag=True,
              help="Also write conversations without a verdict (nobody reviewed them; incomplete ones included).")
@click.option("--system-prompt", metavar="TEXT", help="A system message put first in every chat (chat-jsonl, preference).")
@click.option("--drop-trailing-attacker", is_flag=True,
              help="End every chat on the defender's reply: drop a last attacker turn nobody answered (chat-jsonl).")
@click.option("--parquet", is_flag=True, help="Also write the records as Parquet beside the JSONL (needs the 'parquet' extra).")
@click.option("--dedup", is_flag=True,
              help="Drop near-duplicate conversations (MinHash over word 3-grams; needs the 'dedup' extra).")
@click.option("--dedup-threshold", type=click.FloatRange(0, 1, min_open=True), default=0.8, show_default=True,
              help="Estimated Jaccard similarity at which --dedup counts two records as near-duplicates.")
@click.option("--license", "license_id", metavar="ID",
              help="The prompts' licence for the dataset card (an SPDX id such as mit; default: unknown).")
@click.option("--no-card", is_flag=True, help="Do not write the dataset card (README.md) beside the output.")
@click.option("--dry-run", is_flag=True, help="Only count what would be written.")
def export_command(db: str, tournament: str | None, output: str | None, fmt: str, filters: tuple[str, ...],
                   include_undecided: bool, system_prompt: str | None, drop_trailing_attacker: bool, parquet: bool,
                   dedup: bool, dedup_threshold: float, license_id: str | None, no_card: bool, dry_run: bool) -> None:
    """Write conversations as fine-tuning data (the defender is the assistant), or
    preference pairs, with a dataset card (README.md) beside them.

    Only decided conversations (a verdict from the static stage or the annotators) are
    written unless --include-undecided. Streams the store page by page and writes
    through temp files renamed at the end, so an interrupted export leaves nothing
    half-written. A README.md in the output folder that the export did not write is
    never overwritten: the export refuses (or pass --no-card).
    """
    from core.data.export import (
        ExportError,
        ExportFilters,
        ExportOptions,
        export_conversations,
        export_dataset,
    )

    if output is None and not dry_run:
        raise ArenaError("give --output FILE (or --dry-run to only count)")
    options = ExportOptions(system_prompt=system_prompt, drop_trailing_attacker=drop_trailing_attacker,
                            parquet=parquet, dedup_threshold=dedup_threshold if dedup else None)
    console = Console(highlight=False, stderr=True)
    card = None
    with existing_store(db) as store:
        ids = [t.id for t in pick_tournaments(store, tournament)]
        try:
            parsed = ExportFilters.parse(filters, include_undecided=include_undecided)
            with make_progress(console, "export") as progress:
                task = progress.add_task("export", total=None)

                def show(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total)

                if dry_run:
                    summary = export_conversations(store, ids, parsed, None, fmt=fmt, options=options, progress=show)
                else:
                    summary, card = export_dataset(store, ids, parsed, Path(output), fmt=fmt, options=options,
                                                   card=not no_card, license_id=license_id, filter_specs=filters,
                                                   progress=show)
        except ExportError as exc:
            raise ArenaError(str(exc)) from None
    dropped = ", ".join(f"{why}: {n}" for why, n in sorted(summary.dropped.items())) or "none"
    verb = "would write" if dry_run else "wrote"
    where = "" if dry_run else f" to {output}"
    if fmt == "preference":
        sources = ", ".join(f"{source.replace('_', ' ')}: {summary.chosen_sources.get(source, 0)}"
                            for source in ("held_defender", "annotator"))
        click.echo(inert(f"{verb} {summary.written} preference pairs from {summary.considered} attack successes{where}"
                         f" (chosen from {sources}; dropped: {dropped})"))
    else:
        click.echo(inert(f"{verb} {summary.written} of {summary.considered} conversations{where}"
                         f": {summary.decided} decided, {summary.undecided} undecided (dropped: {dropped})"))
    if card is not None:
        click.echo(inert(f"wrote the dataset card {card}"), err=True)
    left_out = summary.dropped.get("undecided", 0)
    if left_out:
        click.echo(f"{left_out} undecided conversations (no verdict: nobody reviewed them) were left out; label them "
                   "(arena-tui annotate) or pass --include-undecided", err=True)


@click.command("safe-reply")
@DB_OPTION
@click.option("--annotator", "-a", required=True, help="Who wrote the reply (must be in the tournament's roster).")
@click.argument("conversation_id", type=int)
@click.option("--turn", required=True, type=int,
              help="The defender reply it replaces, numbered from 1 as in the transcript view (an even number).")
@click.option("--text", help="The safe reply.")
@click.option("--file", "file", type=click.Path(dir_okay=False, exists=True), help="Read the safe reply from this UTF-8 file.")
def safe_reply_command(db: str, annotator: str, conversation_id: int, turn: int, text: str | None, file: str | None) -> None:
    """Record a safe reply an annotator wrote in place of a defender reply: the chosen
    side of the preference pair built at that turn (`arena-tui export --format preference`).

    CONVERSATION_ID is the id `arena-tui queue` and the TUI show. Append-only; the latest
    reply written for a turn is the one used (`w` in `arena-tui annotate` does the same).
    """
    from core.data.preference import SafeReplyError, record_safe_reply
    from core.turns import turn_index

    if (text is None) == (file is None):
        raise ArenaError("give the reply with --text or --file (one of them)")
    if file is not None:
        try:
            text = Path(file).read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ArenaError(f"{file}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at byte {exc.start})") from None
    with existing_store(db) as store:
        try:
            reply_id = record_safe_reply(store, conversation_id, annotator, turn_index(turn), text or "")
        except SafeReplyError as exc:
            raise ArenaError(str(exc)) from None
    click.echo(inert(f"saved safe reply {reply_id} for turn {turn} of conversation {conversation_id} by {annotator}"))


# --- import --------------------------------------------------------------------------------


@click.command("import")
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
    from core.data.importer import ImportError_, check_name, import_conversations, parse_lines

    try:
        check_name(name or Path(file).stem)
        with open(file, "rb") as fh:  # decoded line by line: a bad line is reported with its number
            parsed = parse_lines(fh, skip_invalid=skip_invalid, origin=Path(file).name)
    except ImportError_ as exc:
        raise ArenaError(str(exc)) from None
    from arena_tui.cli.common import open_store

    with open_store(db) as store:
        evaluation = None if like is None else pick_tournaments(store, like)[0].settings.evaluation
        try:
            tid = import_conversations(store, parsed, name=name or Path(file).stem, kind=kind, evaluation=evaluation)
        except ImportError_ as exc:
            raise ArenaError(str(exc)) from None
    for message in parsed.skipped:
        click.echo(inert(f"skipped {message}"), err=True)
    skipped = f", skipped {len(parsed.skipped)} invalid lines (listed above)" if parsed.skipped else ""
    click.echo(f"imported {len(parsed.conversations)} conversations ({len(parsed.pairs)} matchups) as tournament "
               f"{name or Path(file).stem!r} (id {tid}){skipped}; next: arena-tui evaluate --db {db}")


# --- team feedback -------------------------------------------------------------------------


@click.command("feedback")
@DB_OPTION
@TOURNAMENT_OPTION
@click.option("--season", help="Over the rounds of this season: also the team's trend, weakest matchups and "
                               "examples of its failures (season.md, season.json, failures.jsonl).")
@click.option("--team", required=True, help="The team (bot name) to write feedback for.")
@click.option("--output", "-o", required=True, type=click.Path(file_okay=False), help="Folder to write into (created).")
@click.option("--resamples", default=1000, show_default=True, type=click.IntRange(100, 100_000), help="Bootstrap resamples for the intervals.")
def feedback_command(db: str, tournament: str | None, season: str | None, team: str, output: str, resamples: int) -> None:
    """Write one team's conversations, verdicts, findings and standings (and the human labels
    where the tournament shares them) as JSONL plus a markdown summary; with --season, its
    progression over the season too. Never another team's data."""
    from core.data.feedback import FeedbackError, write_feedback

    if season is not None and tournament is not None:
        raise ArenaError("give --season or --tournament, not both")
    with existing_store(db) as store:
        if season is not None:
            from core.season.feedback import write_season_feedback
            from core.season.summary import SeasonError

            try:
                result = write_season_feedback(store, team, season, Path(output), n_boot=resamples)
            except (FeedbackError, SeasonError) as exc:
                raise ArenaError(str(exc)) from None
            click.echo(inert(f"wrote {result.conversations.conversations} conversations, {result.failures} failure "
                             f"examples and the season's trend for {team} to {output} (labels "
                             f"{'shared' if result.conversations.labels_shared else 'not shared'})"))
            return
        ids = [t.id for t in pick_tournaments(store, tournament)]
        try:
            summary = write_feedback(store, team, ids, Path(output), n_boot=resamples)
        except FeedbackError as exc:
            raise ArenaError(str(exc)) from None
    click.echo(inert(f"wrote {summary.conversations} conversations for {team} to {output} "
                     f"(labels {'shared' if summary.labels_shared else 'not shared'})"))


# --- dataset report ------------------------------------------------------------------------


@click.command("report")
@DB_OPTION
@TOURNAMENT_OPTION
@click.option("--season", help="The rounds of this season (see arena-tui season) instead of --tournament.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Markdown file to write (default: print it).")
@click.option("--resamples", default=1000, show_default=True, type=click.IntRange(100, 100_000), help="Bootstrap resamples for the intervals.")
@click.option("--embedding", default="ngram", show_default=True, metavar="ngram|st:MODEL",
              help="Diversity embedding: offline character n-gram TF-IDF, or a sentence-transformers model already installed.")
@click.option("--no-charts", is_flag=True, help="With --output, write the markdown alone (no SVG charts beside it).")
def report_command(db: str, tournament: str | None, season: str | None, output: str | None, resamples: int,
                   embedding: str, no_charts: bool) -> None:
    """Dataset report: counts and attack successes by reason, agreement, semantic diversity, analyzer audit.

    With --output, the season's charts (scores per round, successes by reason, pairwise
    agreement, response times) are written as SVG files next to the markdown
    (report.md: report.attackers.svg, ...) and linked from it; the tournaments are the
    rounds, in the order they were created (or the season's order with --season)."""
    from core.data.export import atomic_writer
    from core.data.report import build_report, sentence_transformer_embedder, to_markdown

    if season is not None and tournament is not None:
        raise ArenaError("give --season or --tournament, not both")
    embed, name = None, None
    if embedding.startswith("st:"):
        try:
            embed = sentence_transformer_embedder(embedding[3:])
        except Exception as exc:  # noqa: BLE001 - any failure to load an optional model is a user error
            raise ArenaError(f"cannot load sentence-transformers model {embedding[3:]!r}: {str(exc).splitlines()[0] if str(exc) else exc!r}") from None
        name = f"sentence-transformers {embedding[3:]}, cosine distance"
    elif embedding != "ngram":
        raise ArenaError(f"unknown embedding {embedding!r} (ngram or st:MODEL)")
    charts = output is not None and not no_charts
    with existing_store(db) as store:
        from core.season.summary import (
            SeasonError,
            season_rounds,
            summarize_rounds,
            tournament_rounds,
        )

        try:
            rounds = season_rounds(store, season) if season is not None else \
                tournament_rounds(store, [t.id for t in pick_tournaments(store, tournament)])
        except SeasonError as exc:
            raise ArenaError(str(exc)) from None
        ids = [r.tournament_id for r in rounds]
        # Progress on stderr (shown on a terminal only): the markdown may go to stdout.
        with make_progress(Console(highlight=False, stderr=True), "report: {task.fields[step]}") as progress:
            task = progress.add_task("report", total=None, step="")
            if charts:  # the season summary holds the dataset report and what the charts draw
                summary = summarize_rounds(store, season or "report", rounds, n_boot=resamples, embed=embed,
                                           embedding_name=name,
                                           progress=lambda done, total, step: progress.update(
                                               task, completed=done, total=total, step=inert(step)))
                report = summary.report
            else:
                report = build_report(store, ids, resamples=resamples, embed=embed, embedding_name=name,
                                      progress=lambda done, total, step: progress.update(
                                          task, completed=done, total=total, step=inert(step)))
        text = to_markdown(report)
    if output is None:
        click.echo(inert(text), nl=False)  # names in it are hostile text
        return
    written = []
    if charts:
        from arena_tui.common.charts import charts_markdown, write_chart_files

        written = write_chart_files(summary, Path(output))
        text += charts_markdown(written)
    with atomic_writer(Path(output)) as fh:
        fh.write(text)
    click.echo(f"wrote {output}" + (f" and {len(written)} charts ({', '.join(p.name for _, p in written)})"
                                     if written else ""))
