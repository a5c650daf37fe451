"""HTTP-only pollers for Mastodon and Bluesky.

Collectors speak to the platforms and hand back platform-neutral records
(:mod:`collectors.records`). They never touch the database: the caller gives
them a cursor and decides what is stored.
"""
