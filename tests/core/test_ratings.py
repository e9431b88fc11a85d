"""core.scoring.ratings: the Bradley-Terry fit against independent references (scipy's
optimiser on the same likelihood, a simulation with known strengths), its intervals and
win probabilities, and the ratings of a store."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from core.scoring.ratings import (
    ELO_SCALE,
    PairGames,
    compute_ratings,
    fit_bradley_terry,
    rate_games,
)
from core.store import Store
from tests.core.test_leaderboard import TEXTS, add_tournament, one


def _grid(n_att: int, n_def: int) -> tuple[np.ndarray, np.ndarray]:
    a, d = np.meshgrid(np.arange(n_att), np.arange(n_def), indexing="ij")
    return a.ravel(), d.ravel()


def _scipy_fit(wins: np.ndarray, games: np.ndarray, a: np.ndarray, d: np.ndarray, n_att: int, n_def: int,
               ridge: float) -> np.ndarray:
    """The same likelihood written independently (per conversation, not per pair) and
    maximised by scipy's L-BFGS-B, as FastChat's `fit_bt` does."""
    attacker = np.repeat(a, games.astype(int))
    defender = np.repeat(d, games.astype(int))
    outcome = np.concatenate([np.r_[np.ones(int(w)), np.zeros(int(n - w))] for w, n in zip(wins, games, strict=True)])

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        logit = theta[attacker] - theta[n_att + defender]
        value = -(outcome * log_expit(logit) + (1 - outcome) * log_expit(-logit)).sum() + ridge / 2 * theta @ theta
        residual = outcome - expit(logit)
        grad = ridge * theta
        np.add.at(grad, attacker, -residual)
        np.add.at(grad, n_att + defender, residual)
        return value, grad

    result = minimize(loss, np.zeros(n_att + n_def), jac=True, method="L-BFGS-B",
                      options={"gtol": 1e-10, "ftol": 1e-15, "maxiter": 10_000})
    return result.x


def test_fit_matches_scipy_on_the_same_likelihood() -> None:
    """Newton's method on pair counts gives scipy's optimum of the per-conversation
    likelihood, with the ridge penalty and without it (then up to the free offset)."""
    rng = np.random.default_rng(3)
    a, d = _grid(4, 3)
    games = rng.integers(5, 30, size=a.size).astype(float)
    wins = rng.binomial(games.astype(int), 0.4).astype(float)
    for ridge in (0.05, 1.0):
        ours = fit_bradley_terry(wins, games, a, d, 4, 3, ridge=ridge)
        reference = _scipy_fit(wins, games, a, d, 4, 3, ridge)
        np.testing.assert_allclose(ours, reference, atol=1e-5)
    ours = fit_bradley_terry(wins, games, a, d, 4, 3, ridge=0.0)
    reference = _scipy_fit(wins, games, a, d, 4, 3, 1e-12)
    reference -= reference.mean()
    np.testing.assert_allclose(ours, reference, atol=1e-4)
    assert abs(ours.sum()) < 1e-9


def test_simulation_recovers_known_strengths() -> None:
    """Games drawn from known ratings: the fit finds their differences, and the
    bootstrap intervals cover the truth for (nearly) every team."""
    rng = np.random.default_rng(11)
    truth_att = np.array([1.0, 0.3, -0.2, -1.0])
    truth_def = np.array([0.8, 0.0, -0.6])
    a, d = _grid(4, 3)
    games = np.full(a.size, 2000.0)
    wins = rng.binomial(2000, expit(truth_att[a] - truth_def[d])).astype(float)
    theta = fit_bradley_terry(wins, games, a, d, 4, 3, ridge=0.0)
    truth = np.r_[truth_att, truth_def]
    truth = truth - truth.mean()
    np.testing.assert_allclose(theta, truth, atol=0.1)

    pairs = [PairGames(f"a{i}", f"d{j}", int(w), int(n)) for i, j, w, n in zip(a, d, wins, games, strict=True)]
    ratings = rate_games(pairs, n_boot=300, seed=1)  # the prior's half games are negligible here
    covered = 0
    for side, values in (("attacker", truth[:4]), ("defender", truth[4:])):
        for k, value in enumerate(values):
            row = ratings.rating(f"{side[0]}{k}", side)
            elo = 1000 + ELO_SCALE * value
            covered += row.interval.lo <= elo <= row.interval.hi
    assert covered >= 6  # 7 teams, 95 % intervals
    assert [r.name for r in ratings.attackers] == ["a0", "a1", "a2", "a3"]
    assert [r.name for r in ratings.defenders] == ["d0", "d1", "d2"]


def test_win_probabilities_follow_the_model() -> None:
    """P(attacker beats defender) is the modelled rate σ(θa − θd), and for two attackers,
    simulated against one defender, P(a beats b) is the share of a's among the games
    where exactly one of them succeeded."""
    pairs = [PairGames("strong", "wall", 60, 100), PairGames("weak", "wall", 20, 100),
             PairGames("strong", "sieve", 90, 100), PairGames("weak", "sieve", 50, 100)]
    ratings = rate_games(pairs, n_boot=100, seed=0, ridge=0.0, prior=0.0)
    strong, weak = ratings.rating("strong", "attacker"), ratings.rating("weak", "attacker")
    wall = ratings.rating("wall", "defender")
    theta = {r.name: (r.rating - 1000) / ELO_SCALE for r in (*ratings.attackers, *ratings.defenders)}
    assert ratings.p_beats(strong, wall) == pytest.approx(expit(theta["strong"] - theta["wall"]))
    p_strong, p_weak = ratings.p_beats(strong, wall), ratings.p_beats(weak, wall)
    rng = np.random.default_rng(5)
    first, second = rng.random(200_000) < p_strong, rng.random(200_000) < p_weak
    exactly_one = first != second
    assert ratings.p_beats(strong, weak) == pytest.approx(first[exactly_one].mean(), abs=0.01)
    assert ratings.p_beats(strong, weak) + ratings.p_beats(weak, strong) == pytest.approx(1.0)
    data = ratings.to_dict()
    assert data["p_beats"]["attacker_vs_defender"]["strong"]["wall"] == pytest.approx(p_strong, abs=1e-6)
    assert "strong" not in data["p_beats"]["attacker_vs_attacker"]["strong"]


def test_a_team_that_won_every_game_has_a_finite_rating() -> None:
    """Separated data (an attacker that never failed) gives finite ratings and intervals
    that hold the estimate: the fit and every resample add the prior's half games."""
    pairs = [PairGames("always", "d1", 10, 10), PairGames("always", "d2", 10, 10),
             PairGames("never", "d1", 0, 10), PairGames("never", "d2", 3, 10)]
    ratings = rate_games(pairs, n_boot=200, seed=0)
    for row in (*ratings.attackers, *ratings.defenders):
        assert math.isfinite(row.rating) and row.interval.lo <= row.rating <= row.interval.hi + 1e-6
    assert ratings.attackers[0].name == "always"


def test_many_one_sided_pairs_keep_every_estimate_inside_its_interval() -> None:
    """The bundled sample before labelling: three defenders never beaten (200/200 defences
    in every pair), the other two beaten 65-100 % of the time. Every team's estimate lies
    inside its interval (drawing resamples from the smoothed rate left the attackers'
    estimates below their intervals: 644 in [646, 754])."""
    wins = {"direct": (182, 185), "escalator": (200, 200), "mutator": (171, 184), "roleplay": (131, 182),
            "smuggler": (174, 169)}
    pairs = [PairGames(attacker, wall, 0, 200) for attacker in wins for wall in ("balanced", "intent", "refuser")]
    pairs += [PairGames(attacker, sieve, won, 200) for attacker, both in wins.items()
              for sieve, won in zip(("keyword", "naive"), both, strict=True)]
    ratings = rate_games(pairs, n_boot=1000, seed=0)
    for row in (*ratings.attackers, *ratings.defenders):
        assert row.interval.lo <= row.rating <= row.interval.hi, row


@pytest.mark.parametrize(("games", "spread", "at_least"), [(20, 1.0, 0.92), (20, 2.0, 0.75)])
def test_intervals_cover_known_strengths_in_repeated_simulation(games: int, spread: float, at_least: float) -> None:
    """100 tournaments of 5 × 5 teams with strengths drawn from N(0, spread²): the 95 %
    intervals cover the true (centred) ratings at about the nominal rate with 20 games a
    pair, and still at 0.75 or more when a third of the pairs are one-sided (the smoothed-
    rate resampling it replaced gave 0.91 and 0.64 here; docs/scoring.md)."""
    rng = np.random.default_rng(7)
    a, d = _grid(5, 5)
    covered = total = 0
    for _ in range(100):
        strength_a, strength_d = rng.normal(0, spread, 5), rng.normal(0, spread, 5)
        truth = np.r_[strength_a, strength_d]
        truth = 1000 + ELO_SCALE * (truth - truth.mean())
        won = rng.binomial(games, expit(strength_a[a] - strength_d[d]))
        ratings = rate_games([PairGames(f"a{i}", f"d{j}", int(w), games) for i, j, w in zip(a, d, won, strict=True)],
                             n_boot=300, seed=int(rng.integers(1 << 31)))
        for side, values in (("attacker", truth[:5]), ("defender", truth[5:])):
            for k, value in enumerate(values):
                row = ratings.rating(f"{side[0]}{k}", side)
                covered += row.interval.lo <= value <= row.interval.hi
                total += 1
    assert covered / total >= at_least


def test_ratings_of_a_store_pool_tournaments_by_team(tmp_path: Path) -> None:
    """Complete conversations are games, pooled by name over tournaments, an undecided
    one counting as a defence (and making the ratings provisional); incomplete and
    pending ones are not games; the same seed gives the same intervals."""
    with Store.open(tmp_path / "arena.db") as store:
        first = add_tournament(store, "r1", {("a1", "d1"): one(TEXTS, "AADDUI"), ("a2", "d1"): one(TEXTS, "DDDP")})
        second = add_tournament(store, "r2", {("a1", "d1"): one(TEXTS, "ADD"), ("a2", "d1"): one(TEXTS, "AD")})
        ratings = compute_ratings(store, [first, second], n_boot=200, seed=4)
        again = compute_ratings(store, [first, second], n_boot=200, seed=4)
        with pytest.raises(ValueError, match="no tournament"):
            compute_ratings(store, [99])
    assert ratings.tournaments == ("r1", "r2")
    a1 = ratings.rating("a1", "attacker")
    assert (a1.games, a1.wins) == (8, 3)
    assert ratings.rating("a2", "attacker").games == 5
    assert ratings.rating("d1", "defender").wins == 13 - 4
    assert ratings.games == 13
    assert ratings.provisional and ratings.undecided == 1
    assert ratings == again
