"""Timeline and context answers decoded straight into typed structs: the fast path for the statuses ingest reads.

Decoding a timeline answer into dicts, then walking them with ``dict.get`` and
``isinstance`` for every field, was most of what reading a status cost. msgspec
decodes the answer into the :class:`msgspec.Struct` types below instead: they
mirror Mastodon's documented entities (Status, Account, Field, Tag, Quote), but
only the fields :mod:`collectors.mastodon.parse` reads, so every other field is
skipped without building a Python object, and the types are checked in C.

The dict path (:func:`collectors.mastodon.parse.parse_statuses` over
:func:`collectors.json_decode.loads`) stays the one source of truth for odd
answers. The structs are strict: a field holds a type the dict path reads the
same way, or decoding fails. Whatever the typed decode refuses (a wrong type, a
missing field, a lone surrogate, nesting too deep) comes back as the plain JSON,
so the dict path reads that answer and skips only its bad items.

Times stay strings here and go through the dict path's own ``parse_time``:
msgspec's datetime decoder rounds past six fractional digits and takes a
lowercase ``z``, where :meth:`datetime.fromisoformat` truncates and refuses, and
the C decode would save only ~0.2 us a status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import msgspec

from collectors import json_decode

NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]  # the dict path's ``_str``: a string, not ""


class Field(msgspec.Struct, frozen=True, gc=False):
    """A profile field (Account ``fields[]``); ``verified_at`` is not read."""

    name: str | None = None
    value: str | None = None


class Account(msgspec.Struct, frozen=True, gc=False):
    """The Account entity, only what peerdesk reads. Frozen, so hashable: it is the account memo's key."""

    acct: NonEmpty
    uri: str | None = None
    url: str | None = None
    note: str | None = None
    display_name: str | None = None
    bot: bool | None = None
    discoverable: bool | None = None
    indexable: bool | None = None
    noindex: bool | None = None
    avatar: str | None = None
    fields: tuple[Field, ...] | None = None


class Tag(msgspec.Struct, gc=False):
    """A Status ``tags[]`` item; a tag without a string name is the dict path's to judge."""

    name: str


class QuotedStatus(msgspec.Struct, gc=False):
    """Of a quoted status only its uri is read; its type is judged as the dict path does."""

    uri: Any = None


class Quote(msgspec.Struct, gc=False):
    """A Status ``quote``, in either shape servers send.

    Mastodon 4.5 sends a Quote entity ``{state, quoted_status}``; Akkoma and
    Pleroma put the quoted Status itself there. The dict path tells them apart by
    whether a ``state`` key is present (even null), which :data:`msgspec.UNSET` keeps.
    """

    state: Any = msgspec.UNSET
    quoted_status: QuotedStatus | None = None
    uri: Any = None

    def quoted_uri(self) -> str | None:
        quoted = self.quoted_status if self.state is not msgspec.UNSET else self
        return quoted.uri if quoted is not None and isinstance(quoted.uri, str) else None


class Status(msgspec.Struct, gc=False):
    """The Status entity, only what peerdesk reads; a boost carries the boosted Status in ``reblog``."""

    id: NonEmpty
    uri: NonEmpty
    created_at: str
    account: Account
    content: str
    visibility: NonEmpty
    url: str | None = None
    language: str | None = None
    edited_at: str | None = None
    in_reply_to_id: str | None = None
    tags: list[Tag] | None = None
    quote: Quote | None = None
    reblog: Status | None = None


class Context(msgspec.Struct, gc=False):
    """The Context entity (``/api/v1/statuses/:id/context``): only its ``descendants`` are read."""

    descendants: list[Status]


@dataclass(frozen=True, slots=True)
class Timeline:
    """Statuses decoded into :class:`Status` structs, with the answer's bytes for the dict path to read again.

    ``key`` names the member of the answer that holds them (a context's ``descendants``); None: the answer itself.
    """

    statuses: list[Status]
    body: bytes
    key: str | None = None

    def plain(self) -> object:
        """The same statuses as :func:`collectors.json_decode.loads` reads them, for the dict path."""
        answer = json_decode.loads(self.body)
        return answer[self.key] if self.key is not None else answer  # type: ignore[index]


_decoder = msgspec.json.Decoder(list[Status])
_context_decoder = msgspec.json.Decoder(Context)


def decode_timeline(body: bytes) -> Timeline | object:
    """A timeline answer as typed statuses, or, when the typed decode refuses it, as plain JSON.

    Raises what :func:`collectors.json_decode.loads` raises on a body that is not JSON.
    """
    try:
        return Timeline(_decoder.decode(body), body)
    except (msgspec.MsgspecError, RecursionError):  # odd, hostile or not JSON: the dict path decides
        return json_decode.loads(body)


def decode_context(body: bytes) -> Timeline | object:
    """A context answer's descendants as typed statuses, or, when the typed decode refuses it, the plain JSON."""
    try:
        return Timeline(_context_decoder.decode(body).descendants, body, "descendants")
    except (msgspec.MsgspecError, RecursionError):
        return json_decode.loads(body)
