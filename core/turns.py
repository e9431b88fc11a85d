"""Turn numbers as people see them: the one place stored turn indexes become numbers.

Every surface a person reads or types numbers a conversation's turns from 1, the way the
transcript view does: turn 1 is the attacker's opening message, turn 2 the defender's
first reply, so defender turns are the even numbers. That holds for `arena-tui label
--turn`, the labels JSONL (format 2), the fine-tuning export, team feedback, the
annotate and watch screens and every message naming a turn.

Stored data keeps 0-based indexes (``turns.turn_index``, a label's ``turn``, a finding's
``turn_index``, the rows of a pack, which is a store), and so does the bot protocol's
``turn`` field, a contract with bot authors: there ``turn`` is the index of the turn
being requested, this module's number minus one. Code converts with these two functions
at the edge and nowhere else.
"""

from __future__ import annotations


def turn_number(turn_index: int) -> int:
    """The 1-based number people see for a stored 0-based turn index."""
    return turn_index + 1


def turn_index(turn_number: int) -> int:
    """The stored 0-based index of a 1-based turn number a person gave."""
    return turn_number - 1
