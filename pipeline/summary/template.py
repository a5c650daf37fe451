"""The summary's template: paragraphs with ``{fields}``, checked once and filled with rich segments.

A template is plain text in which blank lines separate paragraphs; the thread
is split between paragraphs when it can be. A field is replaced by finished
sentences (``{stats}``, ``{open}``, ``{newcomers}``, ``{thanks}``) or by one
value (``{asked}``, ``{median}``...). A paragraph whose fields all come out
empty (no newcomers this week, nobody to thank) is left out, so one template
reads well every week. Fields take no format spec or conversion: the values
are already words in the community's language.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

from pipeline.summary.render import Line, Paragraph, Segment, Text

DEFAULT_TEMPLATE = "{heading} {tag}\n\n{stats}\n\n{open}\n\n{newcomers}\n\n{thanks}"

FIELDS: dict[str, str] = {
    "heading": "the title line: community, week number and dates, in the community's language",
    "community": "[community] name",
    "week": "the ISO week, e.g. 2026-W47",
    "week_number": "the week's number, e.g. 47",
    "year": "the ISO week's year",
    "dates": "the week's dates, e.g. 16–22 November 2026",
    "tag": "the first [community] tags entry, as a hashtag",
    "asked": "help requests asked that week",
    "answered": "of those, how many have had a reply from someone else",
    "median": "median time to a first reply (empty when nothing was answered)",
    "median_before": "the same for the week before",
    "stats": "the sentences about requests, answers and the median time",
    "open": "up to five requests still waiting for an answer, oldest first, as links",
    "open_count": "how many requests are still waiting",
    "newcomers": "the welcome to people whose first community post fell in the week",
    "newcomer_count": "how many people posted for the first time",
    "thanks": "the thank-you to the most helpful peers",
}

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)*")


def check_template(template: str) -> None:
    """Raise ValueError naming the first problem: unbalanced braces, an unknown field, a format spec."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"not a valid template ({exc}); write a literal brace as {{{{ or }}}}") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in FIELDS:
            known = ", ".join("{" + f + "}" for f in FIELDS)
            raise ValueError(f"unknown field {{{name}}} (known: {known})")
        if spec or conversion:
            raise ValueError(f"{{{name}}}: fields take no format spec or conversion")
    if not template.strip():
        raise ValueError("the template is empty")


def template_for(configured: str) -> str:
    """The configured template, or the built-in one (whose words follow ``[community] language``)."""
    return configured if configured.strip() else DEFAULT_TEMPLATE


def build_paragraphs(template: str, values: Mapping[str, list[Line]]) -> list[Paragraph]:
    """Fill the template's paragraphs with the values' segments; drop paragraphs with only empty fields."""
    check_template(template)
    paragraphs: list[Paragraph] = []
    for chunk in _PARAGRAPH_BREAK.split(template.strip()):
        lines: list[list[Segment]] = [[]]
        fields = filled = 0
        for literal, name, _, _ in string.Formatter().parse(chunk):
            for i, part in enumerate(literal.split("\n")):
                if i:
                    lines.append([])
                if part:
                    lines[-1].append(Text(part))
            if name is None:
                continue
            fields += 1
            value = values.get(name, [])
            filled += bool(value)
            for i, line in enumerate(value):
                if i:
                    lines.append([])
                lines[-1].extend(line)
        if fields and not filled:
            continue
        cleaned = tuple(line for line in (_tidy(line) for line in lines) if line)
        if cleaned:
            paragraphs.append(cleaned)
    return paragraphs


def _tidy(segments: list[Segment]) -> Line:
    """Merge neighbouring text, trim the line's ends, drop what is left empty."""
    merged: list[Segment] = []
    for segment in segments:
        if isinstance(segment, Text) and merged and isinstance(merged[-1], Text):
            merged[-1] = Text(merged[-1].text + segment.text)
        else:
            merged.append(segment)
    if merged and isinstance(merged[0], Text):
        merged[0] = Text(merged[0].text.lstrip())
    if merged and isinstance(merged[-1], Text):
        merged[-1] = Text(merged[-1].text.rstrip())
    return tuple(s for s in merged if not (isinstance(s, Text) and not s.text))
