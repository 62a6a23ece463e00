"""One thin view per tab, over the state classes; every string from the session's catalogue."""
