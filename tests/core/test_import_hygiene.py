"""core/ must never pull in the UI stack: the engine runs headless, without Textual or Rich."""

from __future__ import annotations

import ast
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import core

ROOT = Path(__file__).resolve().parents[2]


def core_modules() -> list[str]:
    """Every module of core, subpackages included."""
    return sorted(m.name for m in pkgutil.walk_packages(core.__path__, "core.") if not m.name.endswith("__main__"))


def test_core_has_modules() -> None:
    """The check below would be vacuous on an empty package."""
    assert {"core.tournament.config", "core.store", "core.tournament.orchestrator", "core.tournament.bots"} <= set(core_modules())


def module_imports() -> dict[str, set[str]]:
    """For every module of core and arena_tui, the project modules it imports when it is
    imported (module level, outside ``if TYPE_CHECKING:``; imports inside functions run
    later and cannot make a cycle at import time, but are counted too when they name a
    module of the same package: a cycle there is a tangle all the same)."""
    modules: dict[str, Path] = {}
    for package in ("core", "arena_tui", "arena_sdk"):
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found: set[str] = set()
        for node in _module_level(tree.body):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module
                           for alias in node.names]
            found.update(t for t in targets if t in modules and t != name)
        graph[name] = found
    return graph


def _module_level(body: list[ast.stmt]):  # noqa: ANN202
    for node in body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            yield from _module_level([*node.body, *getattr(node, "orelse", []), *getattr(node, "finalbody", []),
                                      *[n for h in getattr(node, "handlers", []) for n in h.body]])


def test_no_import_cycle() -> None:
    """No module imports itself through others at import time (the CLI's command modules
    are wired in `arena_tui.cli.__init__`, never imported back)."""
    graph = module_imports()
    assert {"arena_tui.cli.data", "core.tournament.bots"} <= set(graph)
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert cycles == [], " ; ".join(" -> ".join(c) for c in cycles)


def test_core_never_imports_the_samples() -> None:
    """The engine does not depend on the bundled sample data: the CLI passes paths in."""
    offenders = [name for name, imported in module_imports().items()
                 if name.startswith("core") and any(m.startswith("sample_data") for m in imported)]
    offenders += [str(p.relative_to(ROOT)) for p in (ROOT / "core").rglob("*.py")
                  if re.search(r"^\s*(from|import) sample_data\b", p.read_text(encoding="utf-8"), re.M)]
    assert offenders == []


def test_no_core_module_imports_textual_rich_or_arena_tui() -> None:
    """Each core module, imported alone in a fresh interpreter, leaves textual, rich and
    arena_tui out of sys.modules."""
    script = (
        "import importlib, sys\n"
        "bad = {}\n"
        "for name in sys.argv[1:]:\n"
        "    importlib.import_module(name)\n"
        "    hits = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'arena_tui'))\n"
        "    if hits: bad[name] = hits[:3]\n"
        "print(bad)\n"
    )
    # One interpreter per module would be stricter but slow; modules that import each
    # other are checked together anyway, and a leak from any of them shows up here.
    for module in core_modules():
        out = subprocess.run([sys.executable, "-c", script, module], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "{}", f"{module} pulls in {out.stdout.strip()}"


def test_sql_is_written_only_in_the_store_package() -> None:
    """One place writes SQL: no module outside core/store executes statements itself."""
    root = ROOT
    offenders = []
    for package in ("core", "arena_tui"):
        for path in (root / package).rglob("*.py"):
            if path.parent.name == "store" and path.parent.parent.name == "core":
                continue
            text = path.read_text(encoding="utf-8")
            if re.search(r"\.(execute|executemany|executescript)\(", text):
                offenders.append(str(path.relative_to(root)))
    assert offenders == []


def test_arena_sdk_has_no_ui_no_store_and_no_engine_at_import() -> None:
    """Each arena_sdk module, imported alone in a fresh interpreter, leaves textual, rich,
    arena_tui, sqlite and every module of the engine (core) out of sys.modules: the kit is
    what a team's bot imports, and the store and UI have no place in a bot process."""
    import arena_sdk

    modules = sorted(m.name for m in pkgutil.walk_packages(arena_sdk.__path__, "arena_sdk.")
                     if not m.name.endswith("__main__"))
    assert {"arena_sdk.bot", "arena_sdk.strategies", "arena_sdk.converters", "arena_sdk.guards"} <= set(modules)
    script = (
        "import importlib, sys\n"
        "name = sys.argv[1]\n"
        "importlib.import_module(name)\n"
        "hits = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'rich', 'arena_tui', 'core', 'sqlite3', 'sqlite_utils', 'bandit'))\n"
        "print(hits[:3])\n"
    )
    for module in ["arena_sdk", *modules]:
        out = subprocess.run([sys.executable, "-c", script, module], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "[]", f"{module} pulls in {out.stdout.strip()}"


def test_apps_that_only_read_load_no_bot_clients() -> None:
    """The annotate app and the standings it shows (leaderboard, utility read back) run no
    bots: the bot clients, their HTTP client and the SDK stay out of sys.modules (they cost
    the annotator's laptop memory and start-up time)."""
    script = (
        "import sys\n"
        "import arena_tui.annotate.app, arena_tui.season.app, core.scoring.leaderboard\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aiohttp', 'arena_sdk')"
        " or m == 'core.tournament.bots'))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
