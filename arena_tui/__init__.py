"""The `arena-tui` command line and its terminal UIs.

`cli` is the command line (one module per command group, wired in `cli/__init__.py`,
shared options and helpers in `cli/common.py`); `watch` and `annotate` are the two
Textual apps, one folder each (app, screen, messages, styles, widgets); `common` holds
what both apps share (safe text, the transcript renderer, panes, the keys help).
"""

from core import __version__

__all__ = ["__version__"]
