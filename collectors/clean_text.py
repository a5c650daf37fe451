"""Text the database can store and a terminal can show: lone surrogates, NULs and control characters taken out
where strings enter records.

JSON may spell any UTF-16 code unit (``"\\ud83d"``), and Python decodes a lone
half of a surrogate pair into a string that cannot be encoded as UTF-8. Arrow
and DuckDB refuse such a string, and one of them in a batch used to roll back
every source's pages. A NUL is stored, but means nothing in a post and breaks
tools downstream (CSV readers, terminals). Other control characters (C0 but
tab, newline and carriage return; DEL; C1) mean nothing in a post either, and
a terminal acts on them: a post holding ESC sequences, printed by ``peerdesk
requests``, could set the window's title, write the clipboard (OSC 52) or show
one link while opening another (OSC 8). So every parser hands its records
through :func:`clean_post` or :func:`clean_account`: a lone surrogate becomes
U+FFFD (a properly paired one is joined into its character), a NUL is dropped,
another control character becomes U+FFFD, and everything else is left as it was.

The check runs on every record, so it is built to cost little on clean text: a
record's strings are joined, encoded and looked at once (see :func:`_storable`);
only a record that fails is rebuilt, field by field.
"""

from __future__ import annotations

import dataclasses
import re

from collectors.records import Account, Post, Sighting

REPLACEMENT = "\ufffd"
CONTROLS = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # NUL apart: it is dropped, not replaced


def without_controls(text: str) -> str:
    """``text`` with every control character but tab, newline and carriage return replaced by U+FFFD.

    For what reaches a terminal from elsewhere than a parsed record: rows stored before records were cleaned of
    them, a server's error message.
    """
    text = text.replace("\x00", REPLACEMENT) if "\x00" in text else text
    return CONTROLS.sub(REPLACEMENT, text) if CONTROLS.search(text) else text


def clean_text(text: str) -> str:
    """``text`` with lone surrogates and control characters replaced by U+FFFD and NULs removed; the same object
    when clean."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if CONTROLS.search(text):
        text = CONTROLS.sub(REPLACEMENT, text)
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Round-tripping through UTF-16 joins a pair written as two escapes and replaces a lone half.
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def _storable(texts: tuple[str, ...]) -> bool:
    """Whether every one of ``texts`` is clean, checked as one string: one join costs less than a call per field.

    Checked on the UTF-8 bytes (which a lone surrogate cannot become): deleting the C0 controls with
    ``bytes.translate`` and comparing lengths costs about 1 ns a byte, several times less than a regular
    expression over the text, and C1 controls (encoded after a 0xC2 byte) are looked for only where one is.
    """
    try:
        raw = "".join(texts).encode("utf-8")
    except UnicodeEncodeError:
        return False
    if len(raw.translate(None, _C0_BYTES)) != len(raw):
        return False
    return b"\xc2" not in raw or _C1_BYTES.search(raw) is None


_C0_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])  # NUL, controls but \t \n \r, DEL
_C1_BYTES = re.compile(b"\xc2[\x80-\x9f]")


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
