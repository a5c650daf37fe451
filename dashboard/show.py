"""Turning stored values into what a person reads, without letting a post write the page.

Post text, names and server messages are other people's words: they are shown
through ``st.text`` or table cells, or, where Markdown is unavoidable (alerts,
captions), escaped here first. A link is only made from an http(s) URL.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pandas as pd

from pipeline import platforms
from pipeline.output.formats import human_duration

# Every ASCII punctuation character may be backslash-escaped in CommonMark; escaping all of them
# leaves no emphasis, link, HTML, table, LaTeX ($) or Streamlit directive (:red[...]) to interpret.
_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")
# What a link must not contain: whitespace (as str.isspace() sees it) or a control character.
_UNSAFE_CHAR = re.compile(r"[\s\x00-\x1f]")


def md_escape(text: object) -> str:
    """Text that st.markdown shows literally, on one line (but see ``md_code`` about autolinks)."""
    flat = " ".join(str(text).split())
    return _MD_SPECIAL.sub(r"\\\1", flat)


def md_code(text: object) -> str:
    """Inline code: Markdown shows its content literally, and never turns it into a link.

    Escaping alone does not stop GFM's autolinks (``name@host.example`` becomes a mailto: link,
    ``www.`` an http one), so handles, tags and other people's short strings go in code spans.
    """
    flat = " ".join(str(text).split()) or " "
    fence = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def safe_url(url: object) -> str | None:
    """The URL if it is a plain http(s) link to a host, else None (``javascript:``, ``data:``, junk)."""
    return _safe_text_url(url) if isinstance(url, str) else None


# Remembered because the peers table checks every account's profile link on each view (20,000 rows
# take a tenth of a second), and the same accounts come back when the period changes.
@functools.lru_cache(maxsize=1 << 16)
def _safe_text_url(url: str) -> str | None:
    text = url.strip()
    if _UNSAFE_CHAR.search(text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return text


def path_breaks(path: str) -> str:
    """A file path that a narrow sidebar wraps after a folder's slash, never in the middle of a name."""
    return path.replace("/", "/\u200b")


def first_lines(text: str | None, lines: int = 4, chars: int = 400) -> str:
    """The start of a post, as it would be skimmed: a few non-empty lines, cut at a word."""
    if not text:
        return "(no text: the post was deleted or had only media)"
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    out = "\n".join(kept[:lines])
    cut = len(kept) > lines
    if len(out) > chars:
        out = out[:chars].rsplit(" ", 1)[0]
        cut = True
    return out + (" …" if cut else "")


def duration(value: timedelta | None) -> str:
    return "" if value is None or pd.isna(value) else human_duration(value)


def hours(value: timedelta | float | None) -> float | None:
    """Hours as a number, so tables sort by it."""
    if value is None or pd.isna(value):
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return round(seconds / 3600, 1)


def hours_column(values: pd.Series) -> pd.Series:
    """``hours`` of every duration in a column, from its seconds: no Timedelta object per row
    (for 20,000 peers those took a tenth of a second on every view)."""
    return pd.to_timedelta(values).dt.total_seconds().map(hours)


def local(value: datetime | None, tz: str) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y, %H:%M")


def week_label(week: str) -> str:
    """'2026-W47' -> 'wk of 16 Nov': the Monday a week starts on, which a person can place."""
    try:
        monday = datetime.strptime(week + "-1", "%G-W%V-%u")
    except (TypeError, ValueError):
        return str(week)
    return monday.strftime("wk of %d %b").replace(" 0", " ")


def platform(name: str) -> str:
    """The platform's name for people (:func:`pipeline.platforms.label`): the one list of platforms."""
    return platforms.label(name)


def reason(label: str) -> str:
    """A stored reason as words: what the post said ("“anyone know”"), or "model 0.83 (…)" if it decided.

    Imported here: the rules take a third of a second to load (their patterns are compiled at import), and
    the first page a new user sees (the Overview) shows no reasons.
    """
    from pipeline.detector.rules import explain

    return explain(label)


def percent(share: float | None) -> str:
    return "n/a" if share is None else f"{share:.0%}"


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A table as UTF-8 CSV for a spreadsheet: times in ISO 8601, no cell that runs as a formula."""
    plain = frame.copy()
    for column in plain.columns:
        if pd.api.types.is_datetime64_any_dtype(plain[column]):
            plain[column] = plain[column].map(lambda t: t.isoformat(timespec="minutes") if pd.notna(t) else "")
    return plain.map(csv_cell).to_csv(index=False).encode("utf-8")


def csv_cell(value: object) -> object:
    """A cell a spreadsheet will not run: text starting with = + - @ (a formula) gets a leading quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
