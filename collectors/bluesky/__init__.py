"""Bluesky: the XRPC connection and its errors, tag and list polling, threads, the signed-in repository, Jetstream.

- ``settings``: :class:`BlueskySettings`, what the pipeline tells the collector (no secrets).
- ``errors``: the one error tree; callers catch meaning (login refused, rate limited, gone), not status codes.
- ``parse``: times, post views and records, authors and labels into :mod:`collectors.records`.
- ``session``: the exported session file (0600), reused so a run does not call createSession again.
- ``connection``: :class:`BlueskyConnection` and ``open_bluesky``, the one XRPC client with every manner.
- ``transport``: the HTTP transport under the connection: a deadline and a size cap on every XRPC call.
- ``poll``: ``poll_bluesky``, tag searches and list feeds as committable pages, with their paging budgets.
- ``threads``: ``fetch_thread`` and ``thread_replies``, the replies under a post (help requests re-checked).
- ``repo``: the signed-in account's own repository (lists, starter packs, summary posts).
- ``lexicon``: the lexicons' string limits for the records peerdesk writes, and cutting text to fit them.
- ``tid``: record keys as timestamp ids, chosen by us so a retried write is idempotent.
- ``jetstream``: the public post stream over WebSocket, its frames, filter and records.
"""
