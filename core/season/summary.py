"""A season: its tournaments as rounds, each team's progression, and the season's tables.

`build_season(store, name)` gathers, as plain dataclasses, everything `arena-tui season`
prints and the season screen draws:

- each team's official score (and ASR or DSR) per round with its interval, from
  `core.scoring.leaderboard.compute_leaderboard` of that round alone;
- Bradley-Terry ratings over the whole season (`core.scoring.ratings`), and over its
  official rounds when it has both kinds;
- per round, the attack successes by reason (the paper's Fig. 4), the inter-annotator
  agreement (Table 1) and the diversity within and between attackers, defenders and
  rounds (Table 2): the dataset report (`core.data.report.build_report`) over the
  season's tournaments, its "tournament" level being the rounds;
- the pairwise Cohen's κ of the annotators over the season's labels (the heat-map);
- each bot's response times per round (mean, median, 95th percentile);
- which bots changed between rounds (another spec or announced version under the same
  team name), so a jump in a curve can be read against the change that made it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.data.report import DatasetReport, Embedder, build_report
from core.evaluation.agreement import CohenMatrix, agreement_report
from core.evaluation.intervals import DEFAULT_N_BOOT, Interval
from core.scoring.leaderboard import compute_leaderboard
from core.scoring.ratings import Ratings, compute_ratings
from core.store import SeasonRound, Store

__all__ = ["BotChange", "LatencyStat", "RoundScore", "SeasonError", "SeasonSummary", "TeamProgress", "build_season"]


class SeasonError(ValueError):
    """An unknown season or one without rounds; the message is one line."""


@dataclass(frozen=True)
class RoundScore:
    """A team's standing in one round: official rank and score (None without one, e.g. a
    defender whose utility was not measured), the rate (ASR for attackers, DSR for
    defenders) with their intervals, and whether it can still move (provisional)."""

    rank: int | None
    score: float | None
    interval: Interval | None
    rate: float | None
    rate_interval: Interval | None
    complete: int
    provisional: bool


@dataclass(frozen=True)
class TeamProgress:
    """One team over the season: its standing per round (None where it did not play),
    in round order."""

    name: str
    side: str
    rounds: tuple[RoundScore | None, ...]

    def trend(self) -> float | None:
        """Change of the official score (the rate where no score) from the first round
        the team played to its last; None with fewer than two such rounds."""
        values = [(r.score if r.score is not None else r.rate) for r in self.rounds if r is not None]
        values = [v for v in values if v is not None]
        return values[-1] - values[0] if len(values) >= 2 else None


@dataclass(frozen=True)
class BotChange:
    """A team whose bot differs from its previous round's (spec or announced version)."""

    position: int
    tournament: str
    side: str
    bot: str
    before: str
    after: str


@dataclass(frozen=True)
class LatencyStat:
    """A bot's response times in one round, in seconds."""

    position: int
    tournament: str
    side: str
    bot: str
    turns: int
    mean: float
    median: float
    p95: float


@dataclass
class SeasonSummary:
    """Everything the season view shows (module docstring)."""

    name: str
    rounds: list[SeasonRound]
    attackers: list[TeamProgress] = field(default_factory=list)
    defenders: list[TeamProgress] = field(default_factory=list)
    ratings: Ratings | None = None
    official_ratings: Ratings | None = None
    report: DatasetReport = field(default_factory=DatasetReport)
    pairwise: CohenMatrix | None = None
    latency: list[LatencyStat] = field(default_factory=list)
    changes: list[BotChange] = field(default_factory=list)
    n_boot: int = DEFAULT_N_BOOT

    @property
    def provisional(self) -> bool:
        """True while a round has undecided or unfinished conversations."""
        return any(r is not None and r.provisional for t in self.attackers + self.defenders for r in t.rounds)

    def team(self, name: str) -> list[TeamProgress]:
        """The team's progress rows (one per side it plays)."""
        return [t for t in self.attackers + self.defenders if t.name == name]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the `season show --json` output)."""
        def score(r: RoundScore | None) -> dict[str, Any] | None:
            if r is None:
                return None
            return {"rank": r.rank, "score": _num(r.score), "score_interval": _pair(r.interval), "rate": _num(r.rate),
                    "rate_interval": _pair(r.rate_interval), "complete": r.complete, "provisional": r.provisional}

        def teams(rows: list[TeamProgress]) -> list[dict[str, Any]]:
            return [{"name": t.name, "trend": _num(t.trend()), "rounds": [score(r) for r in t.rounds]} for t in rows]

        report = self.report
        return {
            "season": self.name, "provisional": self.provisional, "n_boot": self.n_boot,
            "rounds": [{"position": r.position, "tournament": r.tournament, "kind": r.kind} for r in self.rounds],
            "attackers": teams(self.attackers), "defenders": teams(self.defenders),
            "ratings": None if self.ratings is None else self.ratings.to_dict(),
            "official_ratings": None if self.official_ratings is None else self.official_ratings.to_dict(),
            "successes_by_reason": [
                {"tournament": c.tournament, "kind": c.kind, "complete": c.complete, "incomplete": c.incomplete,
                 "vulnerable_code": c.vulnerable_code, "malicious_assistance": c.malicious_assistance,
                 "defended": c.defended, "undecided": c.undecided} for c in report.counts],
            "agreement": [
                {"tournament": a.tournament, "items": a.items, "fleiss_kappa": _estimate(a.fleiss_kappa),
                 "krippendorff_alpha": _estimate(a.krippendorff_alpha)} for a in report.agreement],
            "diversity": [{"level": "round" if d.level == "tournament" else d.level, "groups": d.groups,
                           "texts": d.texts, "within": _num(d.within), "between": _num(d.between)}
                          for d in report.diversity],
            "embedding": report.embedding,
            "pairwise_kappa": None if self.pairwise is None else {
                "annotators": [str(a) for a in self.pairwise.annotators],
                "kappa": [[None if e is None else _estimate(e) for e in row] for row in self.pairwise.kappa],
                "shared": [list(row) for row in self.pairwise.shared]},
            "latency": [{"position": s.position, "tournament": s.tournament, "side": s.side, "bot": s.bot,
                         "turns": s.turns, "mean": _num(s.mean), "median": _num(s.median), "p95": _num(s.p95)}
                        for s in self.latency],
            "changes": [{"position": c.position, "tournament": c.tournament, "side": c.side, "bot": c.bot,
                         "before": c.before, "after": c.after} for c in self.changes],
        }


def _num(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 6)


def _pair(value: tuple[float, float] | None) -> list[float] | None:
    return None if value is None else [round(float(value[0]), 6), round(float(value[1]), 6)]


def _estimate(e: Any) -> dict[str, float | None]:
    return {"value": _num(e.value), "low": _num(e.low), "high": _num(e.high)}


def season_rounds(store: Store, name: str) -> list[SeasonRound]:
    """The season's rounds in order; SeasonError for an unknown or empty season."""
    season = store.season(name)
    if season is None:
        known = ", ".join(s.name for s in store.seasons()) or "none"
        raise SeasonError(f"no season {name!r} (seasons: {known}); make one with arena-tui season add")
    rounds = store.season_rounds(season.id)
    if not rounds:
        raise SeasonError(f"season {name!r} has no rounds")
    return rounds


def build_season(store: Store, name: str, *, n_boot: int = DEFAULT_N_BOOT, seed: int = 0,
                 progress: Callable[[int, int, str], None] | None = None, with_report: bool = True,
                 embed: Embedder | None = None, embedding_name: str | None = None) -> SeasonSummary:
    """The season's summary (module docstring); raises SeasonError for an unknown season.

    `progress(done, total, step)` is called as each step starts, and once at the end
    with done = total (as `core.data.report.build_report` calls it). `with_report=False` leaves out the
    dataset report's tables (counts, agreement, diversity: the slow part); `embed` and
    `embedding_name` choose the diversity embedding (`core.data.report`)."""
    return summarize_rounds(store, name, season_rounds(store, name), n_boot=n_boot, seed=seed, progress=progress,
                            with_report=with_report, embed=embed, embedding_name=embedding_name)


def tournament_rounds(store: Store, tournament_ids: Sequence[int]) -> list[SeasonRound]:
    """Tournaments taken as the rounds of an unnamed season, in the order they were
    created (the dataset report's charts of any selection of tournaments)."""
    wanted = set(tournament_ids)
    chosen = sorted((t for t in store.tournaments() if t.id in wanted), key=lambda t: t.id)
    return [SeasonRound(k, t.id, t.name, t.kind) for k, t in enumerate(chosen, start=1)]


def summarize_rounds(store: Store, name: str, rounds: list[SeasonRound], *, n_boot: int = DEFAULT_N_BOOT,
                     seed: int = 0, progress: Callable[[int, int, str], None] | None = None,
                     with_report: bool = True,
                     embed: Embedder | None = None, embedding_name: str | None = None) -> SeasonSummary:
    """The summary of some rounds (`build_season` for a stored season)."""
    # Steps: one per round, ratings, response times, pairwise agreement, then the dataset
    # report's (one per round and one per diversity level).
    total = len(rounds) + 3 + (len(rounds) + 3 if with_report else 0)
    done = 0

    def step(what: str) -> None:
        nonlocal done
        if progress is not None:
            progress(min(done, total), total, what)
        done += 1

    summary = SeasonSummary(name, rounds, n_boot=n_boot)
    attackers: dict[str, list[RoundScore | None]] = {}
    defenders: dict[str, list[RoundScore | None]] = {}
    for k, rnd in enumerate(rounds):
        step(f"scores of round {rnd.position} ({rnd.tournament})")
        board = compute_leaderboard(store, [rnd.tournament_id], n_boot=n_boot, seed=seed)
        for a in board.attackers:
            attackers.setdefault(a.name, [None] * len(rounds))[k] = RoundScore(
                a.rank, a.score, a.interval, a.asr, a.asr_interval, a.complete, a.provisional)
        for d in board.defenders:
            defenders.setdefault(d.name, [None] * len(rounds))[k] = RoundScore(
                d.rank, d.score, d.interval, d.dsr, d.dsr_interval, d.complete, d.provisional)
    summary.attackers = [TeamProgress(n, "attacker", tuple(r)) for n, r in sorted(attackers.items())]
    summary.defenders = [TeamProgress(n, "defender", tuple(r)) for n, r in sorted(defenders.items())]
    ids = [r.tournament_id for r in rounds]
    step("Bradley-Terry ratings")
    summary.ratings = compute_ratings(store, ids, n_boot=n_boot, seed=seed)
    official = [r.tournament_id for r in rounds if r.kind == "official"]
    if official and len(official) < len(rounds):
        summary.official_ratings = compute_ratings(store, official, n_boot=n_boot, seed=seed)
    summary.changes = bot_changes(store, rounds)
    step("response times")
    summary.latency = latency_stats(store, rounds)
    step("pairwise agreement")
    summary.pairwise = pairwise_agreement(store, rounds, n_boot, seed)
    if with_report:
        summary.report = build_report(store, ids, resamples=n_boot, seed=seed, embed=embed,
                                      embedding_name=embedding_name,
                                      progress=lambda _done, _total, what: step(what) if what != "done" else None)
        order = {r.tournament: r.position for r in rounds}
        summary.report.counts.sort(key=lambda c: order.get(c.tournament, 0))
        summary.report.agreement.sort(key=lambda a: order.get(a.tournament, 0))
    if progress is not None:
        progress(total, total, "done")
    return summary


# A path inside a command or class spec: shown by its file name (where a checkout lives
# says nothing about the bot, and would differ between machines).
_PATH = re.compile(r"""(?:[A-Za-z]:)?[^\s"'\[\],:]*[/\\]([^\s"'\[\],/\\:]+)""")


def bot_identity(kind: str, spec: str, version: str | None) -> str:
    """What tells one bot from another in a season: its spec (paths by file name, for
    command and Python bots; an endpoint in full) and its announced version."""
    shown = spec if kind == "http" else _PATH.sub(lambda m: m.group(1), spec)
    return shown + ("" if version is None else f" (version {version})")


def bot_changes(store: Store, rounds: list[SeasonRound]) -> list[BotChange]:
    """Teams whose bot differs from the one they fielded in their previous round: another
    spec (command, class or endpoint) or another announced version."""
    last: dict[tuple[str, str], tuple[str, str | None, str]] = {}
    changes = []
    for rnd in rounds:
        for bot in store.bots(rnd.tournament_id):
            key = (bot.side, bot.name)
            shown = bot_identity(bot.kind, bot.spec, bot.version)
            if key in last and last[key][:2] != (bot.spec, bot.version):  # compared in full, shown short
                changes.append(BotChange(rnd.position, rnd.tournament, bot.side, bot.name, last[key][2], shown))
            last[key] = (bot.spec, bot.version, shown)
    return changes


def latency_stats(store: Store, rounds: list[SeasonRound]) -> list[LatencyStat]:
    """Each bot's response times per round (only timed turns), in round then bot order."""
    by_id = {r.tournament_id: r for r in rounds}
    samples: dict[tuple[int, str, str], list[float]] = {}
    for row in store.bot_latencies(list(by_id)):
        samples.setdefault((row.tournament_id, row.side, row.bot), []).append(row.latency)
    out = []
    for (tid, side, bot), values in samples.items():
        arr = np.asarray(values, dtype=np.float64)
        rnd = by_id[tid]
        out.append(LatencyStat(rnd.position, rnd.tournament, side, bot, int(arr.size), float(arr.mean()),
                               float(np.median(arr)), float(np.percentile(arr, 95))))
    out.sort(key=lambda s: (s.position, s.side, s.bot))
    return out


def pairwise_agreement(store: Store, rounds: list[SeasonRound], n_boot: int, seed: int) -> CohenMatrix | None:
    """Cohen's κ of every pair of annotators over the season's current labels
    (adjudicators left out); None when nobody labelled."""
    rows: list[tuple[int, str, str]] = []
    categories: list[str] = []
    tournaments = {t.id: t for t in store.tournaments()}
    for rnd in rounds:
        settings = tournaments[rnd.tournament_id].settings.evaluation
        adjudicators = set(settings.adjudicators)
        rows += [r for r in store.current_label_rows(rnd.tournament_id) if r[1] not in adjudicators]
        categories += [label for label in settings.labels if label not in categories]
    if not rows:
        return None
    return agreement_report(rows, categories=categories, resamples=n_boot, seed=seed).cohen
