"""Team feedback: one team's own conversations, verdicts and standings, nothing of others'.

A team is a bot name. An attacker team gets the conversations its bot played (its
attacks with the defenders' replies); a defender team gets the conversations played
against it. Nothing else: no other matchup's transcripts, no bot logs, no annotator
names. Human labels (label, tags, turn, note) are included only for tournaments whose
evaluation settings have ``share_labels_with_teams = true``.

Written into a folder: ``conversations.jsonl`` (native format plus verdict, reason,
findings, labels), ``standings.jsonl`` (the team's leaderboard rows and matchup cells,
with intervals) and ``summary.md``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.data.export import atomic_writer, finding_record
from core.evaluation.pipeline import current_labels
from core.scoring.leaderboard import compute_leaderboard
from core.store import Store
from core.text import markdown_text
from core.turns import turn_number


class FeedbackError(ValueError):
    """An unknown team or unusable folder; the message is one line."""


@dataclass
class FeedbackSummary:
    """What was written for one team."""

    team: str
    sides: set[str] = field(default_factory=set)
    conversations: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    labels_shared: bool = False
    files: list[Path] = field(default_factory=list)


def write_feedback(store: Store, team: str, tournament_ids: Sequence[int], out_dir: Path, *, n_boot: int = 1000) -> FeedbackSummary:
    """Write the team's feedback folder; raises FeedbackError for an unknown team."""
    tournaments = [t for t in store.tournaments() if t.id in set(tournament_ids)]
    sides = {(t.id, b.side) for t in tournaments for b in store.bots(t.id) if b.name == team}
    if not sides:
        known = sorted({b.name for t in tournaments for b in store.bots(t.id)})
        raise FeedbackError(f"no team {team!r} in these tournaments (teams: {', '.join(known) or 'none'})")
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = FeedbackSummary(team, sides={side for _, side in sides})
    settings = {t.id: t.settings.evaluation for t in tournaments}
    share = {tid: ev.share_labels_with_teams for tid, ev in settings.items()}
    summary.labels_shared = any(share[tid] for tid, _ in sides)
    team_tournaments = sorted({tid for tid, _ in sides})
    conversations_path = out_dir / "conversations.jsonl"
    with atomic_writer(conversations_path) as fh:
        for page in store.iter_conversations(team_tournaments):
            mine = [c for c in page if team in (c.attacker, c.defender)]
            if not mine:
                continue
            ids = [c.id for c in mine]
            turns, findings = store.turns_of(ids), store.findings_of(ids)
            labels = current_labels(store.label_events_of(ids)) if summary.labels_shared else {}
            for conv in mine:
                record: dict[str, Any] = {
                    "conversation_id": conv.id, "tournament": conv.tournament, "kind": conv.kind,
                    "side": "attacker" if conv.attacker == team else "defender",
                    "attacker": conv.attacker, "defender": conv.defender, "status": conv.status,
                    "incomplete_reason": conv.incomplete_reason, "verdict": conv.verdict, "reason": conv.reason,
                    "turns": [{"role": r, "content": c} for r, c in turns[conv.id]],
                    "findings": [finding_record(f) for f in findings[conv.id]],
                }
                if share.get(conv.tournament_id):
                    adjudicators = set(settings[conv.tournament_id].adjudicators)
                    record["labels"] = [
                        {"label": ev.label, "tags": list(ev.tags), "turn": None if ev.turn is None else turn_number(ev.turn), "note": ev.note,
                         "adjudication": who in adjudicators}
                        for who, ev in sorted(labels.get(conv.id, {}).items())
                    ]
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                summary.conversations += 1
                summary.verdicts[conv.verdict or ("undecided" if conv.status == "complete" else conv.status)] += 1
    board = compute_leaderboard(store, team_tournaments, n_boot=n_boot).to_dict()
    standings = [dict(row, type="attacker") for row in board["attackers"] if row["name"] == team]
    standings += [dict(row, type="defender") for row in board["defenders"] if row["name"] == team]
    cells = [dict(cell, type="matchup") for cell in board["matchups"] if team in (cell["attacker"], cell["defender"])]
    standings_path = out_dir / "standings.jsonl"
    with atomic_writer(standings_path) as fh:
        for row in standings + cells:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    summary_path = out_dir / "summary.md"
    with atomic_writer(summary_path) as fh:
        fh.write(_markdown(summary, board, standings, cells))
    summary.files = [conversations_path, standings_path, summary_path]
    return summary


def _fmt(value: Any, interval: Any = None) -> str:
    if value is None:
        return "–"
    text = f"{value:.1f}"
    return f"{text} [{interval[0]:.1f}, {interval[1]:.1f}]" if interval else text


def _markdown(summary: FeedbackSummary, board: dict[str, Any], standings: list[dict[str, Any]], cells: list[dict[str, Any]]) -> str:
    md = markdown_text  # every name and label is hostile input
    lines = [f"# Feedback for {md(summary.team)}", "",
             f"Tournaments: {', '.join(map(md, board['tournaments']))}. Side: {', '.join(sorted(summary.sides))}.",
             f"Conversations: {summary.conversations} "
             f"({', '.join(f'{md(k)}: {v}' for k, v in sorted(summary.verdicts.items()))}).",
             f"Human labels {'are' if summary.labels_shared else 'are not'} shared with teams.", "",
             f"## Standing ({int(board['level'] * 100)} % intervals, {board['n_boot']} bootstrap resamples)", ""]
    if board["provisional"]:
        lines += [f"Provisional standing: {board['undecided']} undecided and {board['unfinished']} unfinished "
                  "conversations; an undecided one counts as not an attack success until it is decided.", ""]
    for row in standings:
        rate = ("ASR", row.get("asr"), row.get("asr_interval")) if row["type"] == "attacker" else \
               ("DSR", row.get("dsr"), row.get("dsr_interval"))
        lines.append(f"- {row['type']}: rank {row['rank'] or '–'}, score {_fmt(row['score'], row['score_interval'])}, "
                     f"{rate[0]} {_fmt(rate[1], rate[2])}")
    lines += ["", "## Matchups", "", "| tournament | attacker | defender | complete | successes | ASR |", "|---|---|---|---|---|---|"]
    for cell in cells:
        lines.append(f"| {md(cell['tournament'])} | {md(cell['attacker'])} | {md(cell['defender'])} | {cell['complete']} | "
                     f"{cell['successes']} | {_fmt(cell['asr'], cell['asr_interval'])} |")
    lines += ["", "Files: conversations.jsonl (your conversations with verdicts and findings), standings.jsonl.", ""]
    return "\n".join(lines)
