"""Adversarial Arena command line and terminal UI."""

from core import __version__

__all__ = ["__version__"]
