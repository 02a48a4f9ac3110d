"""Rebuildable indexes kept in the user's cache directory, never in a store."""
