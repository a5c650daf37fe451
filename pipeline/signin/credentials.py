"""Where the tokens ``peerdesk login`` obtained are kept: one 0600 file per account, under ``[database] state_dir``.

A token is a password in all but name, so it lives in neither ``peerdesk.toml``
nor the database nor a log: each Mastodon login is a small JSON file created
with mode 0600 from its first byte (``os.open`` with ``O_CREAT | O_EXCL`` on a
temporary name, then an atomic rename), so no other user can ever read it and a
crash never leaves half a file. The environment still wins
(:func:`mastodon_token` below asks the files only when it is silent), so
CI and containers keep working as before.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from pipeline.core.settings import Settings

MASTODON_PREFIX = "mastodon-"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MastodonLogin:
    """What a Mastodon login leaves behind: enough to act, to say who, and to revoke."""

    base: str
    access_token: str
    scopes: tuple[str, ...]
    client_id: str
    client_secret: str
    acct: str  # the account as verify_credentials named it at login


class BadCredentialsFile(ValueError):
    """A saved login that cannot be read: one line naming the file, never its content."""


def mastodon_path(state_dir: Path, base: str) -> Path:
    """``mastodon-<host>.json``: one file per instance, so a token is only ever sent to its own instance."""
    netloc = urlsplit(base).netloc.lower()
    return state_dir / f"{MASTODON_PREFIX}{re.sub(r'[^a-z0-9.-]', '_', netloc)}.json"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only, from creation on, replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def save_mastodon(state_dir: Path, login: MastodonLogin) -> Path:
    path = mastodon_path(state_dir, login.base)
    write_private(path, json.dumps({
        "base": login.base, "access_token": login.access_token, "scopes": list(login.scopes),
        "client_id": login.client_id, "client_secret": login.client_secret, "acct": login.acct,
    }, indent=1) + "\n")
    return path


def load_mastodon(state_dir: Path, base: str) -> MastodonLogin | None:
    """The saved login for ``base``, None when there is none; a damaged file is a :class:`BadCredentialsFile`."""
    path = mastodon_path(state_dir, base)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        login = MastodonLogin(base=str(raw["base"]), access_token=str(raw["access_token"]),
                              scopes=tuple(str(s) for s in raw.get("scopes", [])),
                              client_id=str(raw["client_id"]), client_secret=str(raw["client_secret"]),
                              acct=str(raw.get("acct", "")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise BadCredentialsFile(f"{path}: not a saved Mastodon login; run 'peerdesk login mastodon' again") from None
    if login.base != base or not login.access_token:
        raise BadCredentialsFile(f"{path}: saved for another instance; run 'peerdesk login mastodon' again")
    return login


def saved_mastodon_token(state_dir: Path, base: str) -> str | None:
    """The token ``peerdesk login`` saved for ``base``; an unreadable file counts as none (login says why)."""
    try:
        login = load_mastodon(state_dir, base)
    except BadCredentialsFile as exc:
        log.warning("%s", exc)
        return None
    return login.access_token if login else None


def saved_mastodon_logins(state_dir: Path) -> list[MastodonLogin]:
    """Every readable saved Mastodon login, by file name."""
    found = []
    for path in sorted(state_dir.glob(f"{MASTODON_PREFIX}*.json")):
        try:
            base = json.loads(path.read_text(encoding="utf-8"))["base"]
            login = load_mastodon(state_dir, str(base))
        except (OSError, ValueError, KeyError, TypeError, BadCredentialsFile):
            continue
        if login:
            found.append(login)
    return found


def forget(path: Path) -> bool:
    """Delete a saved login; whether there was one."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


BLUESKY_SESSION = "bluesky-session.json"  # written by collectors.bluesky.session.save_session (0600), read here


def saved_bluesky_handle(state_dir: Path, service: str) -> str | None:
    """The handle of the Bluesky session ``peerdesk login bluesky`` kept for ``service``, if any."""
    try:
        saved = json.loads((state_dir / BLUESKY_SESSION).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("service") != service or not isinstance(saved.get("login"), str):
        return None
    return saved["login"] or None


# ---------------------------------------------------------------- the environment first, then the files


def token_env_name(base: str) -> str:
    """``PEERDESK_MASTODON_TOKEN_<HOST>``: a token is only ever sent to its own instance."""
    netloc = urlsplit(base).netloc
    return "PEERDESK_MASTODON_TOKEN_" + re.sub(r"[^A-Z0-9]", "_", netloc.upper())


def mastodon_token(settings: Settings, base: str) -> str | None:
    """The access token for one instance: the environment first, else the one ``peerdesk login`` saved.

    Every reader of a Mastodon token comes through here, so the order is the same everywhere.
    """
    return mastodon_token_from_environment(settings, base) or saved_mastodon_token(settings.state_dir, base)


def mastodon_token_from_environment(settings: Settings, base: str) -> str | None:
    """The instance's own variable, else ``PEERDESK_MASTODON_TOKEN`` for the home instance only.

    ``peerdesk whoami`` asks this to say where a token came from, so it must be the order :func:`mastodon_token` uses.
    """
    token = os.environ.get(token_env_name(base))
    if not token and settings.mastodon.home == base:
        token = os.environ.get("PEERDESK_MASTODON_TOKEN")
    return token or None


def bluesky_credentials(settings: Settings | None = None) -> tuple[str | None, str | None]:
    """(handle, app password) from the environment; else, given settings, the handle ``peerdesk login`` saved.

    A handle without a password means "use the saved session" (it never holds the password).
    """
    handle = os.environ.get("PEERDESK_BLUESKY_HANDLE") or None
    password = os.environ.get("PEERDESK_BLUESKY_APP_PASSWORD") or None
    if (handle and password) or settings is None:
        return handle, password
    return saved_bluesky_handle(settings.state_dir, settings.bluesky.service), None
