"""The live Bluesky stream, Jetstream events into the store.

``run`` (the loop, its batches and its stop), ``commit`` (a batch and its cursor in one transaction), ``consent``
(which of a batch's posts may be stored), ``known`` (the accounts and roots it follows), ``profiles`` (authors'
profiles from the AppView), ``stats`` (its counters and status line).
"""
