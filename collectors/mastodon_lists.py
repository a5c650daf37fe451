"""The organiser's own lists on their home Mastodon instance: the wire side of keeping one in step.

A Mastodon list only holds accounts its owner follows, so besides the list
endpoints this needs the two that say who an address is on the home instance
(``GET /api/v1/accounts/lookup``) and whether the owner follows it
(``GET /api/v1/accounts/relationships``). Every call goes through
:meth:`collectors.mastodon_api.Instance.request`: one User-Agent, timeout,
rate-limit and retry policy for the project. Reads are retried on 5xx and
timeouts; writes are not, since the caller's next diff repairs whatever a
failed write left.

These functions know HTTP and JSON only: deciding what the list should hold,
dry runs and remembering the list's id belong to the pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from collectors.mastodon_api import Instance, LoginRequired, Malformed, NotFound

TOKEN_SCOPES = "read:accounts read:follows read:lists write:lists"  # what a token for these calls needs
MAX_IDS = 40  # account ids per relationships / list-membership request


async def _call(inst: Instance, method: str, path: str, *, params: list[tuple[str, str]] | None = None,
                data: Mapping[str, str | list[str]] | None = None) -> object:
    """The answer's JSON; a refused token says which scopes it needs, the usual cause with a hand-made token."""
    try:
        body, _ = await inst.request(method, path, params=params, data=data)
    except LoginRequired as e:
        raise LoginRequired(f"{e}; the token needs the scopes {TOKEN_SCOPES}") from None
    return body


def _id(body: object, what: str) -> str:
    if not isinstance(body, dict) or body.get("id") is None:
        raise Malformed(f"{what}: the answer has no id")
    return str(body["id"])


def _array(body: object, what: str) -> list:
    if not isinstance(body, list):
        raise Malformed(f"{what}: the answer is not an array")
    return body


async def list_exists(inst: Instance, list_id: str) -> bool:
    """Whether the list is still there (the organiser may have deleted it on the web)."""
    try:
        await _call(inst, "GET", f"/api/v1/lists/{list_id}")
    except NotFound:
        return False
    return True


async def lists(inst: Instance) -> list[dict]:
    """Every list the account owns (List entities: ``id``, ``title``...)."""
    return [x for x in _array(await _call(inst, "GET", "/api/v1/lists"), "GET /api/v1/lists") if isinstance(x, dict)]


async def create_list(inst: Instance, title: str) -> str:
    """A new list's id."""
    return _id(await _call(inst, "POST", "/api/v1/lists", data={"title": title}), "POST /api/v1/lists")


async def list_members(inst: Instance, list_id: str) -> dict[str, str]:
    """The list's members as local account id -> address (``limit=0`` returns all of them at once)."""
    path = f"/api/v1/lists/{list_id}/accounts"
    listed = _array(await _call(inst, "GET", path, params=[("limit", "0")]), path)
    return {str(a["id"]): str(a.get("acct", a["id"])) for a in listed if isinstance(a, dict) and "id" in a}


async def add_members(inst: Instance, list_id: str, account_ids: Sequence[str]) -> None:
    """Add up to :data:`MAX_IDS` followed accounts; the server refuses accounts the owner does not follow."""
    if len(account_ids) > MAX_IDS:
        raise ValueError(f"at most {MAX_IDS} accounts per request, not {len(account_ids)}")
    await _call(inst, "POST", f"/api/v1/lists/{list_id}/accounts", data={"account_ids[]": list(account_ids)})


async def remove_members(inst: Instance, list_id: str, account_ids: Sequence[str]) -> None:
    """Take accounts off the list (they stay followed)."""
    await _call(inst, "DELETE", f"/api/v1/lists/{list_id}/accounts",
                params=[("account_ids[]", i) for i in account_ids])


async def lookup(inst: Instance, acct: str) -> str | None:
    """An address's local account id on this instance, or None when the instance has never seen it."""
    try:
        body = await _call(inst, "GET", "/api/v1/accounts/lookup", params=[("acct", acct)])
    except NotFound:
        return None
    return _id(body, "GET /api/v1/accounts/lookup")


async def following(inst: Instance, account_ids: Sequence[str]) -> dict[str, bool]:
    """Whether the owner follows each local account id, asked :data:`MAX_IDS` at a time."""
    found: dict[str, bool] = {}
    for start in range(0, len(account_ids), MAX_IDS):
        chunk = account_ids[start : start + MAX_IDS]
        path = "/api/v1/accounts/relationships"
        for rel in _array(await _call(inst, "GET", path, params=[("id[]", i) for i in chunk]), path):
            if isinstance(rel, dict):
                found[str(rel.get("id"))] = bool(rel.get("following"))
    return found
