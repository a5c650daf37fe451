"""Text the database can store: lone surrogates and NUL characters taken out where strings enter records.

JSON may spell any UTF-16 code unit (``"\\ud83d"``), and Python decodes a lone
half of a surrogate pair into a string that cannot be encoded as UTF-8. Arrow
and DuckDB refuse such a string, and one of them in a batch used to roll back
every source's pages. A NUL is stored, but means nothing in a post and breaks
tools downstream (CSV readers, terminals). So every parser hands its records
through :func:`clean_post` or :func:`clean_account`: a lone surrogate becomes
U+FFFD (a properly paired one is joined into its character), a NUL is dropped,
and everything else is left as it was.

The check runs on every record, so it is built to cost little on clean text: a
record's strings are joined and looked at once (``in`` is a memchr,
``str.isascii`` a flag lookup, and only non-ASCII text is encoded to see whether
it is valid); only a record that fails is rebuilt, field by field.
"""

from __future__ import annotations

import dataclasses

from collectors.records import Account, Post, Sighting

REPLACEMENT = "\ufffd"


def clean_text(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD and NULs removed; the same object when clean."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Round-tripping through UTF-16 joins a pair written as two escapes and replaces a lone half.
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def _storable(texts: tuple[str, ...]) -> bool:
    """Whether every one of ``texts`` is clean, checked as one string: one join costs less than a call per field."""
    joined = "".join(texts)
    if "\x00" in joined:
        return False
    if joined.isascii():
        return True
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _clean_opt(text: str | None) -> str | None:
    return None if text is None else clean_text(text)


def _clean_all(texts: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(clean_text(t) for t in texts)


def clean_account(account: Account) -> Account:
    """The account with every string storable; the same object when it already was (the usual case)."""
    a = account
    if _storable((a.key, a.handle, a.display_name, a.url or "", a.bio, a.avatar or "", *a.fields, *a.labels)):
        return account
    return dataclasses.replace(
        a, key=clean_text(a.key), handle=clean_text(a.handle), display_name=clean_text(a.display_name),
        url=_clean_opt(a.url), bio=clean_text(a.bio), avatar=_clean_opt(a.avatar), fields=_clean_all(a.fields),
        labels=_clean_all(a.labels))


def clean_post(post: Post) -> Post:
    """The post and its sighting with every string storable; the same object when they already were.

    The author is not looked at: parsers clean an account where they build it
    (Mastodon parses each profile once, not once per post), with :func:`clean_account`.
    """
    p, s = post, post.sighting
    if _storable((p.uri, p.text, p.html or "", p.url or "", p.lang or "", p.visibility, p.reply_to or "",
                  p.reply_to_local or "", p.reply_root or "", p.quote_of or "", p.via, *p.tags,
                  *((s.source, s.local_id) if s else ()))):
        return post
    return dataclasses.replace(
        p, uri=clean_text(p.uri), text=clean_text(p.text), html=_clean_opt(p.html),
        url=_clean_opt(p.url), lang=_clean_opt(p.lang), visibility=clean_text(p.visibility),
        reply_to=_clean_opt(p.reply_to), reply_to_local=_clean_opt(p.reply_to_local),
        reply_root=_clean_opt(p.reply_root), quote_of=_clean_opt(p.quote_of), via=clean_text(p.via),
        tags=tuple(dict.fromkeys(_clean_all(p.tags))),
        sighting=None if s is None else Sighting(clean_text(s.source), clean_text(s.local_id)))
