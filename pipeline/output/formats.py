"""Printing rows the way scripts expect: an aligned table, CSV or JSON."""

from __future__ import annotations

import csv
import json
import os
import re
import sys
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from collectors.clean_text import without_controls

FORMATS = ("table", "csv", "json")
_C1_OR_DEL = re.compile("[\x7f-\x9f]")


def human_duration(value: timedelta) -> str:
    """'3d 4h', '2h 05m', '12m': how long someone waited, for people rather than scripts."""
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins:02d}m"
    return f"{mins}m"


def readable_times(row: dict[str, Any], fmt: str) -> dict[str, Any]:
    """A response-times row in one kind of unit per format.

    Tables say durations the way people do ("13h 31m") and shares as percentages ("100%");
    CSV and JSON keep seconds (rounded to whole seconds) and shares as exact fractions between 0 and 1.
    """
    out = dict(row)
    seconds = row.get("p90_response_seconds")
    shares = [k for k in row if k.startswith("answered_within")]
    if fmt == "table":
        out["p90_response_seconds"] = None if seconds is None else timedelta(seconds=round(seconds))
        out = {("p90_response" if k == "p90_response_seconds" else k): v for k, v in out.items()}
        for k in shares:
            out[k] = None if row[k] is None else f"{row[k]:.0%}"
        return out
    if seconds is not None:
        out["p90_response_seconds"] = round(seconds)
    if isinstance(row.get("median_response"), timedelta):
        out["median_response"] = timedelta(seconds=round(row["median_response"].total_seconds()))
    return out


def _plain(value: Any, tz: ZoneInfo | None, human: bool = False) -> Any:
    if isinstance(value, datetime):
        local = value.astimezone(tz) if tz else value
        return local.strftime("%Y-%m-%d %H:%M") if human else local.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return human_duration(value) if human else value.total_seconds()
    if isinstance(value, float) and human:
        return f"{value:.2f}"
    if isinstance(value, (list, tuple)):
        return [_plain(v, tz, human) for v in value]
    return value


WHOLE = ("url", "uri")  # columns people copy into `peerdesk mark` or a browser: never cut


def _cell(value: Any, width: int | None = 60) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    text = without_controls(" ".join(str(value).split()))  # one line per row, whatever the post held
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def _csv_cell(value: Any) -> Any:
    """A CSV field: lists joined by spaces; text without control characters (rows stored before parsers dropped
    them), since CSV is printed to terminals too."""
    if isinstance(value, list):
        value = " ".join(map(str, value))
    return "" if value is None else without_controls(value) if isinstance(value, str) else value


def render(rows: Sequence[dict[str, Any]], fmt: str, out: TextIO | None = None, tz: str | None = None) -> None:
    out = out or sys.stdout
    zone = ZoneInfo(tz) if tz else None
    plain = [{k: _plain(v, zone, human=fmt == "table") for k, v in row.items()} for row in rows]
    if fmt == "json":
        # JSON escapes C0 controls itself; DEL and C1 it writes as they are, so they are escaped here (the same
        # strings, once parsed) before a terminal can act on them.
        out.write(_C1_OR_DEL.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(plain, ensure_ascii=False, indent=1)))
        out.write("\n")
        return
    # With no rows, the columns the query named (pipeline.core.queries.results.Rows): a CSV keeps its header.
    columns = list(plain[0].keys()) if plain else list(getattr(rows, "columns", ()))
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in plain:
            writer.writerow([_csv_cell(v) for v in row.values()])
        return
    if not plain:
        out.write("(nothing)\n")
        return
    cells = [[_cell(row[c], None if c in WHOLE else 60) for c in columns] for row in plain]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    bold = sys.stdout.isatty() and not os.environ.get("NO_COLOR") and out is sys.stdout
    header = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()
    out.write((f"\033[1m{header}\033[0m" if bold else header) + "\n")
    for r in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() + "\n")
