"""Adversarial Arena engine, one package per pipeline stage.

`tournament` plays tournaments (config, bot clients, orchestrator, reporter, and the
sandbox that runs a bot's code against unit tests) into `store` (the one SQLite file
and the only place SQL is written); `evaluation` turns stored conversations into
verdicts (code extraction, bandit static stage, queue, labels, aggregation, agreement,
intervals); `scoring` ranks the teams (diversity, utility, leaderboard); `data` moves
data in and out (annotation packs and the label log, fine-tuning export, import, team
feedback, dataset report). Beside them: `follow` and `annotator_session`, the store
sides of `arena-tui watch` and `arena-tui annotate`; `text` (outside text made safe)
and `turns` (turn numbers as people see them).

Nothing in this package imports textual, rich or arena_tui, nor the bundled
`sample_data` (tests/core/test_import_hygiene.py).
"""

__version__ = "0.1.0"
