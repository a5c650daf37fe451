"""Streamlit's own command line, with the dashboard's heavy modules imported while the server starts.

``streamlit run`` imports nothing of the app until a browser asks for a page, so the first view paid for
pandas, pyarrow, altair and the query layer (about 0.7 s on a laptop, seconds on a busy machine) while the
person waited. Run as ``python -m dashboard.server run dashboard/app.py ...`` (what ``peerdesk dashboard`` and
``peerdesk demo`` do), those imports happen in a thread as the server starts, and under ``peerdesk demo`` while
the sample loads. The pages then find them in ``sys.modules``; nothing else changes.
"""

from __future__ import annotations

import threading


def _warm() -> None:
    """Import what the pages import, so their first run finds it done."""
    import altair  # noqa: F401
    import pandas  # noqa: F401

    from dashboard import charts, data, health_words, links, look, show  # noqa: F401


def main() -> None:
    threading.Thread(target=_warm, name="peerdesk-warm-imports", daemon=True).start()
    from streamlit.web.cli import main as streamlit

    streamlit(prog_name="streamlit")


if __name__ == "__main__":
    main()
