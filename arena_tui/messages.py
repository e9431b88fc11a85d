"""Messages shared by the annotate screen and the workers that feed it.

Workers never touch widgets: they read or write the store and post one of these; the
screen's handlers own the state and update the widgets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.message import Message

from core.evaluation import EvaluationSettings
from core.store import FindingRow, TurnRow

TO_DO = "to do"
DONE = "done"
DISPUTED = "disputed"


@dataclass(frozen=True)
class QueueItem:
    """One conversation in an annotator's queue: only what a queue row shows."""

    conversation_id: int
    tournament_id: int
    matchup: str
    status: str


class QueueLoaded(Message):
    """The annotator's queue was read from the store."""

    def __init__(self, items: Sequence[QueueItem], settings: dict[int, EvaluationSettings]) -> None:
        super().__init__()
        self.items = list(items)
        self.settings = settings


class TranscriptLoaded(Message):
    """One conversation's turns, findings and labels were read from the store."""

    def __init__(self, conversation_id: int, turns: Sequence[TurnRow], findings: Sequence[FindingRow],
                 my_label: str | None, other_labels: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self.turns = list(turns)
        self.findings = list(findings)
        self.my_label = my_label
        self.other_labels = list(other_labels)


class LabelSaved(Message):
    """A label (or its undo, when `label` is None) is durable in the store."""

    def __init__(self, conversation_id: int, label: str | None, status: str, advance: bool) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self.label = label
        self.status = status
        self.advance = advance


class SearchFinished(Message):
    """A full-text search over turns returned these conversation ids."""

    def __init__(self, query: str, conversation_ids: Sequence[int]) -> None:
        super().__init__()
        self.query = query
        self.conversation_ids = set(conversation_ids)


class StoreFailed(Message):
    """A store operation failed with a message the annotator can read (one line)."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error
