"""Jetstream, Bluesky's public post stream as JSON: the WebSocket, its frames, the filter and the records."""
