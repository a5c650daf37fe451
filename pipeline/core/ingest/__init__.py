"""Storing collector pages: consent, deduplication and idempotent batch upserts.

Every path that puts posts in the database comes through :func:`store_page`:
the collectors, ``peerdesk demo`` and the benchmarks. A page's posts, accounts,
sightings, deletions and cursor go in one transaction, so a process killed at
any moment leaves either all of a page or none of it, and a cursor never moves
past posts that were not committed.

``batch`` applies a commit's pages in order; ``opt_outs`` keeps refused accounts
out; ``posts``, ``accounts`` and ``replies`` write each table from the batch;
``verdicts`` holds what classifying a page ahead (in workers) has found;
``keyed`` finds a batch's stored rows by index or by one scan, whichever costs less.
"""

from pipeline.core.ingest.accounts import LAST_SEEN_RESOLUTION
from pipeline.core.ingest.batch import StoreResult, store_page, store_pages_in_transaction
from pipeline.core.ingest.replies import resolve_reply_parents
from pipeline.core.ingest.verdicts import preclassify

__all__ = ["LAST_SEEN_RESOLUTION", "StoreResult", "preclassify", "resolve_reply_parents", "store_page",
           "store_pages_in_transaction"]
