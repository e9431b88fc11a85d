"""Widgets of the arena TUI, one per module."""
