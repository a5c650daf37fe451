"""A fake Mastodon instance speaking the REST API's real shapes over HTTP.

It holds statuses as the API returns them (newest first, local ids) and pages
them as Mastodon does: ``max_id``/``since_id`` give the newest matches below or
above a bound, ``min_id`` the matches immediately above it, always newest
first, with a ``Link`` header and ``X-RateLimit-*`` headers.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode

from tests.fakes.server import FakeServer, Reply, Request, deep_json, gzip_bomb, redirect_loop

# Misbehaving modes (``FakeMastodon.hostile``), each found by probing a real collector against a broken server:
IGNORE_CURSOR = "ignore-cursor"  # timelines ignore max_id/min_id/since_id: always the newest page
BACKWARDS = "backwards"  # timelines answer the wrong side of a bound: ids go back where they should move on
SLOW_LORIS = "slow-loris"  # timelines trickle their body, a byte every ``trickle`` seconds
GZIP_BOMB = "gzip-bomb"  # timelines answer a small gzip body that decodes to ``bomb_size`` bytes
DEEP_JSON = "deep-json"  # timelines answer JSON nested deeper than a recursive decoder goes
REDIRECT_LOOP = "redirect-loop"  # every request is redirected to itself

# The least /api/v2/instance that says "Mastodon" (tests that script every answer start with it).
MASTODON_INSTANCE = {"version": "4.5.0", "source_url": "https://github.com/mastodon/mastodon"}

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "mastodon"


def load_sample(host: str) -> tuple[list[dict], dict, list[str]]:
    folder = SAMPLE / host
    statuses = json.loads((folder / "statuses.json").read_text(encoding="utf-8"))
    instance = json.loads((folder / "instance.json").read_text(encoding="utf-8"))
    deleted_file = folder / "deleted.json"
    deleted = json.loads(deleted_file.read_text(encoding="utf-8")) if deleted_file.exists() else []
    return statuses, instance, deleted


class FakeMastodon(FakeServer):
    methods = ("GET", "POST", "PUT", "DELETE")  # list membership writes use DELETE
    # Headers and body leave in two writes; on a kept-alive connection Nagle's algorithm then
    # holds the body for the client's delayed ACK, 40 ms a request.
    disable_nagle = True

    def __init__(self, statuses: list[dict] | None = None, instance: dict | None = None,
                 deleted: list[str] | None = None, *, hashtag_access: tuple[str, str] = ("public", "public"),
                 token: str | None = None, rate_limit: int = 300, unknown_tag_404: bool = False,
                 batch_lookup: bool = True, ignores_any: bool = False, no_batch_status: int = 404,
                 lookup_needs_token: bool = False) -> None:
        super().__init__()
        # GoToSocial answers an account lookup without a token with 401 ("token not supplied"); Mastodon's is public.
        self.lookup_needs_token = lookup_needs_token
        # Without the batch lookup, Mastodon before 4.3 answers 404; GoToSocial 405 (it only has POST there).
        self.no_batch_status = no_batch_status
        # GoToSocial reads only the tag in the path: any[] is dropped without a word.
        self.ignores_any = ignores_any
        # GET /api/v1/statuses?id[]=… came with Mastodon 4.3; older servers answer 404.
        self.batch_lookup = batch_lookup
        # Mastodon answers [] for a tag it has never seen; GoToSocial answers 404.
        self.unknown_tag_404 = unknown_tag_404
        self.statuses = list(statuses or [])
        # Without a document of its own, the server's account domain is the host it is reached at (see route).
        self.instance = instance or {"version": "4.5.0", "configuration": {}}
        self.deleted = set(deleted or [])
        self.hashtag_access = hashtag_access
        self.token = token
        self.rate_limit = rate_limit
        self.hostile: str | None = None  # one of the modes above
        self.trickle = 2.0
        self.bomb_size = 650 * 2**20
        self.deep_contexts: set[str] = set()  # status ids whose /context answer is nested too deeply

    @classmethod
    def from_sample(cls, host: str, **kwargs: object) -> FakeMastodon:
        statuses, instance, deleted = load_sample(host)
        return cls(statuses, instance, deleted, **kwargs)  # type: ignore[arg-type]

    def add(self, *statuses: dict) -> None:
        """New statuses arrive on top of the timeline."""
        self.statuses = sorted([*statuses, *self.statuses], key=lambda s: int(s["id"]), reverse=True)

    @property
    def domain(self) -> str:
        """The domain in its users' handles: as its instance document says, else its own host."""
        return str(self.instance.get("domain") or self.base.split("://", 1)[1])

    def route(self, request: Request) -> Reply:
        if self.hostile == REDIRECT_LOOP:
            return redirect_loop(request.path)
        if request.path == "/.well-known/webfinger":
            return self._webfinger(request)
        if request.path == "/api/v1/accounts/lookup" and not self._authorised(request):
            return self._lookup(request)
        if request.path in OAUTH_PATHS:
            return oauth_route(self, request)
        if request.path.startswith("/api/v1/lists") or request.path in GRAPH_PATHS:
            return graph_route(self, request)
        if request.path == "/api/v1/statuses" and request.method == "POST":
            return post_status_route(self, request)
        if request.path == "/api/v2/instance":
            info = json.loads(json.dumps(self.instance))
            info.setdefault("domain", self.domain)
            feeds = {"local": self.hashtag_access[0], "remote": self.hashtag_access[1]}
            info.setdefault("configuration", {}).setdefault("timelines_access", {})["hashtag_feeds"] = feeds
            return self._ok(info)
        if request.path.startswith("/api/v1/timelines/tag/"):
            return self._tag_timeline(request)
        if request.path.startswith("/api/v1/timelines/list/"):
            return list_timeline(self, request)
        if request.path.startswith("/api/v1/tags/"):
            name = request.path.rsplit("/", 1)[1].lower()
            if name not in self.known_tags():
                return Reply(404, {"error": "Record not found"}, self._rate_headers())
            return self._ok({"name": name, "url": f"{self.base}/tags/{name}", "history": []})
        if request.path.startswith("/api/v1/statuses/"):
            return self._status(request)
        if request.path == "/api/v1/statuses" and request.method == "GET" and self.batch_lookup:
            wanted = list(dict.fromkeys(request.query.get("id[]", [])))[:20]  # Mastodon reads 20 ids at most
            by_id = {s["id"]: s for s in self.statuses if s["id"] not in self.deleted}
            return self._ok([by_id[i] for i in wanted if i in by_id])  # the missing ones are left out
        if request.path == "/api/v1/statuses" and request.method == "GET" and self.no_batch_status == 405:
            return Reply(405, b"405 method not allowed", {"Content-Type": "text/plain"})  # gin's own answer
        return Reply(404, {"error": "Record not found"})

    def local_accounts(self) -> dict[str, dict]:
        """This server's own users, by username, as its statuses (and its contact account) show them."""
        found: dict[str, dict] = {}
        contact = (self.instance.get("contact") or {}).get("account")
        for account in [contact] + [(s.get("reblog") or s)["account"] for s in self.statuses]:
            if account and "@" not in account["acct"]:
                found.setdefault(account["username"].lower(), account)
        found.update({k.lower(): v for k, v in getattr(self, "profiles", {}).items()})
        return found

    def _webfinger(self, request: Request) -> Reply:
        """``acct:user@domain`` for this server's users: the actor's uri as the ``self`` link, as Mastodon answers."""
        resource = (request.param("resource") or "").removeprefix("acct:")
        user, _, domain = resource.rpartition("@")
        account = self.local_accounts().get(user.lower())
        if domain.lower() != self.domain.lower() or account is None:
            return Reply(404, "", self._rate_headers())
        return Reply(200, {"subject": f"acct:{account['username']}@{self.domain}", "aliases": [account["url"]],
                           "links": [{"rel": "self", "type": "application/activity+json", "href": account["uri"]}]},
                     {**self._rate_headers(), "Content-Type": "application/jrd+json; charset=utf-8"})

    def _lookup(self, request: Request) -> Reply:
        """``GET /api/v1/accounts/lookup?acct=user``: public, one of this server's own users."""
        if self.lookup_needs_token:
            return Reply(401, {"error": "Unauthorized: token not supplied"}, self._rate_headers())
        acct = (request.param("acct") or "").lstrip("@").lower().removesuffix("@" + self.domain.lower())
        account = self.local_accounts().get(acct)
        return self._ok(account) if account else Reply(404, {"error": "Record not found"}, self._rate_headers())

    def _authorised(self, request: Request) -> bool:
        return self.token is not None and request.headers.get("Authorization") == f"Bearer {self.token}"

    def known_tags(self) -> set[str]:
        """Tags some status here carries: Mastodon knows a tag once any post used it."""
        return set().union(*(_tags_of(s) for s in self.statuses))

    def _tag_timeline(self, request: Request) -> Reply:
        if self.hostile == GZIP_BOMB:
            return gzip_bomb(self.bomb_size)
        if self.hostile == DEEP_JSON:
            return Reply(200, deep_json(100_000), self._rate_headers())
        reply = self._honest_tag_timeline(request)
        if self.hostile == SLOW_LORIS:
            reply.trickle = self.trickle
        return reply

    def _honest_tag_timeline(self, request: Request) -> Reply:
        tag = request.path.rsplit("/", 1)[1].lower()
        local_only = request.param("local") in ("true", "1")
        remote_only = request.param("remote") in ("true", "1")
        local, remote = self.hashtag_access
        # topic_controller.rb: naming neither half needs both halves public.
        needed = {local} if local_only else {remote} if remote_only else {local, remote}
        if needed != {"public"} and not self._authorised(request):
            return Reply(401,
                         {"error": "This method requires an authenticated user"})
        if tag not in self.known_tags():  # only the path's tag is looked up: any[] never rescues it
            if self.unknown_tag_404:
                return Reply(404, {"error": "Record not found"}, self._rate_headers())
            return Reply(200, [], self._rate_headers())
        wanted = {tag, *(() if self.ignores_any else (t.lower() for t in request.query.get("any[]", [])))}
        matches = [s for s in self.statuses if wanted & _tags_of(s)]
        if local_only:
            matches = [s for s in matches if "@" not in (s.get("reblog") or s)["account"]["acct"]]
        if remote_only:
            matches = [s for s in matches if "@" in (s.get("reblog") or s)["account"]["acct"]]
        limit = min(int(request.param("limit") or 20), 40)
        if self.hostile == IGNORE_CURSOR:
            page = sorted(matches, key=lambda s: int(s["id"]), reverse=True)[:limit]
        elif self.hostile == BACKWARDS:
            page = _backwards_page(matches, request, limit)
        else:
            page = _page(matches, request, limit)
        headers = self._rate_headers()
        if page:
            base = f"{self.base}{request.path}"
            keep = [(k, v) for k, vs in request.query.items() for v in vs
                    if k not in ("max_id", "min_id", "since_id", "any[]")]
            nxt = urlencode([*keep, ("max_id", page[-1]["id"])])
            prev = urlencode([*keep, ("min_id", page[0]["id"])])
            headers["Link"] = f'<{base}?{nxt}>; rel="next", <{base}?{prev}>; rel="prev"'
        return Reply(200, page, headers)

    def _status(self, request: Request) -> Reply:
        parts = request.path.split("/")
        status_id = parts[4] if len(parts) > 4 else ""
        if status_id in self.deleted:
            return Reply(404, {"error": "Record not found"}, self._rate_headers())
        by_id = {s["id"]: s for s in self.statuses}
        by_id.update({s["reblog"]["id"]: s["reblog"] for s in self.statuses if s.get("reblog")})
        status = by_id.get(status_id)
        if status is None:
            return Reply(404, {"error": "Record not found"}, self._rate_headers())
        if len(parts) > 5 and parts[5] == "context":
            if status_id in self.deep_contexts:
                return Reply(200, b'{"ancestors": [], "descendants": ' + deep_json(100_000) + b"}",
                             self._rate_headers())
            return self._ok(_context(status, self.statuses, self.deleted))
        return self._ok(status)

    def _ok(self, body: object) -> Reply:
        return Reply(200, body, self._rate_headers())

    def _rate_headers(self) -> dict[str, str]:
        used = len(self.requests)
        reset = (datetime.now(UTC) + timedelta(minutes=5)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {"X-RateLimit-Limit": str(self.rate_limit),
                "X-RateLimit-Remaining": str(max(0, self.rate_limit - used)),
                "X-RateLimit-Reset": reset}


class WebFingerRedirect(FakeServer):
    """A split-domain server's apex (example.com for mastodon.example.com): WebFinger is sent on to the server."""

    def __init__(self, target: FakeMastodon) -> None:
        super().__init__()
        self.target = target

    def route(self, request: Request) -> Reply:
        if request.path != "/.well-known/webfinger":
            return Reply(404, "")
        query = urlencode([(k, v) for k, vs in request.query.items() for v in vs])
        return Reply(301, "", {"Location": f"{self.target.base}{request.path}?{query}"})


def _tags_of(status: dict) -> set[str]:
    source = status.get("reblog") or status
    return {t["name"].lower() for t in source.get("tags", [])}


def _page(items: list[dict], request: Request, limit: int) -> list[dict]:
    key = lambda s: int(s["id"])  # noqa: E731
    max_id, min_id, since_id = request.param("max_id"), request.param("min_id"), request.param("since_id")
    chosen = sorted(items, key=key, reverse=True)
    if max_id:
        chosen = [s for s in chosen if key(s) < int(max_id)]
    if since_id:
        chosen = [s for s in chosen if key(s) > int(since_id)]
    if min_id:
        above = sorted((s for s in chosen if key(s) > int(min_id)), key=key)[:limit]
        return sorted(above, key=key, reverse=True)
    return chosen[:limit]


def _backwards_page(items: list[dict], request: Request, limit: int) -> list[dict]:
    """The page on the wrong side of the bound: below a ``min_id``, above a ``max_id`` (newest first)."""
    key = lambda s: int(s["id"])  # noqa: E731
    max_id, min_id = request.param("max_id"), request.param("min_id")
    chosen = sorted(items, key=key, reverse=True)
    if min_id:
        chosen = [s for s in chosen if key(s) <= int(min_id)]
    if max_id:
        chosen = [s for s in chosen if key(s) >= int(max_id)]
    return chosen[:limit]


def _context(status: dict, statuses: list[dict], deleted: set[str]) -> dict:
    by_id = {s["id"]: s for s in statuses}
    ancestors = []
    parent = status.get("in_reply_to_id")
    while parent and parent in by_id and len(ancestors) < 40:
        ancestors.insert(0, by_id[parent])
        parent = by_id[parent].get("in_reply_to_id")
    descendants: list[dict] = []
    frontier = [status["id"]]
    while frontier and len(descendants) < 60:
        children = sorted((s for s in statuses if s.get("in_reply_to_id") in frontier and s["id"] not in deleted),
                          key=lambda s: int(s["id"]))
        descendants.extend(children)
        frontier = [c["id"] for c in children]
    return {"ancestors": ancestors, "descendants": descendants[:60]}


def make_account(username: str, host: str = "glammr.us", *, on: str = "glammr.us", account_id: str = "1",
                 note: str = "<p>Solo librarian.</p>", bot: bool = False, discoverable: bool | None = True,
                 noindex: bool | None = False, fields: list[dict] | None = None) -> dict:
    """An Account entity as instance ``on`` presents an account whose home is ``host``."""
    return {
        "id": account_id, "username": username, "acct": username if host == on else f"{username}@{host}",
        "display_name": username.title(), "locked": False, "bot": bot, "discoverable": discoverable,
        "indexable": True, "noindex": noindex, "group": False, "created_at": "2023-01-05T00:00:00.000Z",
        "note": note, "url": f"https://{host}/@{username}", "uri": f"https://{host}/users/{username}",
        "avatar": f"https://{host}/avatars/{username}.png", "avatar_static": f"https://{host}/avatars/{username}.png",
        "header": "", "header_static": "", "followers_count": 10, "following_count": 10, "statuses_count": 100,
        "last_status_at": "2026-11-20", "emojis": [], "fields": fields or [],
    }


def make_status(local_id: int | str, *, number: int | None = None, author: dict | None = None,
                host: str = "glammr.us", text: str = "Does anyone know a good ILS?",
                tags: tuple[str, ...] = ("sololibrarians",), created_at: str = "2026-11-20T10:00:00.000Z",
                edited_at: str | None = None, visibility: str = "public", in_reply_to_id: str | None = None,
                language: str | None = "en") -> dict:
    """A Status entity; ``number`` names the post at its origin (same uri on every instance)."""
    author = author or make_account("ana", host)
    home = author["url"].split("/")[2]
    number = number if number is not None else int(local_id)
    tag_html = " ".join(
        f'<a href="https://{host}/tags/{t}" class="mention hashtag" rel="tag">#<span>{t}</span></a>' for t in tags
    )
    return {
        "id": str(local_id), "created_at": created_at, "in_reply_to_id": in_reply_to_id,
        "in_reply_to_account_id": "1" if in_reply_to_id else None, "sensitive": False, "spoiler_text": "",
        "visibility": visibility, "language": language,
        "uri": f"https://{home}/users/{author['username']}/statuses/{number}",
        "url": f"https://{home}/@{author['username']}/{number}", "replies_count": 0, "reblogs_count": 0,
        "favourites_count": 0, "edited_at": edited_at, "content": f"<p>{text} {tag_html}</p>", "reblog": None,
        "application": None, "account": author, "media_attachments": [], "mentions": [],
        "tags": [{"name": t, "url": f"https://{host}/tags/{t}"} for t in tags], "emojis": [], "card": None,
        "poll": None,
    }


# ---------------------------------------------------------------- the organiser's account: lists and follows
# Added for the follow-list sync. The token's account can look accounts up, see whom it follows
# and keep lists, as on Mastodon: adding an account it does not follow to a list fails.

GRAPH_PATHS = ("/api/v1/accounts/lookup", "/api/v1/accounts/relationships")


@dataclass
class MastodonGraph:
    accounts: dict[str, dict] = field(default_factory=dict)  # acct as this instance writes it -> Account
    following: set[str] = field(default_factory=set)  # account ids the token's account follows
    lists: dict[str, dict] = field(default_factory=dict)  # id -> List entity
    members: dict[str, list[str]] = field(default_factory=dict)  # list id -> account ids, in order added

    def know(self, account: dict, *, followed: bool = False) -> dict:
        self.accounts[account["acct"]] = account
        if followed:
            self.following.add(account["id"])
        return account

    def add_list(self, title: str, list_id: str | None = None) -> dict:
        list_id = list_id or str(100 + len(self.lists))
        self.lists[list_id] = {"id": list_id, "title": title, "replies_policy": "list", "exclusive": False}
        self.members[list_id] = []
        return self.lists[list_id]


def graph_of(server: FakeMastodon) -> MastodonGraph:
    """The server's graph, created on first use."""
    return server.__dict__.setdefault("graph", MastodonGraph())


def _params(request: Request) -> dict[str, list[str]]:
    params = {k: list(v) for k, v in request.query.items()}
    content_type = request.headers.get("Content-Type", request.headers.get("content-type", ""))
    if request.body and "json" in content_type:
        for k, v in json.loads(request.body).items():
            params[k.removesuffix("[]") + ("[]" if isinstance(v, list) else "")] = [str(x) for x in v] if isinstance(
                v, list) else [str(v)]
    elif request.body:
        for k, v in parse_qs(request.body.decode()).items():
            params.setdefault(k, []).extend(v)
    return params


def graph_route(server: FakeMastodon, request: Request) -> Reply:
    if server.token is None or not server._authorised(request):
        return Reply(401, {"error": "The access token is invalid"}, server._rate_headers())
    graph, params, path = graph_of(server), _params(request), request.path.rstrip("/")
    parts = path.split("/")  # ['', 'api', 'v1', 'lists', id, 'accounts']
    if path == "/api/v1/accounts/lookup":
        acct = (params.get("acct") or [""])[0].lstrip("@").lower()
        local = acct.removesuffix("@" + server.instance.get("domain", ""))
        found = graph.accounts.get(acct) or graph.accounts.get(local)
        return server._ok(found) if found else Reply(404, {"error": "Record not found"}, server._rate_headers())
    if path == "/api/v1/accounts/relationships":
        ids = params.get("id[]", [])
        return server._ok([{"id": i, "following": i in graph.following, "showing_reblogs": i in graph.following,
                            "notifying": False, "followed_by": False, "blocking": False, "muting": False,
                            "requested": False} for i in ids])
    if path == "/api/v1/lists":
        if request.method == "POST":
            title = (params.get("title") or [""])[0]
            if not title:
                return Reply(422, {"error": "Validation failed: Title can't be blank"}, server._rate_headers())
            return server._ok(graph.add_list(title))
        return server._ok(list(graph.lists.values()))
    if len(parts) < 5 or parts[4] not in graph.lists:
        return Reply(404, {"error": "Record not found"}, server._rate_headers())
    list_id = parts[4]
    if len(parts) == 5:
        return server._ok(graph.lists[list_id])
    members = graph.members[list_id]
    ids = params.get("account_ids[]", [])
    by_id = {a["id"]: a for a in graph.accounts.values()}
    if request.method == "GET":
        limit = int((params.get("limit") or ["40"])[0])
        return server._ok([by_id[i] for i in (members if limit == 0 else members[: min(limit, 80)])])
    if request.method == "POST":
        if any(i not in by_id or i not in graph.following for i in ids):
            return Reply(404, {"error": "Record not found"}, server._rate_headers())
        if any(i in members for i in ids):
            return Reply(422, {"error": "Validation failed: Account has already been taken"}, server._rate_headers())
        members.extend(ids)
        return server._ok({})
    if request.method == "DELETE":
        graph.members[list_id] = [i for i in members if i not in ids]
        return server._ok({})
    return Reply(405, {"error": "Method not allowed"}, server._rate_headers())


# ---------------------------------------------------------------- the organiser's account: posting statuses
# Added for the weekly summary. POST /api/v1/statuses as Mastodon answers it: a token is required, the text is
# checked against configuration.statuses.max_characters the way StatusLengthValidator counts (grapheme clusters,
# a URL as characters_reserved_per_url, a mention as @user), in_reply_to_id must name a known status, and an
# Idempotency-Key seen before answers the status it created then instead of posting again.


@dataclass
class PostFault:
    call: int  # the n-th POST /api/v1/statuses (1-based) is the first to fail
    reply: Reply
    times: int = 1
    commit: bool = False  # create the status, then answer ``reply``: the answer is lost on the way back


@dataclass
class Posting:
    statuses: list[dict] = field(default_factory=list)  # created, oldest first
    by_key: dict[str, dict] = field(default_factory=dict)  # Idempotency-Key -> the status it created
    calls: int = 0
    faults: list[PostFault] = field(default_factory=list)
    links_in_full: bool = False  # count a link's every character, as GoToSocial does, whatever the instance says


def posting_of(server: FakeMastodon) -> Posting:
    """The server's posted statuses and scripted faults, created on first use."""
    return server.__dict__.setdefault("posting", Posting())


def fail_post(server: FakeMastodon, call: int, status: int = 503, *, times: int = 1, commit: bool = False) -> None:
    """Make the ``call``-th status post (and ``times - 1`` after it) answer ``status``."""
    posting_of(server).faults.append(PostFault(call, Reply(status, {"error": "Service Unavailable"}), times, commit))


def regex_graphemes(text: str) -> list[str]:
    import regex

    return regex.findall(r"\X", text)


def _countable_length(text: str, per_url: int) -> int:
    import regex  # grapheme clusters, as Ruby's grapheme_length

    text = regex.sub(r"(?<![=/\w])@(\w+)@[\w.-]+\w", r"@\1", text)
    text = regex.sub(r"https?://\S+", "x" * per_url, text)
    return len(regex.findall(r"\X", text))


def post_status_route(server: FakeMastodon, request: Request) -> Reply:
    if server.token is None or not server._authorised(request):
        return Reply(401, {"error": "The access token is invalid"}, server._rate_headers())
    posting, params = posting_of(server), _params(request)
    posting.calls += 1
    key = request.headers.get("Idempotency-Key") or request.headers.get("idempotency-key")
    fault = next((f for f in posting.faults if f.call <= posting.calls and f.times > 0), None)
    if fault is not None:
        fault.times -= 1
        if not fault.commit:
            return fault.reply
    if key and key in posting.by_key:
        return server._ok(posting.by_key[key])
    text = (params.get("status") or [""])[0]
    statuses = server.instance.get("configuration", {}).get("statuses", {})
    limit, per_url = statuses.get("max_characters", 500), statuses.get("characters_reserved_per_url", 23)
    if not text.strip():
        return Reply(422, {"error": "Validation failed: Text can't be blank"}, server._rate_headers())
    if posting.links_in_full and len(regex_graphemes(text)) > limit:  # GoToSocial counts every character
        return Reply(400, {"error": f"Bad Request: status too long, exceed max chars ({limit})"},
                     server._rate_headers())
    if _countable_length(text, per_url) > limit:
        return Reply(422, {"error": f"Validation failed: Text character limit of {limit} exceeded"},
                     server._rate_headers())
    parent = (params.get("in_reply_to_id") or [None])[0]
    if parent is not None and parent not in {s["id"] for s in posting.statuses}:
        return Reply(404, {"error": "Record not found"}, server._rate_headers())
    number = 120000000000000000 + len(posting.statuses) + 1
    host = server.instance.get("domain", "fake.example")
    status = {
        "id": str(number), "created_at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "in_reply_to_id": parent, "visibility": (params.get("visibility") or ["public"])[0],
        "language": (params.get("language") or [None])[0], "uri": f"https://{host}/users/organiser/statuses/{number}",
        "url": f"https://{host}/@organiser/{number}", "content": "<p>" + html.escape(text) + "</p>", "text": text,
    }
    posting.statuses.append(status)
    if key:
        posting.by_key[key] = status
    return fault.reply if fault is not None else server._ok(status)


# ---------------------------------------------------------------- signing in: OAuth as Mastodon answers it
# Added for `peerdesk login`. POST /api/v1/apps registers a client (form fields client_name, redirect_uris, scopes,
# website; the answer carries client_id and client_secret), POST /oauth/token exchanges an authorisation code for
# {"access_token", "token_type": "Bearer", "scope", "created_at"} (400 invalid_grant otherwise), POST /oauth/revoke
# answers 200 {} and the token stops working, GET /api/v1/accounts/verify_credentials answers a CredentialAccount.
# /oauth/authorize is a web page the organiser approves in a browser: tests call ``authorize`` instead.
# /.well-known/oauth-authorization-server is left unanswered (404), as on servers before 4.3.


@dataclass
class OAuth:
    apps: dict[str, dict] = field(default_factory=dict)  # client_id -> the registered app, secret included
    codes: dict[str, str] = field(default_factory=dict)  # authorisation code -> client_id
    granted: dict[str, str] = field(default_factory=dict)  # token -> client_id
    revoked: list[str] = field(default_factory=list)
    account: dict = field(default_factory=lambda: make_account("organiser", account_id="9"))


def oauth_of(server: FakeMastodon) -> OAuth:
    return server.__dict__.setdefault("oauth", OAuth())


def authorize(server: FakeMastodon, client_id: str) -> str:
    """What the organiser does in the browser: approve the app; the page shows this code."""
    oauth = oauth_of(server)
    assert client_id in oauth.apps, "the app was never registered"
    code = f"code-{len(oauth.codes) + 1}-{client_id[:6]}"
    oauth.codes[code] = client_id
    return code


OAUTH_PATHS = ("/api/v1/apps", "/oauth/token", "/oauth/revoke", "/api/v1/accounts/verify_credentials")


def oauth_route(server: FakeMastodon, request: Request) -> Reply:
    oauth, params = oauth_of(server), {k: v[0] for k, v in _params(request).items()}
    if request.path == "/api/v1/apps" and request.method == "POST":
        if not params.get("client_name") or not params.get("redirect_uris"):
            return Reply(422, {"error": "Validation failed: Name can't be blank"})
        client_id = f"cid{len(oauth.apps) + 1:04d}xyz"
        app = {"id": str(len(oauth.apps) + 1), "name": params["client_name"], "website": params.get("website"),
               "scopes": params.get("scopes", "read").split(), "redirect_uri": params["redirect_uris"],
               "redirect_uris": params["redirect_uris"].split(), "client_id": client_id,
               "client_secret": f"csecret-{client_id}", "client_secret_expires_at": 0}
        oauth.apps[client_id] = app
        return Reply(200, app)
    if request.path == "/oauth/token" and request.method == "POST":
        app = oauth.apps.get(params.get("client_id", ""))
        if app is None or app["client_secret"] != params.get("client_secret"):
            return Reply(401, {"error": "invalid_client",
                               "error_description": "Client authentication failed due to unknown client"})
        code = params.get("code", "")
        if params.get("grant_type") != "authorization_code" or oauth.codes.get(code) != app["client_id"]:
            return Reply(400, {"error": "invalid_grant", "error_description": "The provided authorization grant "
                               "is invalid, expired, revoked, does not match the redirection URI used in the "
                               "authorization request, or was issued to another client."})
        del oauth.codes[code]  # single use
        token = f"tok-{app['client_id']}-{len(oauth.granted) + 1}"
        oauth.granted[token] = app["client_id"]
        server.token = token
        scope = params.get("scope") or " ".join(app["scopes"])
        return Reply(200, {"access_token": token, "token_type": "Bearer", "scope": scope, "created_at": 1764806400})
    if request.path == "/oauth/revoke" and request.method == "POST":
        app = oauth.apps.get(params.get("client_id", ""))
        if app is None or app["client_secret"] != params.get("client_secret"):
            return Reply(403, {"error": "unauthorized_client"})
        token = params.get("token", "")
        if oauth.granted.get(token) == app["client_id"]:
            oauth.revoked.append(token)
            del oauth.granted[token]
            if server.token == token:
                server.token = None
        return Reply(200, {})
    if request.path == "/api/v1/accounts/verify_credentials":
        if not server._authorised(request):
            return Reply(401, {"error": "The access token is invalid"}, server._rate_headers())
        return server._ok({**oauth.account, "source": {"privacy": "public", "sensitive": False, "note": ""}})
    return Reply(404, {"error": "Record not found"})


# ---------------------------------------------------------------- list timelines
# GET /api/v1/timelines/list/:list_id: the owner's token is required (401 without), an unknown list is 404, and
# the statuses are those of the list's members, newest first, paged with max_id/since_id/min_id like any timeline
# (limit at most 40).


def list_timeline(server: FakeMastodon, request: Request) -> Reply:
    if not server._authorised(request):
        return Reply(401, {"error": "The access token is invalid"}, server._rate_headers())
    graph, list_id = graph_of(server), request.path.rstrip("/").rsplit("/", 1)[1]
    if list_id not in graph.lists:
        return Reply(404, {"error": "Record not found"}, server._rate_headers())
    members = set(graph.members[list_id])
    matches = [s for s in server.statuses if s["account"]["id"] in members and s["id"] not in server.deleted]
    return server._ok(_page(matches, request, min(int(request.param("limit") or 20), 40)))
