"""Widgets only annotate uses: the review queue, the transcript with findings, the
agreement pane."""
