"""Custom widgets, their JavaScript and CSS as real files beside them."""
