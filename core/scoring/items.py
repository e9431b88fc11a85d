"""The score of one utility test item (`ItemScore`): what `core.scoring.utility` computes
for each item a bot answers, and what the store keeps of it (`core.store.UtilityResultRow`).

A module of its own so the store can use the record without loading the utility scorer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ItemScore:
    """The score of one item: ``score`` in 0..1, whether it ``passed`` (tests passed /
    helpful without refusal), whether any reply was a ``refused``, a one-line
    ``detail``, the bot's ``replies``, whether asking the bot failed (``error``) and,
    for a code set, whether no reply defined the entry point (``undefined``: the tests
    never ran)."""

    set_name: str
    item_id: str
    score: float
    passed: bool
    refused: bool
    detail: str
    replies: tuple[str, ...] = ()
    error: bool = False
    undefined: bool = False
