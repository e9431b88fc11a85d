"""Messages of the watch screen: the follower worker, the in-process run and its reporter
post these; the screen's handlers own the state and update the widgets."""

from __future__ import annotations

from textual.message import Message

from core.follow import FollowDelta
from core.tournament.reporter import RunSummary, TournamentInfo


class StoreChanged(Message):
    """The follower read what changed in the store since its last poll."""

    def __init__(self, delta: FollowDelta) -> None:
        super().__init__()
        self.delta = delta


class RunStarted(Message):
    """The in-process run started (or resumed) a tournament."""

    def __init__(self, info: TournamentInfo) -> None:
        super().__init__()
        self.info = info


class StaticPassed(Message):
    """A static-stage pass of the in-process run ended: per matchup id, (scanned, attack
    successes). `final`: the pass after the run ended, which scanned every conversation."""

    def __init__(self, static: dict[int, tuple[int, int]], final: bool = False) -> None:
        super().__init__()
        self.static = static
        self.final = final

    def can_replace(self, message: Message) -> bool:
        """Only the latest pass matters."""
        return isinstance(message, StaticPassed)


class PartialReply(Message):
    """A bot streamed part of a reply (in-process runs only; never stored)."""

    def __init__(self, conversation_id: int, turn_index: int, content: str) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self.turn_index = turn_index
        self.content = content

    def can_replace(self, message: Message) -> bool:
        """A newer partial of the same turn supersedes an older one."""
        return (isinstance(message, PartialReply) and message.conversation_id == self.conversation_id
                and message.turn_index == self.turn_index)


class TurnStored(Message):
    """The in-process run produced a turn: any partial shown for it is over."""

    def __init__(self, conversation_id: int, turn_index: int) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self.turn_index = turn_index


class RunEnded(Message):
    """The in-process run ended: finished, stopped, or failed with a one-line `error`."""

    def __init__(self, summary: RunSummary | None, error: str | None = None) -> None:
        super().__init__()
        self.summary = summary
        self.error = error
