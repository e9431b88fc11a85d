"""core/ must never pull in the UI stack (STYLE.md habit 1)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import core


def core_modules() -> list[str]:
    return sorted(f"core.{m.name}" for m in pkgutil.iter_modules(core.__path__) if m.name != "__main__")


def test_core_has_modules() -> None:
    """The check below would be vacuous on an empty package."""
    assert {"core.config", "core.store", "core.orchestrator", "core.bots"} <= set(core_modules())


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
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    offenders = []
    for package in ("core", "arena_tui"):
        for path in (root / package).rglob("*.py"):
            if path.parent.name == "store" and path.parent.parent.name == "core":
                continue
            text = path.read_text(encoding="utf-8")
            if re.search(r"\.(execute|executemany|executescript)\(", text):
                offenders.append(str(path.relative_to(root)))
    assert offenders == []
