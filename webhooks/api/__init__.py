"""REST API of this app."""
