"""What the Bluesky collector raises: one tree, so callers catch meaning, not status codes.

Every message is one line that is safe to show, never a secret: :func:`request_failed` writes its own text from
the XRPC answer rather than passing on the SDK's, which could carry more.
"""

from __future__ import annotations

from collectors.clean_text import without_controls

# XRPC error names that mean "sign in again", not "this request is wrong"
AUTH_ERRORS = {"ExpiredToken", "InvalidToken", "AuthMissing", "AuthenticationRequired", "AuthRequired"}


class BlueskyError(Exception):
    """Root of what this collector raises. The text is one line, safe to show: never a secret."""


class LoginRefused(BlueskyError):
    """The account could not sign in: nothing that needs it can be polled this cycle."""


class RateLimited(BlueskyError):
    """The rate-limit window is too long to wait for: this source stops for the cycle."""


class RequestFailed(BlueskyError):
    """A request failed for good (after retries), with the XRPC error name when there was one."""

    def __init__(self, what: str, status: int | None, error: str | None, detail: str = "") -> None:
        self.status, self.error = status, error
        super().__init__(f"{what}: {status or 'no answer'} {error or ''} {detail}".strip())


class TooSlow(RequestFailed):
    """No whole answer within the request's deadline (a trickling server): not retried."""

    def __init__(self, what: str, detail: str) -> None:
        BlueskyError.__init__(self, f"{what}: {detail}")
        self.status, self.error = None, "Deadline"


class MalformedAnswer(BlueskyError):
    """The server answered something that is not the expected JSON shape (or larger than its cap)."""


class PassStopped(BlueskyError):
    """A paging pass made no progress (a cursor came back) or reached ``max_pages``; its position stays."""


class ListGone(BlueskyError):
    """A watched list the AppView does not know (deleted, or never made): its feed alone would look quiet."""


class PostGone(BlueskyError):
    """getPostThread says the post no longer exists (deleted, or its account is gone)."""


def error_name(e: Exception) -> str | None:
    """The XRPC error name in the answer (``ExpiredToken``, ``NotFound``): what callers branch on."""
    from atproto_client.models.common import XrpcError  # here: the error classes are raised and caught by
    from atproto_client.request import Response  # code (the demo, the dashboard) that never loads atproto

    response = getattr(e, "response", None)
    content = response.content if isinstance(response, Response) else None
    return content.error if isinstance(content, XrpcError) else None


def request_failed(what: str, e: Exception) -> RequestFailed:
    """Our own one-line description: the exception's text could carry more than we want to show."""
    from atproto_client.models.common import XrpcError
    from atproto_client.request import Response

    response = getattr(e, "response", None)
    response = response if isinstance(response, Response) else None
    content = response.content if response is not None else None
    detail = without_controls((content.message or "")[:160]) if isinstance(content, XrpcError) else ""
    return RequestFailed(
        what,
        response.status_code if response is not None else None,
        error_name(e) or type(e).__name__,
        detail,
    )
