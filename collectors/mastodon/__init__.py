"""Mastodon (and servers speaking its API): the REST client, hashtag polling, trust, verification, the own account.

- ``api``: the thin asynchronous REST client, its error tree, rate limits and per-instance manners.
- ``instance``: what a server says about itself (``/api/v2/instance``): feed access, status limits.
- ``software``: which software a server runs, and whether its hashtag feed takes ``any[]``.
- ``html_text``: plain text from the HTML Mastodon sends.
- ``entities``: timeline and context answers decoded by msgspec into typed Status/Account structs, the fast path.
- ``parse``: statuses and accounts into :mod:`collectors.records`; a bad status costs only itself.
- ``paging``: one pass over a timeline (``min_id`` forward, ``max_id`` backfill) and the page budget.
- ``feed_access``: first contact: which half of the hashtag feeds we may read, the account domain.
- ``poll``: ``poll_tags`` and ``poll_lists``, what one cycle reads on an instance, and the cursor keys.
- ``threads``: ``fetch_thread`` and ``origin_of``, the replies under a help request.
- ``trust``: what only a server may say: its account domain, its own accounts' profiles.
- ``lookup``: an account's profile as its home server gives it (confirming an opt-out).
- ``verify``: whether stored statuses still exist, asked of the server that published them.
- ``account``: the organiser's own account through Mastodon.py: signing in, posting, keeping a list.
"""
