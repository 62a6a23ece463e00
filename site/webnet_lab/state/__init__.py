"""The lab's state and logic: no widgets, no text (``Message`` keys instead), testable without a
browser."""
