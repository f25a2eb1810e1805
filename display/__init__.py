"""Lobby and counter displays (issue 4)."""
