"""Rebuildable caches in the platformdirs cache dir."""
