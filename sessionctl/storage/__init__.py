"""The only layer that touches a store: file names, durable writes, the
agent's locks, index.json, the listing and its caches, removal, and
loading, saving and appending sessions."""
