"""Live streams: keys, reads and updates, the ingest callbacks, moderation, live events."""
