"""The weekly summary's content and its per-platform shape: golden texts, consent, limits, facets.

The sample community is loaded once with a fixed clock (the newest post at
2026-11-25 12:00 UTC, a Wednesday), so 2026-W47 is the last complete week and
its figures never move. Set UPDATE_GOLDEN=1 to rewrite the golden files after a
deliberate change of wording, then read the diff.
"""

from __future__ import annotations

import dataclasses
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline.cli.summary import render_preview
from pipeline.core import store
from pipeline.core.config_checks import ConfigError
from pipeline.core.settings import Settings, SummarySettings
from pipeline.detector.rules import classify
from pipeline.summary.compose import (
    BlueskyPost,
    MastodonLimits,
    Summary,
    compose_summary,
    last_complete_week,
    parse_week,
    summary_options,
    week_of,
)
from pipeline.summary.render import (
    BLUESKY_BYTES,
    BLUESKY_GRAPHEMES,
    Link,
    Person,
    Tag,
    Text,
    bluesky_thread,
    graphemes,
    mastodon_length,
    mastodon_thread,
    short_url,
)
from pipeline.summary.template import DEFAULT_TEMPLATE, FIELDS, build_paragraphs, check_template
from tests.support import SAMPLE_NOW

NOW = SAMPLE_NOW  # the moment the shared demo_db fixture was loaded at
WEEK = "2026-W47"
GOLDEN = Path(__file__).parent / "golden" / "summary"


def settings_with(base: Settings | None = None, **options: Any) -> Settings:
    """Settings whose ``[summary]`` section says ``options``."""
    base = base or Settings()
    return dataclasses.replace(base, summary=dataclasses.replace(base.summary, **options))


def compose(path: Path, settings: Any = None, week: str = WEEK, **kw: Any) -> Summary:
    with store.reading(path) as con:
        return compose_summary(con, settings or Settings(), week, as_of=NOW, **kw)


def all_text(s: Summary) -> str:
    return "\n".join(s.mastodon + [p.text for p in s.bluesky])


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from the golden file (UPDATE_GOLDEN=1)"


def check_facets(post: BlueskyPost, people: dict[str, str] | None = None) -> None:
    """Each facet's byte range, sliced out of the UTF-8 text, is exactly what the facet is about."""
    data = post.text.encode("utf-8")
    end = 0
    for facet in post.facets:
        start, stop = facet["index"]["byteStart"], facet["index"]["byteEnd"]
        assert end <= start < stop <= len(data), "facets are ordered, disjoint and inside the text"
        end = stop
        shown = data[start:stop].decode("utf-8")  # raises if the range cuts a character
        (feature,) = facet["features"]
        kind = feature["$type"].rsplit("#", 1)[1]
        if kind == "link":
            assert shown == short_url(feature["uri"])
        elif kind == "tag":
            assert shown == "#" + feature["tag"]
        else:
            assert kind == "mention" and shown == "@" + (people or {})[feature["did"]]


# ---------------------------------------------------------------- golden texts


@pytest.mark.parametrize("language", ["en", "fr", "de", "es"])
def test_the_sample_week_reads_as_the_golden_file(demo_db: Path, language: str) -> None:
    settings = dataclasses.replace(Settings(), language=language)
    s = compose(demo_db, settings)
    check_golden(f"{WEEK}.{language}.txt", render_preview(s, _fresh(s), settings))
    for post in s.bluesky:
        check_facets(post)


def test_the_bluesky_facets_are_the_golden_ones(demo_db: Path) -> None:
    s = compose(demo_db)
    check_golden(f"{WEEK}.en.json", render_preview(s, _fresh(s), Settings(), "json"))


def _fresh(s: Summary) -> dict:
    from pipeline.summary.publish import PLATFORMS, planned_posts

    return {p: (planned_posts(s, p), []) for p in PLATFORMS}


def test_the_figures_of_the_sample_week(demo_db: Path) -> None:
    f = compose(demo_db).facts
    assert (f.asked, f.answered) == (13, 9)
    assert f.median is not None and f.median_before is not None and f.median < f.median_before
    assert [w.created_at for w in f.waiting] == sorted(w.created_at for w in f.waiting)
    assert len(f.waiting) == 5 and f.waiting_total == 6
    assert all(w.created_at < parse_week(WEEK).end for w in f.waiting)  # nothing asked after the week
    assert f.newcomers is not None
    assert [p.account for p in f.newcomers.people] == ["kwame@mastodon.social", "freece@libraryland.example"]
    assert f.newcomers.unnamed == 0  # digest@libraryland.example is new too, but a bot
    assert [p.account for p in f.thanks.people] == ["analima@glammr.us", "aroha@mastodon.social", "deb@glammr.us"]


def test_no_post_text_is_ever_quoted(demo_db: Path) -> None:
    text = all_text(compose(demo_db))
    with store.reading(demo_db) as con:
        stored = [r[0] for r in con.execute("SELECT text FROM post_store WHERE text IS NOT NULL").fetchall()]
    for post in stored:
        for sentence in re.split(r"(?<=[.!?])\s+|\n", post):
            if len(sentence) >= 25:
                assert sentence not in text


def test_the_first_post_is_not_mistaken_for_a_help_request(demo_db: Path) -> None:
    for language in ("en", "fr", "de", "es"):
        s = compose(demo_db, dataclasses.replace(Settings(), language=language))
        for text in (s.mastodon[0], s.bluesky[0].text):
            assert not classify(text, language).is_request, text


def test_an_unknown_language_falls_back_to_english(demo_db: Path) -> None:
    s = compose(demo_db, dataclasses.replace(Settings(), language="it"))
    assert s.language == "en" and "help requests" in s.mastodon[0]


# ---------------------------------------------------------------- consent


def _sql(path: Path, *statements: str) -> None:
    with store.writing(path) as con:
        for sql in statements:
            con.execute(sql)


def test_people_are_named_only_when_promotable(db: Path) -> None:
    _sql(db,
         "UPDATE account_store SET discoverable = false WHERE account = 'analima@glammr.us'",
         "INSERT INTO opt_outs (account, reason, seen_at) VALUES ('kwame@mastodon.social', '#nobot', now())",
         "INSERT INTO forgotten VALUES ('deb@glammr.us', now())")
    s = compose(db)
    text = all_text(s)
    for hidden in ("analima@glammr.us", "kwame@mastodon.social", "deb@glammr.us"):
        assert hidden not in text
    assert [p.account for p in s.facts.thanks.people] == ["aroha@mastodon.social", "layla@glammr.us",
                                                           "mhollis@glammr.us"]
    assert s.facts.newcomers.unnamed == 1  # counted, not named
    assert "freece@libraryland.example and 1 other, new here" in text


def test_a_request_whose_author_may_not_be_promoted_is_counted_not_linked(db: Path) -> None:
    _sql(db, "UPDATE account_store SET discoverable = false WHERE account = 'claire@libraryland.example'")
    s = compose(db)
    assert "@claire" not in all_text(s)
    assert s.facts.waiting_total == 6 and len(s.facts.waiting) == 5
    assert "…and 1 more." in s.mastodon[0]


def test_handles_are_plain_unless_mentions_are_configured(db: Path) -> None:
    _sql(db, "UPDATE account_store SET discoverable = false WHERE account IN "
             "('analima@glammr.us', 'deb@glammr.us', 'mhollis@glammr.us', 'tobias@mastodon.social')")
    plain = compose(db, settings_with())
    assert not re.search(r"(?<![=/\w])@\w", "\n".join(plain.mastodon))
    assert not any(f["features"][0]["$type"].endswith("#mention") for p in plain.bluesky for f in p.facets)

    loud = compose(db, settings_with(mentions=True))
    thanks = [t for t in loud.mastodon if "Thank you" in t][0]
    assert "@aroha@mastodon.social, @layla@glammr.us, eunjipark.bsky.social and 6 others!" in thanks
    assert mastodon_length("@layla@glammr.us") == len("@layla")  # Mastodon counts a mention as @user
    post = [p for p in loud.bluesky if "Thank you" in p.text][0]
    assert "aroha@mastodon.social, layla@glammr.us, @eunjipark.bsky.social and 6 others!" in post.text
    mentions = [f for f in post.facets if f["features"][0]["$type"].endswith("#mention")]
    assert [m["features"][0]["did"] for m in mentions] == ["did:plc:t7vx4nqan7utywcja4psufks"]
    check_facets(post, {"did:plc:t7vx4nqan7utywcja4psufks": "eunjipark.bsky.social"})


def test_a_quiet_week_is_one_short_post(tmp_path: Path) -> None:
    store.connect(tmp_path / "empty.duckdb").close()
    s = compose(tmp_path / "empty.duckdb")
    expected = ("Solo librarians, week 47 (16–22 November 2026) #sololibrarians\n\n"
                "No help requests this week.\n\nNo request is waiting for an answer.")
    assert s.mastodon == [expected] and [p.text for p in s.bluesky] == [expected]
    assert s.facts.newcomers is None and s.facts.thanks.total == 0


def test_newcomers_are_left_out_when_the_store_does_not_reach_back_before_the_week(demo_db: Path) -> None:
    s = compose(demo_db, week="2026-W46")  # the sample starts on the Thursday of W46
    assert s.facts.newcomers is None
    assert "Welcome" not in all_text(s)


# ---------------------------------------------------------------- template


def test_a_configured_template_with_emoji_and_combining_marks_keeps_facets_exact(demo_db: Path) -> None:
    template = "👩‍👩‍👧‍👦 Cafe\u0301 ☕ {community} — {week} {tag}\n\n{open}\n\nMerci ❤️ {thanks}\n\n{newcomers}"
    s = compose(demo_db, settings_with(dataclasses.replace(Settings(), language="fr"), template=template,
                                       mentions=True))
    assert s.mastodon[0].startswith("👩‍👩‍👧‍👦 Cafe\u0301 ☕ Solo librarians — 2026-W47 #sololibrarians")
    people = {"did:plc:t7vx4nqan7utywcja4psufks": "eunjipark.bsky.social"}
    assert any(f["features"][0]["$type"].endswith("#link") for p in s.bluesky for f in p.facets)
    for post in s.bluesky:
        check_facets(post, people)
        assert graphemes(post.text) <= BLUESKY_GRAPHEMES


def test_a_paragraph_whose_fields_are_all_empty_is_dropped() -> None:
    values = {"stats": [(Text("12 asked."),)], "newcomers": [], "thanks": []}
    paragraphs = build_paragraphs("Hello {stats}\n\nWelcome: {newcomers}\n\n{thanks}\n\nBye", values)
    assert paragraphs == [((Text("Hello 12 asked."),),), ((Text("Bye"),),)]


@pytest.mark.parametrize("template, problem", [
    ("{nope}", "unknown field {nope}"),
    ("{asked:>5}", "no format spec"),
    ("{asked!r}", "no format spec"),
    ("{asked", "not a valid template"),
    ("   ", "empty"),
])
def test_a_bad_template_is_refused_with_a_reason(template: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        check_template(template)


def test_a_configured_bad_template_is_a_one_line_configuration_error(tmp_path: Path) -> None:
    """Checked by the summary, which knows the fields, with the message a bad key gets when the file is read."""
    settings = dataclasses.replace(settings_with(template="Hi {nope}"), source_file=tmp_path / "peerdesk.toml")
    expected = f"{tmp_path / 'peerdesk.toml'}: [summary] template: unknown field {{nope}}"
    with pytest.raises(ConfigError, match=re.escape(expected)):
        summary_options(settings)


def test_the_default_template_uses_known_fields() -> None:
    check_template(DEFAULT_TEMPLATE)
    assert {"stats", "open", "newcomers", "thanks", "tag"} <= set(FIELDS)


def test_options_default_until_the_configuration_has_a_summary_section() -> None:
    assert summary_options(Settings()) == SummarySettings("", False, "unlisted")
    assert summary_options(settings_with(mentions=True, visibility="public")).visibility == "public"


# ---------------------------------------------------------------- weeks


def test_weeks() -> None:
    week = parse_week("2026-W47")
    assert (week.start, week.end) == (datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC))
    assert parse_week("2026w47") == week and str(week.previous()) == "2026-W46"
    assert last_complete_week(NOW) == week
    assert last_complete_week(datetime(2026, 11, 23, 0, 0, tzinfo=UTC)) == week  # Monday midnight: W47 is done
    assert week_of(datetime(2027, 1, 1, tzinfo=UTC)).label == "2026-W53"
    for bad in ("2026-47", "W47", "2025-W53", "2026-W00"):
        with pytest.raises(ValueError):
            parse_week(bad)


# ---------------------------------------------------------------- limits: graphemes, URLs, splitting


FAMILY = "👩‍👩‍👧‍👦"  # one grapheme cluster, 7 code points, 25 UTF-8 bytes


def test_grapheme_clusters_are_counted_as_people_see_them() -> None:
    assert graphemes(FAMILY) == 1 and len(FAMILY) == 7 and len(FAMILY.encode()) == 25
    assert graphemes("e\u0301") == 1 and graphemes("🇫🇷🇩🇪") == 2 and graphemes("👍🏽") == 1
    assert graphemes("🏳️‍🌈") == 1 and graphemes("\r\n") == 1 and graphemes("각") == 1


def test_mastodon_counts_a_url_as_23_characters_whatever_its_length() -> None:
    url = "https://example.org/" + "a" * 2000
    assert mastodon_length(f"see {url}") == 4 + 23
    assert mastodon_length(f"see {url}.") == 4 + 23 + 1  # trailing punctuation is text
    assert mastodon_length(f"({url})", url_length=30) == 1 + 30 + 1
    posts = mastodon_thread([((Text("Links:"),), *[(Link(url + str(i)),) for i in range(10)])], limit=100)
    assert all(mastodon_length(p) <= 100 for p in posts) and len(posts) > 1
    assert all(url in p for p in posts)  # a URL is never cut


def test_bluesky_shows_a_long_url_short_and_links_the_whole_of_it() -> None:
    url = "https://example.org/" + "ü" * 500
    (post,) = bluesky_thread([((Text("Lien ➜ "), Link(url)),)])
    assert post.text == "Lien ➜ example.org/üüüüüüüüüüüü..."
    assert post.facets[0]["features"][0]["uri"] == url
    check_facets(post)


def test_bluesky_posts_stay_within_300_graphemes_and_3000_bytes() -> None:
    families = ((Text(" ".join([FAMILY] * 400)),),)  # 799 graphemes, 10,399 bytes: bytes bind first
    posts = bluesky_thread([families])
    assert len(posts) > 3
    for post in posts:
        assert graphemes(post.text) <= BLUESKY_GRAPHEMES and len(post.text.encode()) <= BLUESKY_BYTES
    assert sum(p.text.count(FAMILY) for p in posts) == 400  # nothing lost, no cluster cut
    assert posts[-1].text.endswith(f"{len(posts)}/{len(posts)}")


def test_combining_characters_are_never_separated_from_their_base() -> None:
    word = "e\u0301\u0323" * 700  # one overlong word of 700 clusters, 2,100 code points
    posts = bluesky_thread([((Text(word),),)])
    body = "".join(p.text.rsplit("\n\n", 1)[0] for p in posts)
    assert body == word
    for post in posts:
        assert graphemes(post.text) <= BLUESKY_GRAPHEMES
        assert not re.match(r"[\u0300-\u036f]", post.text)  # no post starts with a stray combining mark


def test_a_thread_is_numbered_and_prefers_paragraph_boundaries() -> None:
    paragraphs = [((Text(f"Paragraph {i}: " + "word " * 30),),) for i in range(6)]
    posts = mastodon_thread(paragraphs, limit=400)
    assert [p.rsplit("\n", 1)[1] for p in posts] == [f"{i}/{len(posts)}" for i in range(1, len(posts) + 1)]
    for post in posts:
        assert mastodon_length(post) <= 400
        assert all(chunk.startswith("Paragraph") for chunk in post.split("\n\n")[:-1])  # never cut mid-paragraph


def test_a_list_heading_stays_with_its_first_item() -> None:
    items = tuple((Text(f"• item {i} "), Link(f"https://example.org/{i}")) for i in range(12))
    paragraphs = [((Text("x" * 150),),), ((Text("Still waiting:"),), *items)]
    for post in mastodon_thread(paragraphs, limit=200):
        assert not post.split("\n\n")[0 if "Still" not in post else -2].endswith("Still waiting:")


def test_ten_or_more_posts_still_fit_with_their_wider_numbers() -> None:
    posts = bluesky_thread([((Text("word " * 800),),)])
    assert len(posts) >= 10 and posts[9].text.endswith(f"10/{len(posts)}")
    assert all(graphemes(p.text) <= BLUESKY_GRAPHEMES for p in posts)


def test_tags_and_people_render_per_platform() -> None:
    line = (Text("Merci "), Person("did:plc:abc", "bluesky", "zoé.example"), Text(" et "),
            Person("ana@glammr.us", "mastodon", "ana@glammr.us"), Text(" "), Tag("bibliothèques"))
    assert mastodon_thread([(line,)], mentions=True) == ["Merci zoé.example et @ana@glammr.us #bibliothèques"]
    (post,) = bluesky_thread([(line,)], mentions=True)
    assert post.text == "Merci @zoé.example et ana@glammr.us #bibliothèques"
    check_facets(post, {"did:plc:abc": "zoé.example"})


def test_the_dashboard_preview_needs_no_network(demo_db: Path) -> None:
    s = compose(demo_db, mastodon_limits=MastodonLimits(max_characters=1000))
    assert len(s.mastodon) == 1 and len(s.bluesky) == 3
    assert s.complete and not compose(demo_db, week="2026-W48").complete


def test_the_summary_reads_from_a_read_only_connection(demo_db: Path) -> None:
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        assert compose_summary(con, Settings(), None, as_of=NOW + timedelta(days=7)).week.label == "2026-W48"
    finally:
        con.close()


def test_a_template_that_says_nothing_this_week_gives_no_posts(demo_db: Path) -> None:
    s = compose(demo_db, settings_with(template="{newcomers}"), week="2026-W46")
    assert s.mastodon == [] and s.bluesky == []


def test_peerdesk_summary_refuses_a_bad_template_with_one_line(demo_db: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from pipeline.cli.commands import cli

    config = tmp_path / "peerdesk.toml"
    config.write_text(f"[database]\npath = '{demo_db}'\n[summary]\ntemplate = 'Week {{week}}: {{nope}}'\n",
                      encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "summary", "--week", WEEK])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: {config}: [summary] template: unknown field {{nope}} (known: "
        + ", ".join("{" + f + "}" for f in FIELDS) + ")"]
