"""The peerdesk dashboard: what the organiser looks at every morning.

Start it with ``peerdesk dashboard`` (or ``streamlit run dashboard/app.py -- --db FILE``).
The database is ``--db`` on that command line, else ``$PEERDESK_DB``, else
``[database] path`` in the configuration; ``--as-of`` (or ``$PEERDESK_AS_OF``)
pins the clock, as ``peerdesk requests --as-of`` does. This file only sets the
page up and routes; the pages live in ``views/`` and read through ``data.py``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:  # `streamlit run dashboard/app.py` from a checkout that is not installed
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from dashboard import data, health_words, look, show  # noqa: E402
from pipeline.core import store  # noqa: E402

# The pages in menu order, the first the default: (file, title, icon). A literal, so the tests and the dashboard
# benchmark read this list from here without running the app; adding a page is one line here and its file.
PAGES = (
    ("views/overview.py", "Overview", ":material/dashboard:"),
    ("views/open_requests.py", "Open requests", ":material/help:"),
    ("views/response_times.py", "Response times", ":material/timer:"),
    ("views/peers.py", "Peers", ":material/groups:"),
    ("views/health.py", "Collection health", ":material/monitor_heart:"),
)

desk = data.desk_from(sys.argv[1:], os.environ)
# The icon is drawn here, not named: a Material or emoji icon makes the browser fetch the favicon from
# a font or emoji host, and the dashboard must work offline and call no third party.
# The sidebar starts collapsed: open on a phone, it covers most of the page after every choice.
st.set_page_config(page_title=f"peerdesk · {desk.community}", page_icon=look.favicon(),
                   layout="wide", initial_sidebar_state="auto")
st.html(look.CSS)
st.session_state["peerdesk_desk"] = desk
data.start_run()
seen = data.data_version(desk.db)


@st.fragment(run_every=look.WATCH_SECONDS)
def _follow_the_file() -> None:
    """Show a change made by the CLI or the collector within seconds, without waiting for a click.

    Costs a stat() of the file every few seconds; the page runs again only when its state changed.
    """
    if data.data_version(desk.db) != seen:
        st.rerun(scope="app")


_follow_the_file()


@st.fragment(run_every=4)
def _refresh_soon() -> None:
    """While the collector holds the file, look again every few seconds (the first call only arms it)."""
    if st.session_state.get("peerdesk_refresh_armed"):
        st.rerun(scope="app")
    st.session_state["peerdesk_refresh_armed"] = True


def _busy_note(where: st.delta_generator.DeltaGenerator, stale: bool) -> None:
    what = "These figures are from a moment ago; " if stale else ""
    where.info(f"Refreshing: the collector is saving new posts right now. {what}"
               "The page reads the database again in a few seconds.", icon=":material/sync:")
    st.session_state["peerdesk_refresh_armed"] = False
    _refresh_soon()


def _no_database() -> None:
    st.navigation([st.Page("views/no_database.py", title="Get started", icon=":material/database:")]).run()


if not data.database_exists(desk):
    _no_database()
    st.stop()

pages = [st.Page(path, title=title, icon=icon, default=n == 0) for n, (path, title, icon) in enumerate(PAGES)]
page = st.navigation(pages)

with st.sidebar:
    st.caption(f"**{show.md_escape(desk.community)}**")
    clock = "pinned to" if desk.pinned_as_of else "as of"
    st.caption(f"Figures {clock} {show.md_escape(show.local(desk.as_of(), desk.timezone))} "
               f"({show.md_escape(desk.timezone)}); weeks start on Monday, UTC.")
    st.caption(f"Database: {show.path_breaks(show.md_escape(desk.db))}")
    if st.button("Refresh now", key="refresh", icon=":material/refresh:",
                 help="Read the database again now. Otherwise it is read again within seconds of a change."):
        data.forget_cached()
    if desk.config_problem:
        st.warning(f"Configuration: {show.md_escape(desk.config_problem)}. Using defaults.")

note = st.empty()
if page.title != "Collection health":
    try:
        failing = health_words.failing(data.health(desk)[0])
    except (store.DatabaseBusy, store.NoDatabase, data.Unreadable):
        failing = []
    if failing:
        names = ", ".join(s["source"] for s in failing)
        configured = sum(1 for s in data.health(desk)[0] if not s["skipped"])
        every = len(failing) == configured
        st.error(f"**Collection is failing**: {'every source' if every else show.md_escape(names)}"
                 f"{'' if not every else f' ({show.md_escape(names)})'} failed on its last run, so these "
                 f"figures may be out of date.", icon=":material/error:")
        st.page_link(pages[-1], label="See Collection health", icon=":material/monitor_heart:")
try:
    page.run()
except store.DatabaseBusy:
    _busy_note(note, stale=False)
except store.NoDatabase:
    st.error(f"The database file {show.md_escape(desk.db)} has gone. Create it again with `peerdesk demo` "
             "(the bundled sample) or `peerdesk collect`, then reload this page.")
except store.DamagedDatabase as exc:
    st.error(show.md_escape(exc))
except data.Unreadable as exc:
    st.error(f"{show.md_escape(desk.db)} is not a peerdesk database this version can read "
             f"({show.md_escape(exc)}). If it is an older peerdesk database, `peerdesk collect` brings it up "
             "to date; otherwise point the dashboard at another file with `--db`.")
else:
    if data.is_busy_run():
        _busy_note(note, stale=True)
