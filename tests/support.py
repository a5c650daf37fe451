"""Plain helpers the tests and the benchmarks share: fixed clocks, settings, one cycle, waiting for a condition.

Kept apart from ``conftest.py`` (fixtures and hooks only) because the benchmarks import these and must run without
pytest installed: nothing here imports pytest, directly or through another module.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from pipeline.collection.cycle import CycleOptions, SourceOutcome, run_cycle
from pipeline.collection.stream.run import StreamOptions, run_stream
from pipeline.collection.stream.stats import StreamStats
from pipeline.core.settings import MastodonSettings, Settings
from pipeline.core.writer import Writer

T = TypeVar("T")

SINCE = datetime(2026, 11, 1, tzinfo=UTC)
# The cycle's "now" in tests: after every fixture post, well inside the thread horizon, whatever today's date.
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
# The sample community as of a fixed Wednesday (2026-W48), shared by the summary and publish tests.
SAMPLE_NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def mastodon_settings(tmp_path: Path, *bases: str, tags: tuple[str, ...] = ("sololibrarians",), **kw: object
                      ) -> Settings:
    """Settings that read only the given fake instances and keep the database and state under ``tmp_path``."""
    return Settings(db_path=tmp_path / "peerdesk.duckdb", state_dir=tmp_path / "state", tags=tags,
                    mastodon=MastodonSettings(instances=tuple(bases), fetch_from_origin=False),
                    max_retries=2, timeout=2.0, **kw)


def run_once(settings: Settings, since: datetime = SINCE, max_rate_wait: float = 2.0,
             now: datetime = NOW) -> dict[str, SourceOutcome]:
    """One collect cycle on a fixed clock with short backoffs, its outcomes by source name."""
    options = CycleOptions(since=since, backoff=0.01, max_rate_wait=max_rate_wait, clock=lambda: now)
    outcomes = asyncio.run(run_cycle(settings, options))
    return {o.report.source: o for o in outcomes}


WAIT = 10.0  # seconds: long enough for a loaded 2-CPU machine, short enough that a hang fails the test, not CI
POLL = 0.01


class GaveUp(AssertionError):
    """What was being waited for can no longer happen (say, the process that would do it has exited)."""


def wait_until(condition: Callable[[], T], timeout: float = WAIT, what: str = "the condition", *,
               every: float = POLL, unless: Callable[[], object] | None = None) -> T:
    """Poll ``condition`` until it returns something truthy and return that; TimeoutError naming ``what`` after
    ``timeout`` seconds, :class:`GaveUp` carrying ``unless()``'s answer as soon as that is truthy.

    The one way tests wait for another thread or process: a fixed sleep is either too short on a busy machine or
    wasted on an idle one.
    """
    deadline = time.monotonic() + timeout
    while (value := _look(condition, deadline, timeout, what, unless)) is None:
        time.sleep(every)
    return value


async def wait_until_async(condition: Callable[[], T], timeout: float = WAIT, what: str = "the condition", *,
                           unless: Callable[[], object] | None = None) -> T:
    """:func:`wait_until` inside an event loop: yields to the loop between looks, so the awaited work can run."""
    deadline = time.monotonic() + timeout
    while (value := _look(condition, deadline, timeout, what, unless)) is None:
        await asyncio.sleep(POLL)
    return value


def _look(condition: Callable[[], T], deadline: float, timeout: float, what: str,
          unless: Callable[[], object] | None) -> T | None:
    """One look: the condition's value when truthy, None to look again, or the reason to stop waiting, raised."""
    value = condition()
    if value:
        return value
    reason = unless() if unless is not None else None
    if reason:
        raise GaveUp(f"while waiting for {what}: {reason}")
    if time.monotonic() > deadline:
        raise TimeoutError(f"waited {timeout:g} s for {what}")
    return None


def ended(proc: subprocess.Popen) -> Callable[[], str | None]:
    """For ``unless=``: once ``proc`` has exited, its exit code and what it wrote on stderr (when piped)."""

    def check() -> str | None:
        if proc.poll() is None:
            return None
        err = proc.stderr.read() if proc.stderr else ""
        return f"the process exited {proc.returncode}: {err.decode() if isinstance(err, bytes) else err}"

    return check


def stream_until(settings: Settings, options: StreamOptions, until: int, stats: StreamStats | None = None
                 ) -> StreamStats:
    """Run the Jetstream stream until its committed cursor reaches ``until``, then stop it as SIGTERM would."""
    stats = stats or StreamStats()

    async def main() -> StreamStats:
        stop = asyncio.Event()
        task = asyncio.create_task(run_stream(settings, options, Writer(settings.db_path), stop, stats))

        def ended_by_itself() -> str | None:
            if not task.done():
                return None
            task.result()  # its exception, if any, is the better message
            return "the stream ended by itself"

        await wait_until_async(lambda: (stats.cursor or 0) >= until, 20, f"the stream's cursor at {until}",
                               unless=ended_by_itself)
        stop.set()
        return await task

    return asyncio.run(main())


DASHBOARD_APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"


def dashboard_pages() -> tuple[tuple[str, str, str], ...]:
    """The dashboard's pages, ``(file, title, icon)`` in menu order, read from ``PAGES`` in dashboard/app.py.

    Read from the source, not imported: importing the app runs it (page config, command line, database).
    """
    for node in ast.parse(DASHBOARD_APP.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["PAGES"]:
            return ast.literal_eval(node.value)
    raise LookupError(f"no PAGES = (...) literal in {DASHBOARD_APP}")


def page_url(file: str) -> str:
    """The path Streamlit serves a page file at: its name without the folder and ``.py``; the first page at ``''``."""
    return "" if file == dashboard_pages()[0][0] else Path(file).stem


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on now, for a server the test starts by port number (SMTP, Streamlit)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def held_open(db: Path) -> Iterator[None]:
    """Another process has ``db`` open, as a running collector would, until the block ends (then it closes cleanly).

    DuckDB lets one process at a time open a file: this is how tests meet a busy database.
    """
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                               "print('held', flush=True); sys.stdin.read()", str(db)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n", "the holder did not open the file"
        yield
    finally:
        holder.communicate("")


LABELLED_DATA = Path(__file__).parent / "data"

# How real posts dress a text: links (a "?" in a query), smart quotes, accents, emoji, tags, Spanish "¿".
DRESSINGS: list[Callable[[str], str]] = [
    lambda t: t + " https://example.org/p?id=3&x=y",
    lambda t: "Bonjour 👋 " + t.replace("'", "\u2019"),
    lambda t: t.replace("?", " ? ") + " #Bibliothèque #Büchereien",
    lambda t: "www.example.org/a?b " + t + " \u2014 merci\u2026",
    lambda t: t.replace(" ", "\u00a0", 3) + " \U0001f9f5",
    lambda t: "¿" + t + " site.org/page?q=1 y más",
]


def labelled_texts() -> list[tuple[str, str | None]]:
    """(text, lang) of every labelled post the detector is trained and evaluated on (tests/data/labelled*.jsonl)."""
    out = []
    for path in sorted(LABELLED_DATA.glob("labelled*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out.append((row["text"], row["lang"]))
    return out


def seed_open_request(db: Path, when: datetime, text: str = "Which Koha version do you run?") -> None:
    """One help request by ana@x.org at ``when`` that nobody answers: overdue once ``[alerts] after`` has passed."""
    from pipeline.core import store

    with store.writing(db) as con:
        con.execute("INSERT INTO account_store (account, platform, handle, bot, first_seen_at, last_seen_at) "
                    "VALUES ('ana@x.org', 'mastodon', 'ana@x.org', false, ?, ?)", [when, when])
        con.execute(
            "INSERT INTO post_store (uri, platform, url, author, created_at, text, lang, tags, visibility, via, "
            "first_seen_at, updated_at, is_request) VALUES ('u:ana/1', 'mastodon', 'https://x.org/ana/1', "
            "'ana@x.org', ?, ?, 'en', ['sololibrarians'], 'public', 'tag', ?, ?, true)", [when, text, when, when])
