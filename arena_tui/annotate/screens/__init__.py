"""Modal screens of the annotate app: guidelines, tags and note, the dataset report."""
