"""Command palette providers of the annotate screen (ctrl+p).

Jump to a conversation by id, switch the queue filter (status, tournament, matchup),
open the guidelines, export my labels, toggle the live panes, open the dataset report.

Titles hold tournament and bot names, which an import can set to anything: the palette
parses plain-string prompts as markup, so every title is given as literal `Content`
(inert), and search hits are highlighted by `highlight`, never `Matcher.highlight`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher

from arena_tui.common.safe import inert
from core.store.annotate import QUEUE_DISPUTED, QUEUE_DONE, QUEUE_TO_DO, QueueFilter

if TYPE_CHECKING:
    from arena_tui.annotate.screen import AnnotateScreen


def highlight(matcher: Matcher, title: str) -> Content:
    """`title` as literal content (never parsed as markup), its fuzzy matches highlighted."""
    content = Content(title)
    score, offsets = matcher.fuzzy_search.match(matcher.query, title)
    if score:
        for offset in offsets:
            if not title[offset].isspace():
                content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class AnnotateCommands(Provider):
    """The annotate screen's commands."""

    @property
    def annotate_screen(self) -> AnnotateScreen | None:
        """The annotate screen the palette was opened from."""
        from arena_tui.annotate.screen import AnnotateScreen

        return self.screen if isinstance(self.screen, AnnotateScreen) else None

    def commands(self, screen: AnnotateScreen) -> list[tuple[str, Callable[[], object], str]]:
        """(title, callback, help) of every fixed command."""
        current = screen.queue_filter
        found: list[tuple[str, Callable[[], object], str]] = [
            ("Open guidelines", screen.action_guidelines, "the tournament's labelling guidelines"),
            ("Export my labels", screen.action_export, "your current labels as JSONL beside the store, for arena-tui labels import"),
            ("Toggle live panes", screen.action_toggle_panes, "agreement and leaderboard panes"),
            ("Dataset report", screen.action_report, "counts by reason, agreement, diversity, analyzer audit, success by technique"),
        ]
        for title, status in (("all", None), ("to do", QUEUE_TO_DO), ("done", QUEUE_DONE), ("disputed", QUEUE_DISPUTED)):
            flt = QueueFilter(status, current.tournament_id, current.matchup_id, current.search)
            found.append((f"Filter: {title}", partial(screen.apply_filter, flt, screen.current_id),
                          "show these items of the queue"))
        found.append(("Filter: every tournament and matchup",
                      partial(screen.apply_filter, QueueFilter(current.status, None, None, current.search), screen.current_id),
                      "drop the tournament or matchup filter"))
        for tid, name in sorted(screen.tournament_names.items()):
            found.append((f"Filter: tournament {inert(name)}",
                          partial(screen.apply_filter, QueueFilter(current.status, tid, None, current.search)),
                          "only this tournament's items"))
        for mid, matchup in sorted(screen.matchups.items()):
            found.append((f"Filter: matchup {inert(matchup)}",
                          partial(screen.apply_filter, QueueFilter(current.status, None, mid, current.search)),
                          "only this matchup's items"))
        return found

    async def discover(self) -> Hits:
        """The fixed commands, shown before anything is typed."""
        screen = self.annotate_screen
        if screen is None:
            return
        for title, callback, help_text in self.commands(screen):
            yield DiscoveryHit(Content(title), callback, text=title, help=help_text)

    async def search(self, query: str) -> Hits:
        """A number offers a jump to that conversation; words match the fixed commands."""
        screen = self.annotate_screen
        if screen is None:
            return
        digits = query.strip().lstrip("#").strip()
        if digits.isdigit():
            yield Hit(1.0, f"Jump to conversation #{int(digits)}", partial(screen.jump_to, int(digits)),
                      help="open it (the filter widens if it hides it)")
        matcher = self.matcher(query)
        for title, callback, help_text in self.commands(screen):
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, highlight(matcher, title), callback, text=title, help=help_text)
