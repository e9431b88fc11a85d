"""Messages shared by the annotate screen and the workers that feed it.

Workers never touch widgets: they call the screen's `core.annotator_session.AnnotatorSession`
and post one of these, carrying its records; the screen's handlers own the state and
update the widgets.
"""

from __future__ import annotations

from textual.message import Message

from core.annotator_session import ItemSnapshot, LabelChange, QueueSnapshot
from core.store.annotate import QueueFilter


class QueueLoaded(Message):
    """The annotator's queue under `queue_filter` was read from the store.

    `select` is the conversation to put the cursor on (None: keep the current one);
    `refresh`: a poll found another connection's commit.
    """

    def __init__(self, queue_filter: QueueFilter, snapshot: QueueSnapshot, select: int | None,
                 refresh: bool = False) -> None:
        super().__init__()
        self.queue_filter = queue_filter
        self.snapshot = snapshot
        self.select = select
        self.refresh = refresh


class TranscriptLoaded(Message):
    """One conversation's turns, findings and labels were read from the store."""

    def __init__(self, item: ItemSnapshot) -> None:
        super().__init__()
        self.item = item
        self.conversation_id = item.conversation.id


class LabelSaved(Message):
    """A label (or its undo: `advance` False) is durable in the store."""

    def __init__(self, change: LabelChange, advance: bool) -> None:
        super().__init__()
        self.change = change
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


class SafeReplySaved(Message):
    """A safe reply the annotator wrote was committed (`turn_index` 0-based)."""

    def __init__(self, conversation_id: int, turn_index: int) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self.turn_index = turn_index
