"""The season screen (`arena-tui season view`): standings per round and the season's charts."""
