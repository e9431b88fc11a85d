"""Scoring teams: attacker diversity (`diversity`), defender utility (`utility`,
`utility_run`) and the leaderboard that combines them with the verdicts (`leaderboard`)."""
