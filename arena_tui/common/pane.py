"""Panes: titled regions of a screen that a key takes you to, and `z` zooms.

Shared by the watch and annotate screens, so both move between panes the same way:
`tab` cycles the focus, a letter key goes to one pane, `z` zooms the focused pane to
the whole screen and `z` or `escape` brings the layout back. On a small terminal the
layout hides some panes; going to a hidden pane opens it zoomed.
"""

from __future__ import annotations

from textual.containers import Vertical
from textual.screen import Screen
from textual.widget import Widget


class Pane(Vertical):
    """A titled region that can be zoomed (maximized) as a whole, title included."""

    ALLOW_MAXIMIZE = True


def hidden_by_layout(widget: Widget) -> bool:
    """Whether the widget or one of its containers is not displayed."""
    return any(isinstance(node, Widget) and not node.display for node in widget.ancestors_with_self
               if not isinstance(node, Screen))


def go_to_pane(screen: Screen, pane: Widget, target: Widget | None = None) -> None:
    """Focus `target` (a focusable widget in `pane`); zoom `pane` when the layout hides it
    or nothing in it takes the focus. Another zoomed pane is restored first."""
    if screen.maximized is not None and screen.maximized is not pane:
        screen.minimize()
    if target is None or hidden_by_layout(pane):
        screen.maximize(pane, container=False)
    if target is not None:
        target.focus()
    else:
        screen.set_focus(None)  # keys go to the screen, not to a widget the zoom hides


def toggle_zoom(screen: Screen, fallback: Widget | None = None) -> None:
    """Zoom the pane that holds the focus (or `fallback`), or restore the layout when zoomed."""
    if screen.maximized is not None:
        screen.minimize()
        return
    zoomable = fallback
    if screen.focused is not None:
        around = [node for node in screen.focused.ancestors_with_self
                  if isinstance(node, Widget) and not isinstance(node, Screen) and node.allow_maximize]
        zoomable = next((node for node in around if isinstance(node, Pane)), around[0] if around else fallback)
    if zoomable is not None:
        screen.maximize(zoomable, container=False)
