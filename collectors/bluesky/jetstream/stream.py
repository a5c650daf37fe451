"""Bluesky without an account: Jetstream, the network's post stream as JSON, filtered to the community.

The collector's public names, gathered from its parts so that callers can keep
importing them from here:

* :mod:`collectors.bluesky.jetstream.connection`: the WebSocket, on either wire (the
  public ``/subscribe`` instances or the ``/xrpc`` lexicon), reconnecting with
  a backoff and resuming wherever the caller's cursor says.
* :mod:`collectors.bluesky.jetstream.filter`: :class:`StreamFilter`, which refuses most
  frames as text and decodes the rest into events.
* :mod:`collectors.bluesky.jetstream.events`: the wire-neutral :class:`Event`, the
  errors, and the microsecond times the cursor is kept in.
* :mod:`collectors.bluesky.jetstream.records`: Posts from post events, and authors'
  Accounts from the AppView, for consent.

Like every collector, none of it touches the database: the pipeline
(:mod:`pipeline.collection.stream.run`) decides what is stored and where the cursor stands.
"""

from __future__ import annotations

from collectors.bluesky.jetstream.connection import (
    DEFAULT_ENDPOINT,
    V2_METHOD,
    V2_SUBPROTOCOL,
    Connected,
    ConnectOptions,
    frames,
    subscribe_url,
    wire_of,
)
from collectors.bluesky.jetstream.events import (
    GONE_STATUSES,
    POST_COLLECTION,
    Event,
    JetstreamError,
    JetstreamRefused,
    MalformedEvent,
    account_gone,
    from_micros,
    micros,
    to_micros,
)
from collectors.bluesky.jetstream.filter import StreamFilter
from collectors.bluesky.jetstream.records import (
    PROFILES_PER_CALL,
    account_from_profile,
    build_post,
    lookup_profiles,
    post_tags,
)

__all__ = [
    "DEFAULT_ENDPOINT",
    "GONE_STATUSES",
    "POST_COLLECTION",
    "PROFILES_PER_CALL",
    "V2_METHOD",
    "V2_SUBPROTOCOL",
    "ConnectOptions",
    "Connected",
    "Event",
    "JetstreamError",
    "JetstreamRefused",
    "MalformedEvent",
    "StreamFilter",
    "account_from_profile",
    "account_gone",
    "build_post",
    "frames",
    "from_micros",
    "lookup_profiles",
    "micros",
    "post_tags",
    "subscribe_url",
    "to_micros",
    "wire_of",
]
