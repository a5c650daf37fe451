"""Printing rows the way scripts expect: an aligned table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, TextIO
from zoneinfo import ZoneInfo

FORMATS = ("table", "csv", "json")


def _plain(value: Any, tz: ZoneInfo | None) -> Any:
    if isinstance(value, datetime):
        return (value.astimezone(tz) if tz else value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (list, tuple)):
        return [_plain(v, tz) for v in value]
    return value


def _cell(value: Any, width: int = 60) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    text = " ".join(str(value).split())  # one line per row, whatever the post held
    return text if len(text) <= width else text[: width - 1] + "…"


def render(rows: Sequence[dict[str, Any]], fmt: str, out: TextIO | None = None, tz: str | None = None) -> None:
    out = out or sys.stdout
    zone = ZoneInfo(tz) if tz else None
    plain = [{k: _plain(v, zone) for k, v in row.items()} for row in rows]
    if fmt == "json":
        json.dump(plain, out, ensure_ascii=False, indent=1)
        out.write("\n")
        return
    columns = list(plain[0].keys()) if plain else []
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in plain:
            writer.writerow([" ".join(map(str, v)) if isinstance(v, list) else ("" if v is None else v)
                             for v in row.values()])
        return
    if not plain:
        out.write("(nothing)\n")
        return
    cells = [[_cell(row[c]) for c in columns] for row in plain]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    bold = sys.stdout.isatty() and not os.environ.get("NO_COLOR") and out is sys.stdout
    header = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()
    out.write((f"\033[1m{header}\033[0m" if bold else header) + "\n")
    for r in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() + "\n")
