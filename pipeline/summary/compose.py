"""The weekly summary: how the community did in an ISO week, composed for Mastodon and Bluesky.

:func:`compose_summary` is the one entry point: the ``peerdesk summary`` command
previews and publishes what it returns. The facts come from :mod:`pipeline.summary.facts`, the words from
:mod:`pipeline.summary.words` through the template (:mod:`pipeline.summary.template`),
and each platform's shape from :mod:`pipeline.summary.render`.

What the summary says about people follows the consent rules: post text is
never quoted, only linked (``indexable: false`` text must not be republished),
and a person is named only when :func:`pipeline.core.consent.promotable` allows it
and they have neither opted out nor asked to be forgotten; everyone else is
counted, not named. Handles are written without ``@`` unless ``[summary]
mentions`` is true, since a mention notifies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from pipeline.core.config_checks import ConfigError
from pipeline.core.settings import Settings, SummarySettings
from pipeline.core.store import now_utc
from pipeline.summary import words as summary_i18n
from pipeline.summary.facts import (
    Named,
    Week,
    WeekFacts,
    last_complete_week,
    parse_week,
    week_facts,
    week_of,
)
from pipeline.summary.render import (
    MASTODON_DEFAULT_LIMIT,
    MASTODON_URL_LENGTH,
    BlueskyPost,
    Line,
    Link,
    Paragraph,
    Segment,
    Tag,
    Text,
    bluesky_thread,
    mastodon_thread,
)
from pipeline.summary.template import build_paragraphs, check_template, template_for
from pipeline.summary.words import Phrases

PLATFORM_NAMES = {"mastodon": "Mastodon", "bluesky": "Bluesky"}

__all__ = ["BlueskyPost", "MastodonLimits", "Summary", "Week", "WeekFacts", "compose_summary",
           "last_complete_week", "parse_week", "summary_options", "week_facts", "week_of"]


# ---------------------------------------------------------------- options


def summary_options(settings: Settings) -> SummarySettings:
    """The ``[summary]`` settings, their template checked here, by the feature that knows its fields.

    The configuration reader (pipeline.core.config) leaves the template's fields to the summary, so the
    core does not import a feature; the message is the same one line a bad key gets, naming the file.
    """
    template = settings.summary.template
    if template:
        try:
            check_template(template)
        except ValueError as exc:
            where = str(settings.source_file) if settings.source_file else "config"
            raise ConfigError(f"{where}: [summary] template: {exc}") from None
    return settings.summary


@dataclass(frozen=True)
class MastodonLimits:
    """What the home instance allows (``GET /api/v2/instance``); Mastodon's defaults when unknown."""

    max_characters: int = MASTODON_DEFAULT_LIMIT
    characters_reserved_per_url: int = MASTODON_URL_LENGTH
    known: bool = False  # read from the instance, rather than assumed


# ---------------------------------------------------------------- sentences


def _sentence(phrase: str, names: list[Segment]) -> Line:
    """A phrase with ``{names}`` replaced by people and separators, as segments."""
    before, _, after = phrase.partition("{names}")
    return (Text(before), *names, Text(after))


def _names(p: Phrases, named: Named) -> list[Segment]:
    items: list[Segment] = list(named.people)
    if named.unnamed:
        items.append(Text(summary_i18n.plural(p, named.unnamed, p.others)))
    out: list[Segment] = []
    for i, item in enumerate(items):
        if i:
            out.append(Text(f" {p.conjunction} " if i == len(items) - 1 else ", "))
        out.append(item)
    return out


def _people_line(p: Phrases, named: Named | None, phrase: str, unnamed: tuple[str, str]) -> list[Line]:
    if named is None or not named.total:
        return []
    if not named.people:
        return [(Text(summary_i18n.plural(p, named.unnamed, unnamed)),)]
    return [_sentence(phrase, _names(p, named))]


def _stats_lines(p: Phrases, f: WeekFacts) -> list[Line]:
    if not f.asked:
        return [(Text(p.no_requests),)]
    asked = summary_i18n.plural(p, f.asked, p.requests, asked=f.asked)
    answered = (p.answered.format(answered=f.answered, percent=round(100 * f.answered / f.asked))
                if f.answered else p.none_answered)
    lines: list[Line] = [(Text(f"{asked}, {answered}"),)]
    if f.median is not None:
        median = summary_i18n.duration(p, f.median)
        sentence = (p.median_before.format(median=median, median_before=summary_i18n.duration(p, f.median_before))
                    if f.median_before is not None else p.median.format(median=median))
        lines.append((Text(sentence),))
    return lines


def _open_lines(p: Phrases, f: WeekFacts) -> list[Line]:
    if not f.waiting_total:
        return [(Text(p.nothing_waiting),)]
    if not f.waiting:
        return [(Text(summary_i18n.plural(p, f.waiting_total, p.waiting_count)),)]
    lines: list[Line] = [(Text(p.waiting_heading),)]
    for item in f.waiting:
        prefix = p.waiting_item.format(age=summary_i18n.age(p, item.age), platform=PLATFORM_NAMES[item.platform])
        lines.append((Text(prefix), Link(item.url)))
    if f.waiting_total > len(f.waiting):
        lines.append((Text(p.waiting_more.format(n=f.waiting_total - len(f.waiting))),))
    return lines


def template_values(settings: Settings, facts: WeekFacts) -> dict[str, list[Line]]:
    """Every template field as lines of segments (an empty list: nothing to say, the paragraph may go)."""
    p = summary_i18n.phrases(settings.language)
    week = facts.week

    def text(value: object) -> list[Line]:
        return [(Text(str(value)),)] if value not in (None, "") else []

    dates = summary_i18n.date_range(p, week.start.date(), (week.end - timedelta(days=1)).date())
    community = settings.community
    tags = settings.tags
    return {
        "heading": text(p.heading.format(community=community, week_number=week.number, dates=dates)),
        "community": text(community),
        "week": text(week.label),
        "week_number": text(week.number),
        "year": text(week.year),
        "dates": text(dates),
        "tag": [(Tag(tags[0]),)] if tags else [],
        "asked": text(facts.asked),
        "answered": text(facts.answered),
        "median": text(summary_i18n.duration(p, facts.median) if facts.median is not None else ""),
        "median_before": text(summary_i18n.duration(p, facts.median_before)
                              if facts.median_before is not None else ""),
        "stats": _stats_lines(p, facts),
        "open": _open_lines(p, facts),
        "open_count": text(facts.waiting_total),
        "newcomers": _people_line(p, facts.newcomers, p.welcome, p.welcome_unnamed),
        "newcomer_count": text(facts.newcomers.total if facts.newcomers is not None else ""),
        "thanks": _people_line(p, facts.thanks, p.thanks, p.thanks_unnamed),
    }


# ---------------------------------------------------------------- composing


@dataclass(frozen=True)
class Summary:
    """One week's summary, ready to show or publish: a Mastodon thread and a Bluesky thread."""

    week: Week
    as_of: datetime
    facts: WeekFacts
    options: SummarySettings
    mastodon_limits: MastodonLimits
    paragraphs: tuple[Paragraph, ...]
    mastodon: list[str]
    bluesky: list[BlueskyPost]
    language: str = "en"  # what the words are in: [community] language when built in, else English

    @property
    def complete(self) -> bool:
        """The week was over at ``as_of``: its figures will not grow any more."""
        return self.as_of >= self.week.end


def compose_summary(con: duckdb.DuckDBPyConnection, settings: Settings, week: Week | str | None = None, *,
                    as_of: datetime | None = None, mastodon_limits: MastodonLimits | None = None) -> Summary:
    """Compose ``week``'s summary (default: the last complete week) as of ``as_of`` (default: now).

    Reads only; any connection will do, a read-only one included. ``mastodon_limits``
    is what the home instance allows (:func:`pipeline.summary.publish_mastodon.instance_limits`
    reads it); without it Mastodon's defaults (500 characters, 23 per URL) apply.
    """
    as_of = as_of or now_utc()
    if week is None:
        week = last_complete_week(as_of)
    elif isinstance(week, str):
        week = parse_week(week)
    options = summary_options(settings)
    limits = mastodon_limits or MastodonLimits()
    facts = week_facts(con, settings, week, as_of)
    paragraphs = tuple(build_paragraphs(template_for(options.template), template_values(settings, facts)))
    return Summary(
        week=week, as_of=as_of, facts=facts, options=options, mastodon_limits=limits, paragraphs=paragraphs,
        mastodon=mastodon_thread(paragraphs, limit=limits.max_characters,
                                 url_length=limits.characters_reserved_per_url, mentions=options.mentions),
        bluesky=bluesky_thread(paragraphs, mentions=options.mentions),
        language=summary_i18n.phrases(settings.language).code,
    )
