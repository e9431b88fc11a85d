"""Data in and out of the store: annotation packs and the label log (`packs`), the
fine-tuning export (`export`), importing conversations (`importer`), team feedback
(`feedback`) and the dataset report (`report`)."""
