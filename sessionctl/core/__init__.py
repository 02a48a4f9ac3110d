"""No disk, no terminal: pure rules and data."""
