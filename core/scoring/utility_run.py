"""Running the utility sets against a config's defenders and base model, and reading U back.

`run_config_utility(config, store)` starts the base model bot (``[utility.base]``) and then
each defender of the config with ``core.tournament.bots.make_bot``, puts every item of the
configured sets to it through ``core.scoring.utility.run_utility`` (the bot answers on the
defender side; utility turns arrive as attacker-role messages), and stores one row per
item in the store's ``utility_results`` table under the config's name (the tournament
name). A bot's earlier results under that name are replaced.

`stored_utility(store, names)` turns the stored rows back into u, u_base and
U = min(u, u_base) / u_base x 100 per (config name, defender) with ``core.scoring.utility``'s own
formulas; the leaderboard reads utility only through it. A defender with no stored
rows, or a config without base-model rows, has no standing: its utility is unknown,
never assumed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.scoring.items import ItemScore
from core.scoring.utility import (
    UtilityItem,
    load_utility_set,
    normalised_utility,
    run_utility,
    utility_score,
)
from core.store import Store
from core.tournament.config import BotSpec, TournamentConfig

__all__ = [
    "BASE_ROLE",
    "DEFENDER_ROLE",
    "BotUtility",
    "UtilityProgress",
    "UtilityRun",
    "UtilityRunError",
    "UtilityStanding",
    "load_config_sets",
    "run_config_utility",
    "stored_utility",
]

BASE_ROLE = "base"
DEFENDER_ROLE = "defender"
# Utility items in flight per bot; a process bot also queues on its own declared
# concurrency, so this only bounds how many conversations wait on it at once.
DEFAULT_ITEM_CONCURRENCY = 8
# Sandboxes running test code at once; one per core on the 2-core reference laptop.
DEFAULT_SANDBOX_WORKERS = 2

# progress(bot name, items done, items total, the item just scored or None at the start)
UtilityProgress = Callable[[str, int, int, ItemScore | None], None]


class UtilityRunError(ValueError):
    """The utility run cannot start (no sets, no base model, a bad set file); one line."""


@dataclass(frozen=True)
class UtilityStanding:
    """A defender's utility in one config (tournament): u and the base's u_base (0-100),
    U = normalised utility (0-100), and how many items were scored."""

    config: str
    bot: str
    u: float
    u_base: float
    U: float  # noqa: N815 - the contract's name
    items: int


@dataclass(frozen=True)
class BotUtility:
    """What one bot scored in a run: u, the per-set means (x 100), the item counts, and
    U for a defender (None for the base model). `failed` holds why the bot could not be
    run at all (then nothing was stored for it). `undefined` lists, per code set, the ids
    of the items where no reply defined the function the tests call (scored 0 untested)."""

    name: str
    role: str
    u: float | None
    per_set: dict[str, float] = field(default_factory=dict)
    items: int = 0
    passed: int = 0
    refused: int = 0
    errors: int = 0
    U: float | None = None  # noqa: N815 - the contract's name
    failed: str | None = None
    undefined: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class UtilityRun:
    """The outcome of `run_config_utility`: the base model's utility and each defender's."""

    config: str
    base: BotUtility
    defenders: tuple[BotUtility, ...]


def load_config_sets(config: TournamentConfig) -> dict[str, list[UtilityItem]]:
    """The config's utility sets, by set name (each file's stem); raises UtilityRunError."""
    if not config.utility.sets:
        raise UtilityRunError(f"config {config.name!r} lists no utility sets ([utility] sets)")
    sets: dict[str, list[UtilityItem]] = {}
    for path in config.utility.sets:
        name = Path(path).stem
        if name in sets:
            raise UtilityRunError(f"two utility sets are named {name!r}; set names come from the file names")
        try:
            sets[name] = load_utility_set(path, name)
        except ValueError as exc:  # UtilitySetError is a ValueError
            raise UtilityRunError(str(exc)) from None
    return sets


async def run_config_utility(
    config: TournamentConfig,
    store: Store,
    *,
    log_dir: Path | None = None,
    progress: UtilityProgress | None = None,
    concurrency: int = DEFAULT_ITEM_CONCURRENCY,
    sandbox_workers: int = DEFAULT_SANDBOX_WORKERS,
) -> UtilityRun:
    """Measure the base model and every defender of `config` on its utility sets.

    Bot logs go to `log_dir` (default: the tournament's log folder, ``utility/``).
    The base model runs first: if it cannot start, UtilityRunError is raised and
    nothing is stored. A defender that cannot start is reported (`failed`) and keeps
    whatever results it had. Item seeds derive from the config's seed, so a rerun
    sends the same requests. Results are stored per bot as soon as it is done.
    """
    sets = load_config_sets(config)
    base_spec = config.utility.base
    if base_spec is None:
        raise UtilityRunError(f"config {config.name!r} has no base model ([utility.base]) to normalise utility")
    if base_spec.name in {d.name for d in config.defenders}:
        raise UtilityRunError(f"the base model's name {base_spec.name!r} is also a defender's; give it another name")

    if log_dir is None:
        from core.tournament.orchestrator import log_dir_for

        log_dir = log_dir_for(store.path, config.name) / "utility"

    async def measure(spec: BotSpec, role: str) -> BotUtility:
        return await _measure_bot(spec, role, sets, config, store, log_dir, progress, concurrency, sandbox_workers)

    base = await measure(base_spec, BASE_ROLE)
    if base.failed is not None:
        raise UtilityRunError(f"base model {base_spec.name!r} could not be run: {base.failed}")
    assert base.u is not None
    defenders = []
    for spec in config.defenders:
        result = await measure(spec, DEFENDER_ROLE)
        if result.u is not None:
            result = replace(result, U=normalised_utility(result.u, base.u))
        defenders.append(result)
    return UtilityRun(config.name, base, tuple(defenders))


async def _measure_bot(spec: BotSpec, role: str, sets: dict[str, list[UtilityItem]], config: TournamentConfig,
                       store: Store, log_dir: Path | None, progress: UtilityProgress | None,
                       concurrency: int, sandbox_workers: int) -> BotUtility:
    # The bot clients (and their HTTP client) load only when bots run: the leaderboard
    # imports this module for `stored_utility`, in every app that shows standings.
    from core.tournament.bots import BotFailure, make_bot
    from core.tournament.isolation import hidden_for_store

    timeout = config.utility.timeout
    total = sum(len(items) for items in sets.values())
    bot = make_bot(spec, log_dir, handshake_timeout=timeout, hidden=hidden_for_store(store.path))
    try:
        await bot.start()
    except BotFailure as exc:
        await bot.close()
        return BotUtility(spec.name, role, None, failed=f"{exc.reason}: {exc.detail}")
    request_ids = itertools.count()

    async def ask(messages: list[dict[str, str]], seed: int) -> str:
        # The defender answers the turn after the messages so far, as in a tournament.
        request = {
            "type": "turn",
            "id": f"utility-{next(request_ids)}",
            "conversation": f"utility-{seed:016x}",
            "side": "defender",
            "turn": len(messages),
            "seed": seed,
            "deadline_ms": int(timeout * 1000),
            "messages": messages,
        }
        reply = await bot.ask(request, timeout)
        return reply.content

    done = 0

    def on_item(score: ItemScore) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(spec.name, done, total, score)

    if progress is not None:
        progress(spec.name, 0, total, None)
    try:
        report = await run_utility(ask, sets, seed=config.seed, concurrency=concurrency,
                                   sandbox_workers=sandbox_workers, on_item=on_item)
    finally:
        await bot.close()
    store.save_utility_results(
        config.name, spec.name, role,
        [(s.set_name, s.item_id, s.score, s.passed, s.refused, s.detail) for s in report.items],
    )
    return BotUtility(
        name=spec.name, role=role, u=report.u, per_set=dict(report.per_set), items=len(report.items),
        passed=sum(s.passed for s in report.items), refused=report.refusals,
        errors=sum(s.error for s in report.items),
        undefined=_undefined_items(report.items),
    )


def _undefined_items(scores: Sequence[ItemScore]) -> dict[str, tuple[str, ...]]:
    by_set: dict[str, list[str]] = {}
    for score in scores:
        if score.undefined:
            by_set.setdefault(score.set_name, []).append(score.item_id)
    return {name: tuple(ids) for name, ids in by_set.items()}


def stored_utility(store: Store, configs: Sequence[str]) -> dict[tuple[str, str], UtilityStanding]:
    """(config name, defender) -> its utility standing, from the stored per-item results.

    u and u_base use ``core.scoring.utility.utility_score`` (mean over sets of the mean item
    score x 100); U uses ``core.scoring.utility.normalised_utility``. Configs without stored
    base-model results give no standings.
    """
    grouped: dict[tuple[str, str, str], list[ItemScore]] = {}
    latest_base: dict[str, tuple[float, str]] = {}
    for row in store.utility_results(list(configs)):
        grouped.setdefault((row.config, row.role, row.bot), []).append(row)
        if row.role == BASE_ROLE:
            latest_base[row.config] = max(latest_base.get(row.config, (row.created_at, row.bot)),
                                          (row.created_at, row.bot))
    # The base model measured last normalises (the config's base may have been renamed).
    base_u = {config: utility_score(grouped[(config, BASE_ROLE, bot)]) for config, (_, bot) in latest_base.items()}
    standings: dict[tuple[str, str], UtilityStanding] = {}
    for (config, role, bot), scores in grouped.items():
        if role != DEFENDER_ROLE or config not in base_u:
            continue
        u = utility_score(scores)
        standings[(config, bot)] = UtilityStanding(config, bot, u, base_u[config],
                                                   normalised_utility(u, base_u[config]), len(scores))
    return standings
