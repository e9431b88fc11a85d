"""Adversarial Arena engine: config, bots, orchestrator, store, evaluation, metrics.

Nothing in this package imports textual, rich or arena_tui (tests/test_import_hygiene.py).
"""

__version__ = "0.1.0"
