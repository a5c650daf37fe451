"""First contact with an instance: which half of its hashtag feeds we may read, its account domain, its kind.

Mastodon 4.5 may keep hashtag feeds, or one half of them, for logged-in users;
``/api/v2/instance`` says so, and names the domain in its users' handles, which
is believed only once verified (design.md "Trust"). What a refused feed needs
(a token, and where to put it) is said here in one line for the source's note.
"""

from __future__ import annotations

import logging
import re

from collectors.mastodon.api import Instance, MastodonError, Unreachable
from collectors.mastodon.instance import INSTANCE_PATH, hashtag_feed_access, instance_info
from collectors.mastodon.paging import ALL, LOCAL, REMOTE
from collectors.mastodon.software import from_instance, probe_nodeinfo
from collectors.mastodon.trust import verify_domain

log = logging.getLogger(__name__)

_DOMAIN = re.compile(r"[A-Za-z0-9.-]+(?::[0-9]+)?")


async def feed_scope(inst: Instance) -> tuple[str | None, bool, str | None]:
    """Read ``/api/v2/instance`` on first contact: the half of a hashtag feed we may read, or None (neither).

    Instances on 4.5+ may reserve hashtag feeds, or one half of them, for
    logged-in users; a request naming neither half needs both to be public.
    With a token we poll everything; without one we say so, and still read the
    half that is public. The same document names the instance's account
    domain, which is used only once verified (:func:`_learn_domain`). The
    second value says whether the domain is settled (to be saved); the third
    is the server's kind (:mod:`collectors.mastodon.software`), None when it
    would not say (asked again next time, one tag per request meanwhile).
    """
    try:
        info = await instance_info(inst)
    except Unreachable:
        raise  # a dead instance: no point asking its timelines
    except MastodonError as exc:
        log.debug("%s: could not read %s: %s", inst.host, INSTANCE_PATH, exc)
        return ALL, False, await probe_nodeinfo(inst)
    settled = await _learn_domain(inst, info)
    kind = from_instance(info) or await probe_nodeinfo(inst)
    access = hashtag_feed_access(info)
    if access is None or inst.token:
        return ALL, settled, kind
    local, remote = access
    if local == "public" and remote == "public":
        return ALL, settled, kind
    env = _token_hint(inst)
    if local == "public":
        inst.report.note = (f"{inst.host} shows only its own users' posts under a hashtag without a login "
                            f"(hashtag_feeds remote={remote}); set {env} to see everything")
        return LOCAL, settled, kind
    if remote == "public":
        inst.report.note = (f"{inst.host} shows only other servers' posts under a hashtag without a login "
                            f"(hashtag_feeds local={local}); set {env} to see everything")
        return REMOTE, settled, kind
    inst.report.note = f"{inst.host} requires a login for hashtag feeds (local={local}, remote={remote}); set {env}"
    return None, settled, kind


async def _learn_domain(inst: Instance, info: dict) -> bool:
    """Take the instance's account ``domain`` only when it is its own (design.md "Trust").

    A server whose users are ``user@example.com`` but which is reached at
    ``mastodon.example.com`` must have example.com send WebFinger to it; a
    server merely claiming someone else's domain would otherwise key its users
    under it. A domain that is the instance's own host, or one it is
    configured to be reached as, needs no request; an unverified one is
    ignored, and its users are keyed by the server's own host. Returns False
    when the domain could not be asked: the question stays open for next time.
    """
    domain = info.get("domain")
    if not isinstance(domain, str) or not _DOMAIN.fullmatch(domain):
        return True
    domain = domain.lower()
    if domain == inst.host.lower():
        return True  # no separate account domain
    verified = domain in inst.hosts() or ("." in domain and await verify_domain(inst, domain, info))
    if verified:
        inst.account_domain = domain
    elif verified is False:
        log.warning("%s: says its users are @%s, but %s does not send their WebFinger here; keyed by %s instead",
                    inst.host, domain, domain, inst.host)
    return verified is not None


async def explain_login(inst: Instance) -> None:
    env = _token_hint(inst)
    if inst.token:
        inst.report.note = f"{inst.host} refused the token in {env} for hashtag feeds"
    else:
        inst.report.note = f"{inst.host} requires a login for hashtag feeds; set {env}"
    inst.report.errors.append(inst.report.note)


def _token_hint(inst: Instance) -> str:
    return inst.token_env or "an access token for this instance"

