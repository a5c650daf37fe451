"""Timelines decoded into typed structs (collectors.mastodon.entities) read exactly as the dict path reads them.

The dict path (``parse_statuses`` over ``json_decode.loads``) is the source of
truth. Every answer here goes through both and must give the same posts (every
field, the time zone of every datetime included), the same ids, the same error
lines and the same exception: the fixtures the tests use, the benchmark's
statuses, and hostile variants of every field the parser reads.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from collectors.json_decode import loads
from collectors.mastodon import entities, paging, threads
from collectors.mastodon import parse as parse_module
from collectors.mastodon.api import Instance, Malformed, make_client
from collectors.mastodon.entities import Timeline, decode_context, decode_timeline
from collectors.mastodon.parse import parse_statuses
from collectors.records import VIA_LIST, VIA_THREAD, SourceReport
from tests.benchmarks.common import StatusStream
from tests.fakes.mastodon import FakeMastodon, load_sample, make_account, make_status

SAMPLE_HOSTS = sorted(p.name for p in (Path(__file__).resolve().parents[1] / "data/sample/mastodon").iterdir()
                      if (p / "statuses.json").is_file())


def _read(answer: object, host: str, local_domain: str | None, via: str) -> tuple[str, ...]:
    parse_module._parsed_accounts.clear()
    parse_module._typed_accounts.clear()
    errors: list[str] = []
    try:
        posts, ids = parse_statuses(answer, f"https://{host}", host, errors, via, local_domain)
    except Malformed as exc:
        return ("Malformed", str(exc))
    # repr, not ==: two datetimes for the same instant in different zones are equal, and must not pass here.
    return (repr(posts), repr(ids), repr(errors))


def both(body: bytes, host: str = "glammr.us", local_domain: str | None = None, via: str = "tag"
         ) -> tuple[tuple[str, ...], bool]:
    """The typed path's reading of ``body``, checked against the dict path's; and whether it stayed typed."""
    try:
        plain = _read(loads(body), host, local_domain, via)
    except (ValueError, RecursionError) as exc:  # what collectors.mastodon.api._json turns into Malformed
        with pytest.raises(type(exc)):
            decode_timeline(body)
        return (type(exc).__name__,), False
    answer = decode_timeline(body)
    typed = _read(answer, host, local_domain, via)
    assert typed == plain
    stayed = type(answer) is Timeline and parse_module._typed_statuses(
        answer.statuses, f"https://{host}", host, via, local_domain) is not None
    return typed, stayed


def _pages(statuses: list[dict], size: int = 40) -> list[bytes]:
    return [json.dumps(statuses[i:i + size]).encode() for i in range(0, len(statuses), size)]


# ---------------------------------------------------------------- the fixtures and the benchmark's statuses

@pytest.mark.parametrize("host", SAMPLE_HOSTS)
def test_the_bundled_samples_read_the_same_and_stay_typed(host: str) -> None:
    statuses, instance, _ = load_sample(host)
    for body in _pages(statuses):
        for local_domain in (None, instance.get("domain"), "elsewhere.example"):
            result, stayed = both(body, host, local_domain)
            assert stayed
            assert "skipped" not in result[2]


def test_the_fakes_statuses_read_the_same_and_stay_typed() -> None:
    quoted = make_status(7, number=7)
    remote = make_account("bo", "libraryland.example", on="glammr.us")
    statuses = [
        make_status(1), make_status(2, edited_at="2026-11-21T10:00:00.000Z", in_reply_to_id="1"),
        make_status(3, author=remote, tags=("SoloLibrarians", "sololibrarians", "Glam"), language=None),
        make_status(4, visibility="unlisted", tags=()),
        {**make_status(5), "reblog": make_status(6, author=remote)},
        {**make_status(8, number=8), "quote": {"state": "accepted", "quoted_status": quoted}},
        {**make_status(9, number=9), "quote": quoted, "quote_id": "7"},
        {**make_status(10, number=10), "quote": {"state": "pending", "quoted_status": None}},
    ]
    for via in ("tag", VIA_LIST):
        result, stayed = both(json.dumps(statuses).encode(), via=via)
        assert stayed
        assert result[0].count("Post(") == len(statuses)


def test_the_benchmark_statuses_read_the_same_and_stay_typed() -> None:
    chunk = StatusStream(seed=5, accounts=500).chunk(2_000)
    for host, statuses in chunk.items():
        for body in _pages(statuses):
            result, stayed = both(body, host)
            assert stayed
            assert result[2] == "[]"


# ---------------------------------------------------------------- hostile variants, one field at a time

ODD_VALUES = (None, "", "x", 0, 1, -1, 10**30, 1.5, True, False, [], [1], {}, {"a": 1}, "\ud83d", "a\x00b",
              "\ud83d\ude00", "<p>Hi &amp; <br>bye</p>")
TIMES = ("2026-11-20T10:00:00Z", "2026-11-20T10:00:00.123456789Z", "2026-11-20T10:00:00.9999995Z",
         "2026-11-20T10:00:00z", "2026-11-20t10:00:00Z", "2026-11-20 10:00:00Z", "2026-11-20T10:00:00",
         "2026-11-20T10:00:00.5", "2026-11-20T12:00:00+02:00", "2026-11-20T04:30:00-05:30",
         "2026-11-20T10:00:00+0200", "2026-11-20T10:00Z", "2026-11-20", "20261120T100000Z",
         "2026-11-20T10:00:00+05", "2026-11-20T10:00:00,5Z", "2026-11-20T10:00:60Z", "2026-11-20T24:00:00Z",
         "2026-13-20T10:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00Z")

STATUS_FIELDS = ("id", "uri", "created_at", "account", "content", "visibility", "url", "language", "edited_at",
                 "in_reply_to_id", "tags", "quote", "reblog")
ACCOUNT_FIELDS = ("acct", "uri", "url", "note", "display_name", "bot", "discoverable", "indexable", "noindex",
                  "avatar", "fields")
MISSING = object()


def _base() -> dict:
    author = make_account("ana", "glammr.us", fields=[{"name": "Pronouns", "value": "she/her", "verified_at": None}])
    return make_status(2, author=author, edited_at="2026-11-21T10:00:00.000Z", in_reply_to_id="1")


def _set(status: dict, path: tuple[str, ...], value: object) -> dict:
    status = copy.deepcopy(status)
    target = status
    for key in path[:-1]:
        target = target[key]
    if value is MISSING:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return status


def _answer(odd: dict) -> bytes:
    """The odd status between two good ones: only it may be lost."""
    return json.dumps([make_status(3), odd, make_status(1)]).encode()


def _check_variants(path: tuple[str, ...], values: tuple) -> int:
    typed = 0
    for value in (MISSING, *values):
        for base in (_base(), {**make_status(9), "reblog": _base()}):
            at = ("reblog", *path) if "reblog" in base and base["reblog"] else path
            for host, local_domain in (("glammr.us", None), ("glammr.us", "glammr.example")):
                _, stayed = both(_answer(_set(base, at, value)), host, local_domain)
                typed += stayed
    return typed


@pytest.mark.parametrize("field", STATUS_FIELDS)
def test_every_status_field_with_odd_values_reads_the_same(field: str) -> None:
    _check_variants((field,), ODD_VALUES + (TIMES if field in ("created_at", "edited_at") else ()))


@pytest.mark.parametrize("field", ACCOUNT_FIELDS)
def test_every_account_field_with_odd_values_reads_the_same(field: str) -> None:
    values = ODD_VALUES + ("ana@elsewhere.example", "Ana@GLAMMR.us", "https://other.example/users/ana",
                           "http://[::1", "https://Upper.Example:8443/@ana")
    _check_variants(("account", field), values)


def test_odd_profile_fields_read_the_same() -> None:
    fields = ([{"name": 5, "value": "x"}], ["x"], [None], [{"name": None, "value": None}], [{}],
              [{"name": "<b>A</b> &amp;", "value": "<a href='x'>link</a>", "verified_at": "2026-01-01"}],
              [{"name": "a"}, {"value": "b"}, {"name": "\ud83d", "value": "\x00"}], {"name": "a"})
    _check_variants(("account", "fields"), fields)


def test_odd_tags_read_the_same() -> None:
    tags = ([{"name": "A"}, {"name": "a"}, {"name": "B"}], [{"url": "x"}], [{"name": 5}], ["glam"], [None],
            [{"name": "İstanbul"}, {"name": "ǅ"}], [{"name": "\ud83d"}], [{"name": ""}], {"name": "a"})
    _check_variants(("tags",), tags)


def test_quotes_in_every_shape_read_the_same() -> None:
    quoted = make_status(7, number=7)
    quotes = ({"state": "accepted", "quoted_status": quoted}, {"state": "deleted", "quoted_status": None},
              {"state": None, "quoted_status": quoted}, {"state": "accepted"}, {"quoted_status": quoted},
              quoted, {**quoted, "uri": 5}, {**quoted, "uri": ""}, {"state": "accepted", "quoted_status": "x"},
              {"state": "accepted", "quoted_status": {"uri": None}}, {"state": 3, "quoted_status": {"uri": "u"}},
              {"uri": "\ud83d"}, {"state": "accepted", "quoted_status": {**quoted, "account": None}})
    _check_variants(("quote",), quotes)


def test_nested_and_odd_boosts_read_the_same() -> None:
    inner = {**make_status(5, number=5), "reblog": make_status(4, number=4)}
    reblogs = (inner, {**make_status(6), "account": None}, {**make_status(6), "id": ""}, make_status(6, tags=()))
    _check_variants(("reblog",), reblogs)
    outer_without_content = _set({**make_status(9), "reblog": _base()}, ("content",), MISSING)
    both(_answer(outer_without_content))


def test_good_answers_stay_typed_and_odd_ones_do_not() -> None:
    """Guards the test itself: the comparisons above run both paths, not the dict path twice."""
    assert both(_answer(_base()))[1]
    assert not both(_answer(_set(_base(), ("created_at",), "2026-11-20T10:00:00z")))[1]
    assert not both(_answer(_set(_base(), ("content",), "\ud83d")))[1]


# ---------------------------------------------------------------- hostile documents

@pytest.mark.parametrize("body", [
    b"", b"not json", b"<html>502</html>", b"{}", b'{"error": "x"}', b"null", b"5", b'"x"', b"[]", b"[null]",
    b"[1, 2]", b'[{"id": "1"}]', b"[" * 100_000 + b"]" * 100_000,
    b'[{"id": "1", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]", b"[1e999]",
    b'[{"id": 123456789012345678901234567890}]', b"\xef\xbb\xbf[]", "[]".encode("utf-16"), b'[{"id": "\xff"}]',
    b"[] trailing",
], ids=lambda b: repr(b[:24]))
def test_odd_documents_read_the_same(body: bytes) -> None:
    both(body)


def test_duplicate_keys_and_unknown_fields_read_the_same() -> None:
    good = json.dumps(_base())
    doubled = good[:-1] + ', "uri": "https://glammr.us/users/ana/statuses/99", "content": "<p>later</p>"}'
    extra = good[:-1] + ', "unknown": {"deep": [1, {"x": null}]}, "emoji_reactions": [], "pleroma": {"local": true}}'
    for item in (doubled, extra):
        result, stayed = both(f"[{item}]".encode())
        assert stayed
    assert "later" in both(f"[{doubled}]".encode())[0][0]


def test_nul_and_escaped_characters_read_the_same() -> None:
    body = _answer(_set(_base(), ("content",), "<p>a\x00b \\u00e9 \u00e9 \U0001f600 \\ud83d</p>"))
    result, stayed = both(body.replace(b"\\\\ud83d", b"\\ud83d\\ude00"))
    assert stayed


# ---------------------------------------------------------------- the collector reads timelines typed

def test_the_collector_decodes_timelines_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tag timeline goes through decode_timeline (what the benchmark times), and gives the dict path's posts."""
    seen: list[type] = []

    def spy(body: bytes) -> object:
        answer = entities.decode_timeline(body)
        seen.append(type(answer))
        return answer

    monkeypatch.setattr(paging, "decode_timeline", spy)
    statuses = [make_status(i, number=i) for i in (3, 2, 1)]

    async def read() -> tuple[list, Instance]:
        with FakeMastodon(statuses) as fake:
            async with make_client(5.0) as client:
                inst = Instance(fake.base, client, SourceReport(fake.base, "mastodon"))
                pages = paging.backfill_pages(inst, ["sololibrarians"], "k", datetime(2000, 1, 1, tzinfo=UTC),
                                              paging.ALL, paging.PageBudget(5))
                return [p async for p in pages], inst

    pages, inst = asyncio.run(read())
    assert seen and set(seen) == {Timeline}
    expected, _ = parse_statuses(json.loads(json.dumps(statuses)), inst.base, inst.host, [])
    assert repr([p for page in pages for p in page.posts]) == repr(expected)


# ---------------------------------------------------------------- times at the calendar's edge

@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_time_past_the_calendar_in_utc_costs_only_its_status(when: str) -> None:
    """It raised OverflowError, which the per-item handling did not catch: the page was lost, every cycle."""
    for field in ("created_at", "edited_at"):
        errors: list[str] = []
        posts, ids = parse_statuses(json.loads(_answer(_set(_base(), (field,), when))), "https://glammr.us",
                                    "glammr.us", errors)
        assert [p.sighting.local_id for p in posts] == ["3", "1"]
        assert ids == ["3", "2", "1"]
        assert errors == ["glammr.us: skipped a status: time is out of range in UTC"]


# ---------------------------------------------------------------- thread contexts

def both_contexts(body: bytes) -> tuple[tuple[str, ...], bool]:
    """The typed reading of a ``/context`` answer against the dict path's, as ``fetch_thread`` reads it."""
    try:
        plain = threads.descendants_of(loads(body))
    except (ValueError, RecursionError) as exc:
        with pytest.raises(type(exc)):
            decode_context(body)
        return (type(exc).__name__,), False
    typed = threads.descendants_of(decode_context(body))
    if plain is None or typed is None:
        assert plain is None and typed is None
        return ("not a context",), False
    result = _read(typed, "glammr.us", None, VIA_THREAD)
    assert result == _read(plain, "glammr.us", None, VIA_THREAD)
    return result, type(typed) is Timeline


def test_contexts_read_the_same() -> None:
    replies = [make_status(i, number=i, in_reply_to_id="1") for i in (2, 3, 4)]
    good = {"ancestors": [make_status(1)], "descendants": replies}
    result, stayed = both_contexts(json.dumps(good).encode())
    assert stayed and result[0].count("Post(") == 3
    odd = (
        {**good, "ancestors": [{"odd": True}, None]}, {"descendants": replies}, {"ancestors": []},
        {"ancestors": [], "descendants": None}, {"ancestors": [], "descendants": {"a": 1}}, [replies], None, "x",
        {"ancestors": [], "descendants": [*replies, None, {"id": "9"}]},
        {"ancestors": [], "descendants": [_set(replies[0], ("created_at",), "2026-11-20T10:00:00z"), replies[1]]},
        {"ancestors": [], "descendants": [_set(replies[0], ("account",), None), replies[1]]},
    )
    for context in odd:
        both_contexts(json.dumps(context).encode())
    assert both_contexts(json.dumps(odd[0]).encode())[1]
    for body in (b"{", b'{"ancestors": [], "descendants": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                 b'{"descendants": [{"id": "\\ud83d"}]}', b'{"descendants": [], "descendants": 5}'):
        both_contexts(body)


def test_a_thread_is_decoded_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    """fetch_thread reads a context through decode_context, and gets the dict path's replies."""
    seen: list[type] = []

    def spy(body: bytes) -> object:
        answer = entities.decode_context(body)
        seen.append(type(answer))
        return answer

    monkeypatch.setattr(threads, "decode_context", spy)
    request = make_status(1, number=1)
    replies = [make_status(i, number=i, in_reply_to_id="1", tags=()) for i in (3, 2)]

    async def read() -> tuple[list, Instance]:
        with FakeMastodon([*replies, request]) as fake:
            async with make_client(5.0) as client:
                inst = Instance(fake.base, client, SourceReport(fake.base, "mastodon"))
                page = await threads.fetch_thread([(inst, "1")], request["uri"], "2026-11-20T10:00:00Z")
                return page.posts, inst

    posts, inst = asyncio.run(read())
    assert seen == [Timeline]
    assert sorted(p.sighting.local_id for p in posts) == ["2", "3"]
    expected, _ = parse_statuses([json.loads(json.dumps(r)) for r in replies], inst.base, inst.host, [], VIA_THREAD)
    assert sorted(repr(dataclasses.replace(p, reply_root=None)) for p in posts) == sorted(map(repr, expected))
