"""Messages shared by the annotate screen and the workers that feed it.

Workers never touch widgets: they read or write the store and post one of these; the
screen's handlers own the state and update the widgets.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.message import Message

from core.evaluation.settings import EvaluationSettings
from core.store import ConversationRow, FindingRow, TurnRow
from core.store.annotate import AnnotatorMatchup, QueueFilter


class QueueLoaded(Message):
    """The annotator's queue (ids and status bytes under a filter) was read from the store.

    `total` and `labelled` count the whole queue, whatever the filter; `select` is the
    conversation to put the cursor on (None: keep the current one).
    """

    def __init__(self, queue_filter: QueueFilter, conversation_ids: Sequence[int], statuses: bytearray,
                 total: int, labelled: int, settings: dict[int, EvaluationSettings],
                 matchups: Sequence[AnnotatorMatchup], select: int | None, refresh: bool = False) -> None:
        super().__init__()
        self.queue_filter = queue_filter
        self.conversation_ids = conversation_ids
        self.statuses = statuses
        self.total = total
        self.labelled = labelled
        self.settings = settings
        self.matchups = list(matchups)
        self.select = select
        self.refresh = refresh


class TranscriptLoaded(Message):
    """One conversation's turns, findings and labels were read from the store."""

    def __init__(self, conversation: ConversationRow, turns: Sequence[TurnRow], findings: Sequence[FindingRow],
                 my_label: str | None, other_labels: Sequence[tuple[str, str]], status: int, kind: str = "review") -> None:
        super().__init__()
        self.conversation = conversation
        self.kind = kind  # the annotator's assignment: review, audit (a static success) or adjudicate
        self.conversation_id = conversation.id
        self.turns = list(turns)
        self.findings = list(findings)
        self.my_label = my_label
        self.other_labels = list(other_labels)
        self.status = status


class LabelSaved(Message):
    """A label (or its undo, when `label` is None) is durable in the store."""

    def __init__(self, conversation_id: int, tournament_id: int, label: str | None, status: int, advance: bool) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self.tournament_id = tournament_id
        self.label = label
        self.status = status
        self.advance = advance


class JumpChecked(Message):
    """Whether a conversation the annotator asked for is in their queue (`status` None: no)."""

    def __init__(self, conversation_id: int, status: int | None) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self.status = status


class LabelsExported(Message):
    """The annotator's current labels were written to `path` (`count` lines)."""

    def __init__(self, path: str, count: int) -> None:
        super().__init__()
        self.path = path
        self.count = count


class StoreFailed(Message):
    """A store operation failed with a message the annotator can read (one line)."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error
