"""Bradley-Terry ratings of attackers and defenders, every complete conversation a game.

The paper's scores (``core.scoring.leaderboard``) stay the official ranking; these
ratings sit beside them and answer a different question: how strong is a team against
the particular opponents it met, on one scale for both sides, and how likely is one team
to beat another.

Model: every game is a conversation between its attacker *i* and defender *j*;
the attacker wins when the verdict is an attack success, the defender otherwise. With
ratings θ on one logit scale for all teams (attackers and defenders together),

    P(attacker i beats defender j) = σ(θ_i − θ_j),     σ(x) = 1 / (1 + e^−x).

Across several tournaments (a season) a team is its name: its games of every round are
pooled. The games are counted as the leaderboard counts conversations: every complete
conversation is a game; one that is still undecided counts as a defence until it is
decided (right after the static stage, which decides only attack successes, a count of
decided games alone would make every attacker unbeaten), and the ratings are then
`provisional`. Incomplete and unfinished conversations are not games.

Fit: maximum likelihood by Newton's method on the games aggregated per (attacker,
defender) pair (the likelihood depends only on their win and game counts), with half a
win and half a loss added to every pair (`PRIOR_GAMES`, Jeffreys' prior on the pair's
rate: a pair that went 0/10 or 10/10 would otherwise push its teams to ±infinity, and
the small tournaments of a practice round go 0/10 often), and a weak ridge penalty
(λ/2)·Σθ², λ = `RIDGE`, which fixes the scale's free offset (adding c to every rating
changes no probability; the penalised optimum has Σθ = 0) and keeps teams that never
met each other's opponents on one scale. Reported ratings are on the Elo scale of
Chatbot Arena (FastChat's ``compute_bt``): ``1000 + 400 · θ / ln 10``, so 400 points are
odds of 10:1.

Probability that one team beats another:
- attacker i vs defender j: σ(θ_i − θ_j), the modelled attack success rate of the pair;
- two teams of the same side: σ(θ_i − θ_k). For two attackers this is exact under the
  model: against the same defender, when exactly one of the two succeeds, the chance it
  is i is odds_i / (odds_i + odds_k) = σ(θ_i − θ_k). For defenders likewise.

Intervals: the games are resampled within each (attacker, defender) pair, as the
leaderboard resamples conversations within matchups: a pair's win count in a resample
is Binomial(n, w / n), n of its games drawn with replacement; the prior's half games are
added as for the estimate. Every resample is refitted (all at once, a batched Newton
step) and the interval is the percentile interval of the refitted ratings. (Drawing from
the smoothed rate (w + ½) / (n + 1) instead shrinks every resample twice and, with many
one-sided pairs, put the estimate outside its own interval; docs/scoring.md gives the
simulated coverage of both.) Seeded: the same store and seed give the same intervals.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.evaluation.intervals import DEFAULT_LEVEL, DEFAULT_N_BOOT, Interval
from core.store import Store

__all__ = ["PRIOR_GAMES", "RIDGE", "PairGames", "RatingRow", "Ratings", "compute_ratings", "fit_bradley_terry", "rate_games"]

# Ridge penalty on the logit ratings: a N(0, 1/λ = 20) prior, far weaker than any team's
# games (a team with 50 games moves < 1 Elo point for it); it fixes the free offset.
RIDGE = 0.05
# Wins and losses added to every pair: Jeffreys' Beta(½, ½) prior on the pair's rate.
PRIOR_GAMES = 0.5
# Elo scale of Chatbot Arena: 400 points per factor 10 in the odds, centred on 1000.
ELO_SCALE = 400 / math.log(10)
ELO_CENTRE = 1000.0
# Newton's method converges quadratically; this bound is never reached in practice.
_MAX_ITER = 100
_TOL = 1e-10


@dataclass(frozen=True)
class PairGames:
    """The decided games of one (attacker, defender) pair, pooled over tournaments."""

    attacker: str
    defender: str
    wins: int  # attack successes
    games: int  # complete conversations
    undecided: int = 0  # of the games, those without a verdict yet (counted as defences)


@dataclass(frozen=True)
class RatingRow:
    """One team's rating (Elo scale) with its percentile bootstrap interval and games."""

    rank: int
    name: str
    side: str
    rating: float
    interval: Interval
    games: int
    wins: int


@dataclass(frozen=True)
class Ratings:
    """Bradley-Terry ratings of both sides over some tournaments, best first per side."""

    tournaments: tuple[str, ...]
    attackers: tuple[RatingRow, ...]
    defenders: tuple[RatingRow, ...]
    games: int
    n_boot: int
    seed: int
    level: float
    ridge: float
    undecided: int = 0
    prior: float = PRIOR_GAMES

    @property
    def provisional(self) -> bool:
        """True while some games are undecided conversations counted as defences."""
        return self.undecided > 0

    def rating(self, name: str, side: str) -> RatingRow:
        """The row of a team; KeyError if it has none."""
        for row in self.attackers if side == "attacker" else self.defenders:
            if row.name == name:
                return row
        raise KeyError(name)

    def p_beats(self, first: RatingRow, second: RatingRow) -> float:
        """P(first beats second) under the model: σ(θ_first − θ_second) (module docstring)."""
        return float(_sigmoid((first.rating - second.rating) / ELO_SCALE))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: rows per side and the P(row beats column) matrices
        (``p_beats[kind][row name][column name]``, kinds ``attacker_vs_defender``,
        ``attacker_vs_attacker``, ``defender_vs_defender``)."""
        def rows(side: Sequence[RatingRow]) -> list[dict[str, Any]]:
            return [{"rank": r.rank, "name": r.name, "rating": round(r.rating, 3),
                     "interval": [round(r.interval.lo, 3), round(r.interval.hi, 3)],
                     "games": r.games, "wins": r.wins} for r in side]

        def matrix(left: Sequence[RatingRow], right: Sequence[RatingRow]) -> dict[str, dict[str, float]]:
            return {a.name: {b.name: round(self.p_beats(a, b), 6) for b in right if b is not a} for a in left}

        return {
            "model": "bradley-terry", "scale": "elo (1000 + 400 log10 odds)", "ridge": self.ridge, "prior_games": self.prior,
            "tournaments": list(self.tournaments), "games": self.games, "n_boot": self.n_boot, "seed": self.seed,
            "level": self.level, "provisional": self.provisional, "undecided": self.undecided, "attackers": rows(self.attackers), "defenders": rows(self.defenders),
            "p_beats": {
                "attacker_vs_defender": matrix(self.attackers, self.defenders),
                "attacker_vs_attacker": matrix(self.attackers, self.attackers),
                "defender_vs_defender": matrix(self.defenders, self.defenders),
            },
        }


def _sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))  # overflow-free σ


def fit_bradley_terry(wins: np.ndarray, games: np.ndarray, attacker_index: np.ndarray, defender_index: np.ndarray,
                      n_attackers: int, n_defenders: int, *, ridge: float = RIDGE) -> np.ndarray:
    """Penalised maximum-likelihood logit ratings, attackers first then defenders.

    `wins` and `games` are per pair (1-D, or 2-D with one row per resample: every row is
    fitted, at once); `attacker_index`/`defender_index` give each pair's teams. Maximises
    Σ_pairs [w log σ(θ_a − θ_d) + (n − w) log σ(θ_d − θ_a)] − (ridge / 2) Σ θ² by Newton's
    method (the objective is strictly concave for ridge > 0). With ridge = 0 the data
    must not be separable and the offset is fixed by centring (Σθ = 0).
    """
    wins2 = np.atleast_2d(np.asarray(wins, dtype=np.float64))
    games2 = np.atleast_2d(np.asarray(games, dtype=np.float64))
    n_params = n_attackers + n_defenders
    # Design: +1 on the pair's attacker, -1 on its defender.
    design = np.zeros((attacker_index.size, n_params))
    rows = np.arange(attacker_index.size)
    design[rows, attacker_index] = 1.0
    design[rows, n_attackers + defender_index] = -1.0
    theta = np.zeros((wins2.shape[0], n_params))
    # With no ridge the Hessian is singular along the all-ones direction: a tiny ridge
    # for the step only, then centring, gives the centred optimum.
    step_ridge = ridge if ridge > 0 else 1e-9
    eye = np.eye(n_params)
    for _ in range(_MAX_ITER):
        p = _sigmoid(theta @ design.T)  # (B, pairs)
        gradient = (wins2 - games2 * p) @ design - ridge * theta
        weight = games2 * p * (1 - p)
        hessian = _hessian(weight, attacker_index, defender_index, n_attackers, n_defenders) + step_ridge * eye
        step = np.linalg.solve(hessian, gradient[..., None])[..., 0]
        theta = theta + step
        if ridge <= 0:
            theta -= theta.mean(axis=1, keepdims=True)
        if np.max(np.abs(step)) < _TOL:
            break
    return theta[0] if np.ndim(wins) == 1 else theta


def _hessian(weight: np.ndarray, attacker_index: np.ndarray, defender_index: np.ndarray, n_attackers: int,
             n_defenders: int) -> np.ndarray:
    """The negative log-likelihood's Hessian per resample, from the pair weights n·p·(1−p):
    diagonal blocks hold each team's summed weights, the off-diagonal blocks −weight per
    pair (the design's ±1 structure, without a pairs × params × params product)."""
    blocks = np.zeros((weight.shape[0], n_attackers, n_defenders))
    blocks[:, attacker_index, defender_index] = weight  # (attacker, defender) pairs are unique
    n_params = n_attackers + n_defenders
    hessian = np.zeros((weight.shape[0], n_params, n_params))
    own = np.arange(n_attackers)
    hessian[:, own, own] = blocks.sum(axis=2)
    theirs = n_attackers + np.arange(n_defenders)
    hessian[:, theirs, theirs] = blocks.sum(axis=1)
    hessian[:, :n_attackers, n_attackers:] = -blocks
    hessian[:, n_attackers:, :n_attackers] = -blocks.transpose(0, 2, 1)
    return hessian


def rate_games(pairs: Sequence[PairGames], *, tournaments: Sequence[str] = (), n_boot: int = DEFAULT_N_BOOT,
               seed: int = 0, level: float = DEFAULT_LEVEL, ridge: float = RIDGE,
               prior: float = PRIOR_GAMES) -> Ratings:
    """Ratings from per-pair game counts (pairs without games are ignored)."""
    played = [p for p in pairs if p.games > 0]
    attackers = sorted({p.attacker for p in played})
    defenders = sorted({p.defender for p in played})
    a_index = np.asarray([attackers.index(p.attacker) for p in played], dtype=np.int64)
    d_index = np.asarray([defenders.index(p.defender) for p in played], dtype=np.int64)
    wins = np.asarray([p.wins for p in played], dtype=np.float64)
    games = np.asarray([p.games for p in played], dtype=np.float64)
    undecided = sum(p.undecided for p in played)
    if not played:
        return Ratings(tuple(tournaments), (), (), 0, n_boot, seed, level, ridge, 0, prior)
    theta = fit_bradley_terry(wins + prior, games + 2 * prior, a_index, d_index, len(attackers), len(defenders),
                              ridge=ridge)
    rng = np.random.default_rng(seed)
    boot_wins = rng.binomial(games.astype(np.int64), wins / games, size=(n_boot, games.size)) + prior
    boot = fit_bradley_terry(boot_wins, np.broadcast_to(games + 2 * prior, boot_wins.shape), a_index, d_index,
                             len(attackers), len(defenders), ridge=ridge)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(boot, [tail, 100 - tail], axis=0)

    def side(names: list[str], offset: int, kind: str, index: np.ndarray) -> tuple[RatingRow, ...]:
        rows = []
        for k, name in enumerate(names):
            mine = index == k
            won = int(wins[mine].sum()) if kind == "attacker" else int((games - wins)[mine].sum())
            rows.append((name, _elo(theta[offset + k]), Interval(_elo(low[offset + k]), _elo(high[offset + k])),
                         int(games[mine].sum()), won))
        rows.sort(key=lambda r: (-r[1], r[0]))
        return tuple(RatingRow(rank, name, kind, rating, interval, n, w)
                     for rank, (name, rating, interval, n, w) in enumerate(rows, start=1))

    return Ratings(tuple(tournaments), side(attackers, 0, "attacker", a_index),
                   side(defenders, len(attackers), "defender", d_index), int(games.sum()), n_boot, seed, level, ridge,
                   undecided, prior)


def _elo(theta: float) -> float:
    return float(ELO_CENTRE + ELO_SCALE * theta)


def pair_games(store: Store, tournament_ids: Iterable[int]) -> tuple[list[str], list[PairGames]]:
    """The tournaments' names (by id) and their games (complete conversations) pooled per
    (attacker, defender) name pair, from the store's grouped counts (one query)."""
    wanted = set(tournament_ids)
    tournaments = [t for t in store.tournaments() if t.id in wanted]
    missing = wanted - {t.id for t in tournaments}
    if missing:
        raise ValueError(f"no tournament with id {min(missing)}")
    attack_label = {t.id: t.settings.evaluation.attack_label for t in tournaments}
    counts: dict[tuple[str, str], list[int]] = {}
    for row in store.scoring_tallies(list(attack_label)):
        if row.status != "complete":
            continue
        entry = counts.setdefault((row.attacker, row.defender), [0, 0, 0])
        entry[1] += row.count
        if row.verdict is None:
            entry[2] += row.count
        elif row.verdict == attack_label[row.tournament_id]:
            entry[0] += row.count
    pairs = [PairGames(a, d, w, n, u) for (a, d), (w, n, u) in sorted(counts.items())]
    return [t.name for t in sorted(tournaments, key=lambda t: t.id)], pairs


def compute_ratings(store: Store, tournament_ids: Iterable[int], *, n_boot: int = DEFAULT_N_BOOT, seed: int = 0,
                    level: float = DEFAULT_LEVEL, ridge: float = RIDGE, prior: float = PRIOR_GAMES) -> Ratings:
    """Bradley-Terry ratings over the given tournaments (pooled by team name); raises
    ValueError for an unknown tournament id."""
    names, pairs = pair_games(store, tournament_ids)
    return rate_games(pairs, tournaments=names, n_boot=n_boot, seed=seed, level=level, ridge=ridge, prior=prior)
