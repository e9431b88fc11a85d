"""The evaluation pipeline: `evaluate` (static stage, queue, verdicts), `judge` (machine
annotators) and `agreement`."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from arena_tui.cli.common import (
    DB_OPTION,
    TOURNAMENT_OPTION,
    ArenaError,
    existing_store,
    make_progress,
    pick_tournaments,
)
from arena_tui.common.safe import inert_text


@click.command()
@DB_OPTION
@TOURNAMENT_OPTION
@click.option("--workers", type=click.IntRange(1, 64), help="Processes for the static stage (default: all cores for large batches).")
def evaluate(db: str, tournament: str | None, workers: int | None) -> None:
    """Run the static stage (bandit) on new conversations and build the review queue.

    Incremental: conversations already scanned are not scanned again, and items already
    assigned keep their annotators. Verdicts are recomputed at the end.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from core.evaluation.pipeline import build_queue, refresh_verdicts, run_static_stage

    console = Console(highlight=False)
    with existing_store(db) as store:
        for t in pick_tournaments(store, tournament):
            # The description holds the tournament's name: not markup.
            with Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=console, transient=True) as progress:
                task = progress.add_task(f"bandit: {t.name}", total=None)

                def advance(done: int, total: int, task=task) -> None:  # noqa: ANN001
                    progress.update(task, completed=done, total=total)

                static = run_static_stage(store, t.id, workers=workers, progress=advance)
            queue = build_queue(store, t.id)
            verdicts = refresh_verdicts(store, t.id)
            _print_evaluation(console, t.name, static, queue, verdicts)


def _print_evaluation(console: Console, name: str, static, queue, verdicts) -> None:  # noqa: ANN001
    from collections import Counter

    outcome = Counter((v.verdict or "undecided", v.reason) for v in verdicts)
    # What this pass did, told apart from the totals in the table below.
    scanned = (f"scanned {static.scanned} new conversations ({static.replies} replies, {static.blocks} code blocks, "
               f"{static.skipped_blocks} skipped), {static.flagged} of them flagged as vulnerable code"
               if static.scanned else "no new conversations to scan")
    queued = (f"queued {queue.review_items} for review and {queue.audit_items} for analyzer audit "
              f"({queue.assignments} assignments)" if queue.assignments else "nothing new to queue")
    console.print(inert_text(f"{name}: {scanned}; {queued}"))
    judged, held, extra = (getattr(queue, name, 0) for name in ("judge_items", "held_items", "extra_assignments"))
    if judged or held or extra:
        # Routing and adaptive assignment: what did not go to annotators, and why.
        console.print(inert_text(f"  routing: {judged} decided by the judge, {held} held until the calibration sample "
                                 f"or the judge has labelled them; adaptive: {extra} extra assignments after a "
                                 "disagreement"))
    if queue.no_roster:
        console.print("  no annotators in the config's [evaluation] roster: nothing queued", style="yellow", markup=False)
    if static.findings_by_test:
        listing = ", ".join(f"{test_id} {n}" for test_id, n in static.findings_by_test.most_common())
        console.print(inert_text(f"  new findings by bandit test: {listing}"))
    table = Table(title=f"Verdicts of all {len(verdicts)} complete conversations", title_justify="left")
    for column in ("verdict", "reason", "conversations"):
        table.add_column(column, justify="right" if column == "conversations" else "left")
    for (verdict, reason), n in sorted(outcome.items()):
        table.add_row(inert_text(verdict), reason, str(n))
    console.print(table)


@click.command()
@DB_OPTION
@TOURNAMENT_OPTION
@click.option("--judge", "judge_name", help="Only this judge (default: every judge of the tournament's [[evaluation.judges]]).")
@click.option("--concurrency", type=click.IntRange(1, 1024), help="Requests in flight at once (default: the judge's `concurrency`).")
@click.option("--retries", type=click.IntRange(0, 20), help="More attempts per item after a failure (default: the judge's `retries`).")
@click.option("--limit", type=click.IntRange(1), help="Label at most this many items in this pass.")
def judge(db: str, tournament: str | None, judge_name: str | None, concurrency: int | None, retries: int | None,
          limit: int | None) -> None:
    """Run the configured judges over the review queue.

    Incremental and resumable: items a judge has labelled are skipped, results are stored
    as they arrive, and items whose every attempt failed are tried again next time. Judge
    labels are kept apart from the annotators' and never count as human labels; the
    verdicts are recomputed at the end (a routing policy may let a trusted judge decide).
    """
    from core.evaluation.judges import JudgeError, run_judge
    from core.evaluation.pipeline import build_queue, refresh_verdicts

    console = Console(highlight=False)
    with existing_store(db) as store:
        chosen = pick_tournaments(store, tournament)
        ran = False
        for t in chosen:
            judges = t.settings.evaluation.judges
            if judge_name is not None:
                judges = tuple(j for j in judges if j.name == judge_name)
            if not judges:
                if judge_name is not None and tournament is not None:
                    known = ", ".join(j.name for j in t.settings.evaluation.judges) or "none configured"
                    raise ArenaError(f"tournament {t.name!r} has no judge {judge_name!r} (judges: {known})")
                continue
            for spec in judges:
                ran = True
                with make_progress(console, f"judge {spec.name}: {t.name}") as progress:
                    task = progress.add_task("", total=None)

                    def advance(done: int, total: int, task=task) -> None:  # noqa: ANN001
                        progress.update(task, completed=done, total=total)

                    try:
                        summary = run_judge(store, t.id, spec, concurrency=concurrency, retries=retries, limit=limit,
                                            progress=advance)
                    except JudgeError as exc:
                        raise ArenaError(f"judge {spec.name!r}: {exc}") from None
                labels = ", ".join(f"{label} {n}" for label, n in sorted((summary.by_label or {}).items()))
                line = (f"{t.name}: judge {spec.name} labelled {summary.labelled} of {summary.pending} items"
                        f" in {summary.seconds:.1f} s" + (f" ({labels})" if labels else ""))
                if summary.failed:
                    line += f"; {summary.failed} failed (tried again next time)"
                if summary.already:
                    line += f"; {summary.already} labelled earlier"
                console.print(inert_text(line), soft_wrap=True)
            build_queue(store, t.id)
            refresh_verdicts(store, t.id)
        if not ran:
            what = f"no judge {judge_name!r}" if judge_name else "no judges"
            raise ArenaError(f"{what} configured for the selected tournaments ([[evaluation.judges]] in the config)")


@click.command()
@DB_OPTION
@TOURNAMENT_OPTION
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--resamples", default=1000, show_default=True, type=click.IntRange(100, 100_000), help="Bootstrap resamples for the intervals.")
def agreement(db: str, tournament: str | None, as_json: bool, resamples: int) -> None:
    """Inter-annotator agreement: Fleiss' κ, Krippendorff's α, percent agreement, pairwise Cohen's κ,
    each annotator against the majority, with 95 % bootstrap intervals over items."""
    import json as json_module

    from core.evaluation.pipeline import agreement as compute
    from core.evaluation.pipeline import agreement_shortfall, judge_trusts, routing_summary

    with existing_store(db) as store:
        reports = [(t.name, compute(store, t.id, resamples=resamples), agreement_shortfall(store, t.id),
                    judge_trusts(store, t.id, resamples=resamples), routing_summary(store, t.id))
                   for t in pick_tournaments(store, tournament)]
    if as_json:
        # `shortfall`: why a tournament has no agreement figures yet, as the text says (else null).
        click.echo(json_module.dumps({name: _report_dict(r) | {"shortfall": shortfall,
                                                               "judges": [_trust_dict(j, routing) for j in trusts]}
                                      for name, r, shortfall, trusts, routing in reports}, indent=2))
        return
    console = Console(highlight=False)
    for name, report, shortfall, trusts, routing in reports:
        print_agreement(console, name, report, shortfall)
        print_judges(console, trusts, routing)


def _trust_dict(trust, routing: str | None) -> dict:  # noqa: ANN001
    import math

    return {
        "judge": trust.judge,
        "items": trust.items,
        "cohen_kappa": _estimate(trust.kappa),
        "agreement": _estimate(trust.agreement),
        "per_label": {str(label): {"judged": t.judged, "correct": t.correct, "actual": t.actual,
                                   "precision": _estimate(t.precision), "recall": _estimate(t.recall)}
                      for label, t in trust.per_label.items()},
        "confusion": {"labels": [str(label) for label in trust.labels], "human_by_judge": [list(r) for r in trust.confusion]},
        "dawid_skene_accuracy": None if math.isnan(trust.ds_accuracy) else round(trust.ds_accuracy, 6),
        "routing": routing if routing and routing.startswith(f"routing: judge {trust.judge} ") else None,
    }


def print_judges(console: Console, trusts, routing: str | None = None) -> None:  # noqa: ANN001
    """Each judge against the human verdicts: κ, agreement, precision and recall per label
    (95 % intervals), the confusion matrix and its Dawid-Skene accuracy; then the routing line."""
    import math

    from core.data.report import fmt_estimate

    for trust in trusts:
        role = " (routing judge)" if routing and routing.startswith(f"routing: judge {trust.judge} ") else ""
        if not trust.items:
            if routing:  # nothing to measure yet; without routing, nothing to say either
                console.print(inert_text(f"judge {trust.judge}{role}: no item has both its label and a human verdict yet"))
            continue
        table = Table(title=inert_text(f"Judge {trust.judge}{role} against the human verdicts, {trust.items} items"),
                      title_justify="left")
        table.add_column("measure")
        table.add_column("value (95 % interval)")
        table.add_row("Cohen's κ", fmt_estimate(trust.kappa))
        table.add_row("agreement", fmt_estimate(trust.agreement))
        for label, t in trust.per_label.items():
            table.add_row(inert_text(f"precision {label} ({t.correct}/{t.judged})"), fmt_estimate(t.precision))
            table.add_row(inert_text(f"recall {label} ({t.correct}/{t.actual})"), fmt_estimate(t.recall))
        if not math.isnan(trust.ds_accuracy):
            table.add_row("Dawid-Skene accuracy", f"{trust.ds_accuracy:.3f}")
        console.print(table)
        confusion = Table(title="human ↓ × judge →", title_justify="left")
        confusion.add_column("")
        for label in trust.labels:
            confusion.add_column(inert_text(str(label)), justify="right")
        for label, row in zip(trust.labels, trust.confusion, strict=True):
            confusion.add_row(inert_text(str(label)), *(str(n) for n in row))
        console.print(confusion)
    if routing:
        console.print(inert_text(routing))


def _estimate(e) -> dict:  # noqa: ANN001
    import math

    return {k: (None if math.isnan(v) else round(v, 6)) for k, v in (("value", e.value), ("low", e.low), ("high", e.high))}


def _report_dict(report) -> dict:  # noqa: ANN001
    cohen = report.cohen
    return {
        "items": report.items,
        "labels": report.labels,
        "annotators": list(report.annotators),
        "fleiss_kappa": _estimate(report.fleiss_kappa),
        "krippendorff_alpha": _estimate(report.krippendorff_alpha),
        "percent_agreement": _estimate(report.percent_agreement),
        "cohen_kappa": {
            f"{a}|{b}": _estimate(cohen.kappa[i][j])
            for i, a in enumerate(cohen.annotators) for j, b in enumerate(cohen.annotators)
            if i < j and cohen.kappa[i][j] is not None
        },
        "agreement_with_majority": {str(k): _estimate(v.agreement) | {"compared": v.compared}
                                    for k, v in report.per_annotator.items()},
    }


def print_agreement(console: Console, name: str, report, shortfall: str | None = None) -> None:  # noqa: ANN001
    """The agreement tables of one tournament, or why it has none yet (`shortfall`)."""
    from core.data.report import fmt_estimate

    if shortfall is not None:
        console.print(inert_text(f"{name}: {shortfall}"))
        return
    console.print(inert_text(f"{name}: {report.items} items labelled by 2+ annotators ({report.labels} labels, "
                             f"{len(report.annotators)} annotators)"))
    table = Table(title="Agreement (95 % bootstrap interval)", title_justify="left")
    table.add_column("statistic")
    table.add_column("value")
    table.add_row("Fleiss' κ", fmt_estimate(report.fleiss_kappa))
    table.add_row("Krippendorff's α (nominal)", fmt_estimate(report.krippendorff_alpha))
    table.add_row("percent agreement", fmt_estimate(report.percent_agreement))
    for who, per in report.per_annotator.items():
        table.add_row(inert_text(f"{who} vs majority of others ({per.compared} items)"), fmt_estimate(per.agreement))
    console.print(table)
    cohen = report.cohen
    if len(cohen.annotators) > 1:
        matrix = Table(title="Pairwise Cohen's κ", title_justify="left")
        matrix.add_column("")
        for a in cohen.annotators:
            matrix.add_column(inert_text(str(a)), justify="right")
        for i, a in enumerate(cohen.annotators):
            cells = ["·" if cohen.kappa[i][j] is None else fmt_estimate(cohen.kappa[i][j]).split(" ")[0] for j in range(len(cohen.annotators))]
            matrix.add_row(inert_text(str(a)), *cells)
        console.print(matrix)
