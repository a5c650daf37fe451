"""Bluesky: the XRPC client and its errors, tag and list polling, threads, the signed-in repository, Jetstream."""
