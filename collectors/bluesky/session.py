"""The exported Bluesky session file, reused across runs: createSession is limited to 30 per 5 minutes.

It lives where the pipeline says (``BlueskySettings.session_path``), never in
the database, readable only by its owner; it names its service and login, so a
changed account signs in afresh instead of reusing someone else's session.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def load_session(path: Path, service: str, handle: str) -> str | None:
    """The saved session string, if it belongs to this service and login; anything else means log in."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("service") != service or saved.get("login") != handle.lower():
        return None
    session = saved.get("session")
    return session if isinstance(session, str) and session.count(":::") == 4 else None


def save_session(path: Path, service: str, handle: str, session: str) -> None:
    """Write the session where only its owner can read it: created 0600, replaced atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"service": service, "login": handle.lower(), "session": session}, out)
    os.chmod(tmp, 0o600)  # in case an older file of that name existed with a wider mode
    os.replace(tmp, path)
