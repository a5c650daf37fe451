"""What to tell the organiser when a command lacks a credential or ``[mastodon] home``: each sentence written once.

Every command that signs in words a missing account the same way, so the
sentence lives here and nowhere else: collectors never name ``PEERDESK_``
variables (they say what is missing; the pipeline says how to provide it), and
the sources, syncs and publishers raise :class:`Missing` with these words. The
CLI turns it into its own error (exit status 2), a sync into a ``SyncError``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

BLUESKY_SIGN_IN = ("run 'peerdesk login bluesky' or set PEERDESK_BLUESKY_HANDLE and PEERDESK_BLUESKY_APP_PASSWORD "
                   "(an app password)")
MASTODON_SIGN_IN = "run 'peerdesk login mastodon' or set PEERDESK_MASTODON_TOKEN"


class Missing(Exception):
    """A credential or setting the work needs is not there: one line saying how to provide it."""


def bluesky_account(purpose: str) -> str:
    """``purpose`` (e.g. "posting to Bluesky") cannot run without a signed-in account."""
    return f"{purpose} needs an account: {BLUESKY_SIGN_IN}"


def mastodon_home(purpose: str) -> str:
    """``purpose`` acts as the organiser's own account, so it needs to know their instance."""
    return f"{purpose} needs [mastodon] home (your own instance) in the configuration"


def mastodon_token(purpose: str, home: str, scopes: str) -> str:
    """``purpose`` needs a token for the organiser's account on ``home`` with ``scopes``."""
    return (f"{purpose} needs a token for your account on {urlsplit(home).netloc or home}: {MASTODON_SIGN_IN} "
            f"(a token with the scopes {scopes})")


def mastodon_token_refused(base: str, status: int | None, scopes: str) -> str:
    """The instance answered 401/403 to the token: sign in again, or fix the variable."""
    code = f" ({status})" if status else ""
    return f"{base} refused the token{code}: sign in again ({MASTODON_SIGN_IN}); it needs the scopes {scopes}"
