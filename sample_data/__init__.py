"""Bundled sample tournament: bots, config, prompts, guidelines, utility sets."""

from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parent
SAMPLE_CONFIG = SAMPLE_DIR / "tournament.toml"
UTILITY_DIR = SAMPLE_DIR / "utility"
