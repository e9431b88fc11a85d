"""The sandbox's child program as a real module (`core.tournament.sandbox_child`), run by path."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from core.tournament import sandbox_child
from core.tournament.sandbox import run_python_tests


def test_the_child_imports_only_the_standard_library() -> None:
    """It runs under `-I -S`, where nothing of the project or site-packages is importable."""
    tree = ast.parse(Path(sandbox_child.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported and imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


def test_a_warning_attributed_to_the_child_is_no_refusal() -> None:
    """A solution warning with stacklevel=2 points at the child's own frame; showing that
    source line reads the child's file, which must not count as reading outside the sandbox."""
    code = "import warnings\nwarnings.warn('careful', stacklevel=2)\ndef f():\n    return 1\n"
    result = run_python_tests(code, "assert f() == 1\n")
    assert (result.status, result.reason) == ("passed", "all tests passed")
    assert "careful" in result.stdout_tail
