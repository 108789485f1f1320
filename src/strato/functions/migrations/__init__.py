"""Numbered schema migrations of the function registry (functions/functions.db)."""
