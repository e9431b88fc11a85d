"""The command modules load lazily: `arena-tui --help` lists every command without
importing any of them, and a command still runs (and shows its own help) when named."""

from __future__ import annotations

import importlib
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from arena_tui.cli import COMMANDS, main


def _real(name: str) -> click.Command:
    module, attribute, _ = COMMANDS[name]
    return getattr(importlib.import_module(module), attribute)


def test_help_lists_every_command_without_importing_them() -> None:
    """In a fresh interpreter: --help names every command with its summary, and no
    command module, numpy, bandit or the store was imported for it."""
    script = (
        "import sys\n"
        "from arena_tui.cli import main\n"
        "try:\n"
        "    main(['--help'], prog_name='arena-tui', max_content_width=400)\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('arena_tui.cli.', 'numpy', 'bandit', 'core.store',"
        " 'textual')) and m != 'arena_tui.cli.common')\n"
        "print('LOADED', loaded)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env={"COLUMNS": "400", "PATH": ""}).stdout
    assert out.splitlines()[-1] == "LOADED []"
    listing = out.split("Commands:")[1]
    for name, (_, _, summary) in COMMANDS.items():
        assert f"  {name} " in listing and summary in listing, name


def test_summaries_match_the_commands() -> None:
    """Each listed summary is the first sentence of its command's help, under its own name."""
    for name, (_, _, summary) in COMMANDS.items():
        command = _real(name)
        assert command.name == name
        assert command.get_short_help_str(limit=10**6) == summary, name


@pytest.mark.parametrize("width", [40, 80, 120])
def test_help_listing_is_clicks(width: int) -> None:
    """The listing is the one click prints for the imported commands, shortened alike."""
    eager = click.Group("arena-tui", help=main.help, commands=[_real(name) for name in COMMANDS])

    def listing(group: click.Group) -> str:
        result = CliRunner().invoke(group, ["--help"], terminal_width=width)
        return result.output.split("Commands:")[1]

    lazy = type(main)("arena-tui", help=main.help, lazy_commands=COMMANDS)
    assert listing(lazy) == listing(eager)


def test_command_help_and_unknown_command() -> None:
    result = CliRunner().invoke(main, ["evaluate", "--help"])
    assert result.exit_code == 0, result.output
    assert "--workers" in result.output and "static stage" in result.output
    result = CliRunner().invoke(main, ["bots", "--help"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["evaluat"])
    assert result.exit_code == 2 and "No such command" in result.output


def test_evaluate_loads_no_numpy() -> None:
    """`arena-tui evaluate`'s modules leave numpy out (only Dawid-Skene, agreement and
    judge trust need it, and import it when they run)."""
    script = ("import sys\nimport arena_tui.cli.evaluation, core.evaluation.pipeline, core.evaluation.static\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'textual')))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
