"""Collection: the polling cycle and its per-platform sources, thread re-checks, verification, the stream service."""
