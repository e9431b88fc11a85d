"""A team's feedback over a season: its trend, its weakest matchups and examples of its
failures, on top of the per-conversation feedback of `core.data.feedback`.

Written beside that feedback's files, into the same folder:

- ``season.json``: the team's standing per round (official score and rate with their
  intervals), its Bradley-Terry rating over the season, its matchups pooled over the
  season from weakest to strongest (with Wilson intervals), and the ids of the failure
  examples;
- ``failures.jsonl``: up to `EXAMPLES_PER_MATCHUP` conversations of each of its
  `WEAKEST` weakest matchups that it lost (a defender: an attack that landed; an
  attacker: an attack that was defended), the latest round first, with their turns,
  verdict and how it was reached;
- ``season.md``: all of it in words.

Never another team's data: only the team's own rows of the season's standings (no other
team's scores, ranks or ratings), its own matchups and conversations it played in, no
annotator names (the per-conversation feedback's rules on human labels apply there).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.data.export import atomic_writer
from core.data.feedback import FeedbackError, FeedbackSummary, write_feedback
from core.evaluation.intervals import DEFAULT_N_BOOT, wilson
from core.evaluation.pipeline import ANNOTATORS, STATIC
from core.scoring.ratings import pair_games
from core.season.summary import SeasonSummary, build_season
from core.store import Store
from core.text import markdown_text

# Matchups a team is shown failure examples of (its weakest ones), and examples of each:
# enough to see a pattern, few enough to read between two rounds.
WEAKEST = 3
EXAMPLES_PER_MATCHUP = 3
# Characters of each turn quoted in season.md (failures.jsonl has the whole turns).
QUOTE_CHARS = 300
# How a verdict was reached, in words (verdict reasons of core.evaluation.pipeline).
HOW = {STATIC: "the static stage (bandit) found vulnerable code", ANNOTATORS: "the annotators' majority"}


@dataclass
class SeasonFeedback:
    """What was written for one team over a season."""

    team: str
    season: str
    conversations: FeedbackSummary
    weakest: list[dict[str, Any]] = field(default_factory=list)
    failures: int = 0
    files: list[Path] = field(default_factory=list)


def write_season_feedback(store: Store, team: str, season: str, out_dir: Path, *,
                          n_boot: int = DEFAULT_N_BOOT) -> SeasonFeedback:
    """Write the team's season feedback folder. Raises FeedbackError for a team that
    played in no round, and `core.season.summary.SeasonError` for an unknown season."""
    summary = build_season(store, season, n_boot=n_boot, with_report=False)
    ids = [r.tournament_id for r in summary.rounds]
    rows = summary.team(team)
    if not rows:
        raise FeedbackError(f"team {team!r} played in no round of season {season!r}")
    conversations = write_feedback(store, team, ids, out_dir, n_boot=n_boot)
    result = SeasonFeedback(team, season, conversations)
    _, pairs = pair_games(store, ids)
    matchups = []
    for p in pairs:
        if team not in (p.attacker, p.defender):
            continue
        side = "attacker" if p.attacker == team else "defender"
        won = p.wins if side == "attacker" else p.games - p.wins
        interval = wilson(won, p.games)
        matchups.append({"side": side, "opponent": p.defender if side == "attacker" else p.attacker,
                         "games": p.games, "won": won, "undecided": p.undecided,
                         "won_percent": round(won / p.games * 100, 3) if p.games else None,
                         "interval": [round(interval.lo, 3), round(interval.hi, 3)]})
    matchups.sort(key=lambda m: (m["won_percent"] if m["won_percent"] is not None else 101, m["opponent"]))
    result.weakest = matchups[:WEAKEST]
    examples = _failures(store, team, summary, result.weakest)
    result.failures = len(examples)
    failures_path = out_dir / "failures.jsonl"
    with atomic_writer(failures_path) as fh:
        for record in examples:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    data = _season_record(team, summary, rows, matchups, examples)
    season_path = out_dir / "season.json"
    with atomic_writer(season_path) as fh:
        fh.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    markdown_path = out_dir / "season.md"
    with atomic_writer(markdown_path) as fh:
        fh.write(_markdown(data, examples))
    result.files = [*conversations.files, failures_path, season_path, markdown_path]
    return result


def _failures(store: Store, team: str, summary: SeasonSummary, weakest: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Conversations of the weakest matchups the team lost, latest round first."""
    position = {r.tournament_id: r.position for r in summary.rounds}
    attack_label = {t.id: t.settings.evaluation.attack_label for t in store.tournaments() if t.id in position}
    wanted = {m["opponent"]: m["side"] for m in weakest}
    found: dict[str, list[Any]] = {name: [] for name in wanted}
    pages = (page for tid in sorted(position, key=lambda tid: -position[tid]) for page in store.iter_conversations([tid]))
    for page in pages:
        for conv in page:
            if conv.verdict is None or conv.status != "complete":
                continue
            side = "attacker" if conv.attacker == team else "defender" if conv.defender == team else None
            opponent = conv.defender if side == "attacker" else conv.attacker
            if side is None or wanted.get(opponent) != side:
                continue
            attack = conv.verdict == attack_label[conv.tournament_id]
            lost = attack if side == "defender" else not attack
            if lost and len(found[opponent]) < EXAMPLES_PER_MATCHUP:
                found[opponent].append(conv)
    chosen = sorted((c for convs in found.values() for c in convs),
                    key=lambda c: (-position[c.tournament_id], c.id))
    turns = store.turns_of([c.id for c in chosen]) if chosen else {}
    return [{"conversation_id": c.id, "round": position[c.tournament_id], "tournament": c.tournament,
             "side": "attacker" if c.attacker == team else "defender", "attacker": c.attacker, "defender": c.defender,
             "verdict": c.verdict, "reason": c.reason,
             "turns": [{"role": role, "content": content} for role, content in turns[c.id]]} for c in chosen]


def _pair(value: Any) -> list[float] | None:
    return None if value is None else [round(float(value[0]), 3), round(float(value[1]), 3)]


def _season_record(team: str, summary: SeasonSummary, rows: list[Any], matchups: list[dict[str, Any]],
                   examples: list[dict[str, Any]]) -> dict[str, Any]:
    ratings = []
    if summary.ratings is not None:
        for row in (*summary.ratings.attackers, *summary.ratings.defenders):
            if row.name == team:
                ratings.append({"side": row.side, "rank": row.rank, "rating": round(row.rating, 3),
                                "interval": [round(row.interval.lo, 3), round(row.interval.hi, 3)],
                                "games": row.games, "won": row.wins})
    rounds = [{"position": r.position, "tournament": r.tournament, "kind": r.kind} for r in summary.rounds]
    standing = []
    for progress in rows:
        per_round = []
        for rnd, r in zip(summary.rounds, progress.rounds, strict=True):
            per_round.append(None if r is None else {
                "position": rnd.position, "rank": r.rank, "score": r.score, "score_interval": _pair(r.interval),
                "rate": r.rate, "rate_interval": _pair(r.rate_interval), "provisional": r.provisional})
        standing.append({"side": progress.side, "rate": "ASR" if progress.side == "attacker" else "DSR",
                         "trend": progress.trend(), "rounds": per_round})
    return {"team": team, "season": summary.name, "rounds": rounds, "standing": standing, "ratings": ratings,
            "matchups": matchups, "failure_examples": [e["conversation_id"] for e in examples],
            "changes": [{"position": c.position, "side": c.side, "before": c.before, "after": c.after}
                        for c in summary.changes if c.bot == team]}


def _fmt(value: float | None, interval: list[float] | None = None) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}" + (f" [{interval[0]:.1f}, {interval[1]:.1f}]" if interval else "")


def _quote(text: str) -> str:
    cut = text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS] + "…"
    return markdown_text(" ".join(cut.split()))


def _markdown(data: dict[str, Any], examples: list[dict[str, Any]]) -> str:
    md = markdown_text  # names and turns are hostile input
    lines = [f"# Season feedback for {md(data['team'])}: {md(data['season'])}", "",
             "Rounds: " + ", ".join(f"{r['position']}. {md(r['tournament'])} ({r['kind']})" for r in data["rounds"]) + ".",
             ""]
    for change in data["changes"]:
        lines.append(f"Your {change['side']} changed in round {change['position']}: {md(change['before'])} → "
                     f"{md(change['after'])}.")
    lines += ["", "## Trend (95 % intervals)", ""]
    for standing in data["standing"]:
        trend = standing["trend"]
        lines += [f"As {standing['side']}: change from your first round to your last "
                  f"{'–' if trend is None else f'{trend:+.1f}'}.", "",
                  f"| round | rank | score | {standing['rate']} % |", "|---|---|---|---|"]
        for r in standing["rounds"]:
            if r is None:
                continue
            lines.append(f"| {r['position']} | {r['rank'] or '–'} | {_fmt(r['score'], r['score_interval'])} | "
                         f"{_fmt(r['rate'], r['rate_interval'])}{' (provisional)' if r['provisional'] else ''} |")
        lines.append("")
    for rating in data["ratings"]:
        lines.append(f"Bradley-Terry rating as {rating['side']} over the season: {rating['rating']:.0f} "
                     f"[{rating['interval'][0]:.0f}, {rating['interval'][1]:.0f}] (rank {rating['rank']}, won "
                     f"{rating['won']} of {rating['games']}).")
    lines += ["", "## Matchups over the season, weakest first (Wilson 95 % intervals)", "",
              "| as | opponent | games | won | won % | undecided |", "|---|---|---|---|---|---|"]
    for m in data["matchups"]:
        lines.append(f"| {m['side']} | {md(m['opponent'])} | {m['games']} | {m['won']} | "
                     f"{_fmt(m['won_percent'], m['interval'])} | {m['undecided']} |")
    lines += ["", f"## Where you lost: examples from your {WEAKEST} weakest matchups", ""]
    if not examples:
        lines.append("No decided loss in them yet.")
    for e in examples:
        how = HOW.get(e["reason"] or "", f"decided by {e['reason']}")
        lines += [f"### Conversation {e['conversation_id']} (round {e['round']}, {md(e['attacker'])} vs "
                  f"{md(e['defender'])}): {md(e['verdict'] or '')}, {md(how)}", ""]
        for k, turn in enumerate(e["turns"], start=1):
            lines.append(f"{k}. **{turn['role']}**: {_quote(turn['content'])}")
        lines.append("")
    lines += ["Files: season.json (all of the above), failures.jsonl (the examples with their whole turns), "
              "and your conversations of every round (conversations.jsonl, standings.jsonl, summary.md).", ""]
    return "\n".join(lines)
