"""Signing in, out, and saying who peerdesk acts as: the work behind ``peerdesk login/logout/whoami``.

Mastodon: peerdesk registers itself on the instance with exactly the scopes it
uses (:data:`MASTODON_SCOPES`), the organiser approves it on the instance's own
page and pastes the code back, and the token is checked with
``verify_credentials`` before it is kept (:mod:`pipeline.signin.credentials`, 0600).
The registered app is kept beside it while the code is awaited, so a script can
ask for the URL in one run and pass ``--code`` in the next.

Bluesky: an app password (never the account's password) makes a session
through the collector's own session code, which keeps the session (0600); the
password itself is never written anywhere.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from collectors.bluesky.errors import BlueskyError
from collectors.bluesky.session import load_session
from collectors.mastodon import account as mastodon_account
from collectors.mastodon.api import LoginRequired, MastodonError
from collectors.records import BLUESKY, SourceReport
from pipeline.collection import bluesky_source, mastodon_source
from pipeline.collection.bluesky_source import SESSION_FILE
from pipeline.core.config_checks import ConfigError, base_url
from pipeline.core.settings import Settings
from pipeline.signin import credentials
from pipeline.signin.credentials import bluesky_credentials, mastodon_token

MASTODON_SCOPES = mastodon_account.SCOPES
APP_PASSWORD = re.compile(r"^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$")
# An app-password session's access token says so (the PDS scopes it "com.atproto.appPass"); the account's own
# password gives "com.atproto.access", which can also change the account itself.
APP_PASSWORD_SCOPES = {"com.atproto.appPass", "com.atproto.appPassPrivileged"}


class AccountError(Exception):
    """Signing in or out failed: one line, never a secret."""


class UsageError(ValueError):
    """The organiser asked for something that cannot be done as asked (exit status 2)."""


@dataclass(frozen=True)
class PendingLogin:
    """An app registered on the instance, waiting for the organiser's code."""

    app: mastodon_account.App
    url: str
    app_path: Path


@dataclass(frozen=True)
class Done:
    host: str
    acct: str
    scopes: tuple[str, ...]
    path: Path


def _instance(settings: Settings, instance: str | None) -> str:
    if instance:
        try:
            return base_url(instance, "instance")
        except ConfigError as exc:
            raise UsageError(str(exc)) from None
    if not settings.mastodon.home:
        raise UsageError("say which instance (peerdesk login mastodon glammr.us) or set [mastodon] home")
    return settings.mastodon.home


def _app_path(settings: Settings, base: str) -> Path:
    path = credentials.mastodon_path(settings.state_dir, base)
    return path.with_name(path.stem + ".app.json")


def start_mastodon_login(settings: Settings, instance: str | None) -> PendingLogin:
    """Register peerdesk on the instance (or reuse the app registered by a run still awaiting its code)."""
    base = _instance(settings, instance)
    path = _app_path(settings, base)
    app = _saved_app(path, base)
    try:
        if app is None:
            app = mastodon_account.register_app(base, timeout=settings.timeout)
            credentials.write_private(path, json.dumps({"base": base, "client_id": app.client_id,
                                                        "client_secret": app.client_secret}) + "\n")
        return PendingLogin(app, mastodon_account.authorisation_url(app), path)
    except MastodonError as exc:
        raise AccountError(f"could not register peerdesk on {urlsplit(base).netloc}: {exc}") from None


def _saved_app(path: Path, base: str) -> mastodon_account.App | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw["base"] == base:
            return mastodon_account.App(base, str(raw["client_id"]), str(raw["client_secret"]))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def finish_mastodon_login(settings: Settings, pending: PendingLogin, code: str) -> Done:
    """Exchange the code, check whom the token speaks for, and keep it."""
    app = pending.app
    if not code.strip():
        raise UsageError("the code is empty: paste the code the instance showed")
    try:
        token, scopes = mastodon_account.exchange_code(app, code, timeout=settings.timeout)
        account = mastodon_source.account(settings, app.base, token, app=app)
        me = account.verify()
    except MastodonError as exc:
        raise AccountError(str(exc)) from None
    login = credentials.MastodonLogin(base=app.base, access_token=token, scopes=scopes, client_id=app.client_id,
                                      client_secret=app.client_secret, acct=str(me["acct"]))
    path = credentials.save_mastodon(settings.state_dir, login)
    credentials.forget(pending.app_path)
    return Done(urlsplit(app.base).netloc, login.acct, scopes, path)


def mastodon_logout(settings: Settings, instance: str | None) -> str:
    """Revoke the saved token on its instance, then delete it here; one line saying what happened."""
    base = _instance(settings, instance)
    path = credentials.mastodon_path(settings.state_dir, base)
    try:
        login = credentials.load_mastodon(settings.state_dir, base)
    except credentials.BadCredentialsFile:
        credentials.forget(path)
        return f"deleted the unreadable {path} (revoke peerdesk under Preferences > Account > Authorized apps)"
    credentials.forget(_app_path(settings, base))
    if login is None:
        return f"no saved Mastodon login for {urlsplit(base).netloc}"
    app = mastodon_account.App(base, login.client_id, login.client_secret)
    try:
        mastodon_source.account(settings, base, login.access_token, app=app).revoke()
    except LoginRequired:
        pass  # the instance no longer knows the token or the app: nothing left to revoke
    except MastodonError as exc:
        raise AccountError(f"could not revoke the token ({exc}); it is still saved in {path}: "
                           "try again later") from None
    credentials.forget(path)
    return f"signed out of {urlsplit(base).netloc} (@{login.acct}): the token is revoked and deleted"


# ---------------------------------------------------------------------- Bluesky


def bluesky_login(settings: Settings, handle: str, password: str) -> Done:
    """Create a session with an app password; keep the session only."""
    handle, password = handle.strip().lstrip("@").lower(), password.strip()
    if not handle:
        raise UsageError("give your Bluesky handle, e.g. you.bsky.social")
    if not APP_PASSWORD.fullmatch(password.lower()):
        raise UsageError("that is not an app password (xxxx-xxxx-xxxx-xxxx): make one under Settings > Privacy "
                         "and security > App passwords; peerdesk never takes your account's own password")
    path = settings.state_dir / SESSION_FILE
    credentials.forget(path)  # an explicit login makes a new session, whatever was saved
    report = SourceReport(source="bluesky:login", platform=BLUESKY)
    try:
        with bluesky_source.connect(settings, report, credentials=(handle, password)):
            pass
    except BlueskyError as exc:
        raise AccountError(str(exc)) from None
    saved = load_session(path, settings.bluesky.service, handle)
    scope = _jwt_scope(saved.split(":::")[2]) if saved else None
    if scope not in APP_PASSWORD_SCOPES:
        credentials.forget(path)
        raise UsageError("Bluesky says that was not an app password: peerdesk keeps no session made with your "
                         "account's own password; make an app password and sign in with it")
    return Done("bsky", handle, (scope or "",), path)


def _jwt_scope(jwt: str) -> str | None:
    """The ``scope`` claim of an access token (read, not verified: the PDS made it a moment ago)."""
    try:
        payload = jwt.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(claims["scope"])
    except (IndexError, ValueError, KeyError, TypeError):
        return None


def bluesky_logout(settings: Settings) -> str:
    path = settings.state_dir / SESSION_FILE
    if credentials.forget(path):
        return (f"deleted the saved Bluesky session ({path}); revoke its app password under Settings > Privacy "
                "and security > App passwords to end it on the server too")
    return "no saved Bluesky session"


# ---------------------------------------------------------------------- whoami


def whoami(settings: Settings) -> list[dict]:
    """One row per account peerdesk would act as: platform, account, server, scopes, where its secret comes from."""
    rows = []
    bases = [s.base for s in credentials.saved_mastodon_logins(settings.state_dir)]
    if settings.mastodon.home and settings.mastodon.home not in bases:
        bases.insert(0, settings.mastodon.home)
    for base in bases:
        token = mastodon_token(settings, base)
        if not token:
            continue
        saved = credentials.load_mastodon(settings.state_dir, base) if _from_file(settings, base) else None
        row = {"platform": "mastodon", "account": "", "server": urlsplit(base).netloc,
               "scopes": " ".join(saved.scopes) if saved else "unknown (a token from the environment)",
               "from": str(credentials.mastodon_path(settings.state_dir, base)) if saved else "environment",
               "status": "ok"}
        try:
            me = mastodon_source.account(settings, base, token).verify()
            row["account"] = "@" + str(me["acct"])
        except MastodonError as exc:
            row["status"] = str(exc)
        rows.append(row)
    handle, password = bluesky_credentials()
    saved_path = settings.state_dir / SESSION_FILE
    if handle or saved_path.exists():
        rows.append(_bluesky_row(settings, handle, password, saved_path))
    return rows


def _from_file(settings: Settings, base: str) -> bool:
    return not credentials.mastodon_token_from_environment(settings, base)


def _bluesky_row(settings: Settings, handle: str | None, password: str | None, path: Path) -> dict:
    row = {"platform": "bluesky", "account": "", "server": urlsplit(settings.bluesky.service).netloc, "scopes": "",
           "from": "environment" if handle and password else str(path), "status": "ok"}
    if not (handle and password):
        try:
            handle = json.loads(path.read_text(encoding="utf-8"))["login"]
        except (OSError, ValueError, KeyError, TypeError):
            row["status"] = f"{path}: not a saved session; run 'peerdesk login bluesky'"
            return row
    report = SourceReport(source="bluesky:whoami", platform=BLUESKY)
    try:
        with bluesky_source.connect(settings, report, credentials=(handle, password)) as conn:
            session = conn.query("com.atproto.server.getSession", None, client=conn.pds)
        row["account"] = "@" + str(session.get("handle", handle))
        saved = load_session(path, settings.bluesky.service, str(handle))
        row["scopes"] = (_jwt_scope(saved.split(":::")[2]) or "") if saved else ""
    except BlueskyError as exc:
        row["status"] = str(exc)
    return row
