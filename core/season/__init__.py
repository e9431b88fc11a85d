"""Seasons: tournaments grouped into rounds, each team's progression over them, the
season's tables and charts, and a team's feedback over the season."""
