"""Asking a server about what only it may say: its account domain, and its own accounts' profiles.

A polled instance is believed only about its own posts and accounts
(design.md "Trust"). Two of its claims need another request before they are
used: the account ``domain`` in ``/api/v2/instance`` (a server could otherwise
key its users under someone else's domain), and an opt-out seen on another
instance's copy of a profile (which must be confirmed by the account's home
server before it purges anything). The pipeline decides what to do with the
answers; this module only asks.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import urlsplit

from collectors.mastodon.api import Instance, MastodonError, NotFound

log = logging.getLogger(__name__)

WEBFINGER_PATH = "/.well-known/webfinger"


def _visitor(inst: Instance, host: str) -> Instance:
    """An Instance for another host, sharing the client but never the token: a token goes only to its own server."""
    return Instance(base=inst.base_of(host), client=inst.client, report=inst.report, max_in_flight=1,
                    max_retries=inst.max_retries, max_rate_wait=inst.max_rate_wait, backoff=inst.backoff,
                    sleep=inst.sleep, origins=inst.origins)


async def verify_domain(inst: Instance, domain: str, info: Mapping[str, object]) -> bool | None:
    """Does ``domain`` (claimed in ``inst``'s instance document) send its users' WebFinger to ``inst``?

    WebFinger is how every other server turns ``user@domain`` into an actor:
    ``https://<domain>/.well-known/webfinger?resource=acct:user@domain``. A
    split-domain server's domain forwards it to the server's web host, so the
    answer's ``self`` link names ``inst``. The user asked about is the
    instance's contact account, or else its instance actor (``domain@domain``),
    which Mastodon answers for. None when the domain could not be asked (it
    is asked again next time); an answer that does not point back, or a 404, is False.
    """
    user = _contact_username(info) or domain
    try:
        body, _ = await _visitor(inst, domain).get(WEBFINGER_PATH, [("resource", f"acct:{user}@{domain}")])
    except NotFound:
        return False
    except MastodonError as exc:
        log.info("%s: could not verify its account domain %s yet: %s", inst.host, domain, exc)
        return None
    links = body.get("links") if isinstance(body, dict) else None
    hosts = inst.hosts()
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("rel") == "self" and isinstance(link.get("href"), str):
            if urlsplit(link["href"]).netloc.lower() in hosts:
                return True
    return False


def _contact_username(info: Mapping[str, object]) -> str | None:
    contact = info.get("contact")
    account = contact.get("account") if isinstance(contact, Mapping) else None
    username = account.get("username") if isinstance(account, Mapping) else None
    if isinstance(username, str) and username.isascii() and username.replace("_", "").isalnum():
        return username
    return None
