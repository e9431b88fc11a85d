"""Widgets only the watch uses: the matchup grid, the static-stage ASR board, the
standings pane, bot health, the conversation list, the live transcript, the run status."""
