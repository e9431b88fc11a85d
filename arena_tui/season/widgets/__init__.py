"""Widgets of the season screen."""
