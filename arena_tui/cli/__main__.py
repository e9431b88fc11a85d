"""``python -m arena_tui.cli``: the same command line as the `arena-tui` script."""

from arena_tui.cli import main

main()
