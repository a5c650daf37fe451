"""peerdesk against a real Bluesky stack (@atproto/dev-env: PLC, PDS, AppView) on localhost.

Everything is set up through the real API as a person's client would (accounts, an app password, posts with
tag facets, a curate list), then peerdesk runs as a process, as cron runs it: collect (search through the PDS
with the app password, and the list's feed), follows sync-bluesky --apply, summary --post bluesky. What it wrote
is read back from the PDS and checked by the official lexicons (validate.mjs, @atproto/api's schemas).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from tests.integration import xrpc
from tests.integration.devenv import HERE, Urls, node_binary

pytestmark = pytest.mark.integration

TAG = "sololibrarians"


def peerdesk(config: Path, *args: str, app_password: str, handle: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERDESK_")}
    env.update({"PEERDESK_BLUESKY_HANDLE": handle, "PEERDESK_BLUESKY_APP_PASSWORD": app_password})
    return subprocess.run([sys.executable, "-c", "from pipeline.cli import main; main()", "--config", str(config),
                           *args], env=env, capture_output=True, text=True, timeout=300)


def validate(records: list[dict]) -> list[dict]:
    """The official lexicons' verdict on each record ({"uri", "ok", "error"})."""
    items = [{"collection": r["uri"].split("/")[3], "uri": r["uri"], "value": r["value"]} for r in records]
    out = subprocess.run([node_binary() or "node", "validate.mjs"], cwd=HERE, input=json.dumps(items),
                         capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def community(bsky_stack: Urls, tmp_path_factory: pytest.TempPathFactory) -> dict:
    pds = bsky_stack.pds
    organiser, ana, bea = (xrpc.create_account(pds, n) for n in ("organiser", "ana", "bea"))
    app_password = xrpc.create_app_password(pds, organiser)
    ask = xrpc.post(pds, ana, f"Does anyone know a free tool for cataloguing a small law library? #{TAG}")
    answer = xrpc.post(pds, bea, f"Try a shared spreadsheet first, then Koha. #{TAG}",
                       reply_to={"uri": ask["uri"], "cid": ask["cid"]})
    watched = xrpc.create_record(pds, organiser, "app.bsky.graph.list",
                                 {"name": "Peers", "purpose": "app.bsky.graph.defs#curatelist",
                                  "createdAt": xrpc.now_iso()})
    for member in (ana, bea):
        xrpc.create_record(pds, organiser, "app.bsky.graph.listitem",
                           {"subject": member.did, "list": watched["uri"], "createdAt": xrpc.now_iso()})
    # The AppView learns of posts through the PDS's firehose, some time after createRecord returns.
    xrpc.wait_until(lambda: len(xrpc.call(bsky_stack.appview, "app.bsky.feed.searchPosts",
                                          params={"q": f"#{TAG}"})["posts"]) == 2, "the AppView to index both posts")
    xrpc.wait_until(lambda: len(xrpc.call(bsky_stack.appview, "app.bsky.feed.getListFeed",
                                          params={"list": watched["uri"]})["feed"]) == 2, "the list feed")
    home = tmp_path_factory.mktemp("peerdesk-real")
    config = home / "peerdesk.toml"
    config.write_text(
        f'[database]\npath = "{home / "p.duckdb"}"\nstate_dir = "{home / "state"}"\n'
        f'[community]\ntags = ["{TAG}"]\n[collect]\ntimeout = 20\n[mastodon]\ninstances = []\n'
        f'[bluesky]\nservice = "{pds}"\nappview = "{bsky_stack.appview}"\nlists = ["{watched["uri"]}"]\n')
    return {"urls": bsky_stack, "organiser": organiser, "ana": ana, "bea": bea, "app_password": app_password,
            "ask": ask, "answer": answer, "list": watched, "config": config, "db": home / "p.duckdb"}


def run(c: dict, *args: str) -> subprocess.CompletedProcess:
    done = peerdesk(c["config"], *args, app_password=c["app_password"], handle=c["organiser"].handle)
    assert done.returncode == 0, f"peerdesk {' '.join(args)}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_collect_reads_search_and_the_list_feed_through_the_real_servers(community: dict) -> None:
    done = run(community, "collect")
    assert "bluesky: ok" in done.stdout, done.stdout
    with duckdb.connect(str(community["db"]), read_only=True) as con:
        rows = con.execute("SELECT uri, reply_to FROM posts WHERE platform = 'bluesky' ORDER BY uri").fetchall()
        seen = {s for (s,) in con.execute("SELECT DISTINCT source FROM sightings").fetchall()}
    uris = {uri for uri, _ in rows}
    assert uris == {community["ask"]["uri"], community["answer"]["uri"]}
    assert dict(rows)[community["answer"]["uri"]] == community["ask"]["uri"]
    assert seen, "each post keeps where it was seen"
    again = run(community, "collect")  # a second cycle finds nothing new and duplicates nothing
    assert "bluesky: ok, 0 new posts" in again.stdout, again.stdout


def test_follow_sync_writes_a_curate_list_the_lexicons_accept(community: dict) -> None:
    run(community, "collect")
    run(community, "follows", "approve", community["ana"].did, community["bea"].did)
    run(community, "follows", "sync-bluesky", "--apply")
    pds, did = community["urls"].pds, community["organiser"].did
    lists = [r for r in xrpc.list_records(pds, did, "app.bsky.graph.list") if r["uri"] != community["list"]["uri"]]
    assert len(lists) == 1 and lists[0]["value"]["purpose"] == "app.bsky.graph.defs#curatelist"
    items = [r for r in xrpc.list_records(pds, did, "app.bsky.graph.listitem")
             if r["value"]["list"] == lists[0]["uri"]]
    assert {i["value"]["subject"] for i in items} == {community["ana"].did, community["bea"].did}
    verdicts = validate(lists + items)
    assert all(v["ok"] for v in verdicts), verdicts
    got = xrpc.call(pds, "com.atproto.repo.getRecord", params={"repo": did, "collection": "app.bsky.graph.list",
                                                                "rkey": lists[0]["uri"].rsplit("/", 1)[1]})
    assert got["value"] == lists[0]["value"]
    before = {(r["uri"], r["cid"]) for c in ("app.bsky.graph.list", "app.bsky.graph.listitem")
              for r in xrpc.list_records(pds, did, c)}
    again = run(community, "follows", "sync-bluesky", "--apply")  # a second run writes nothing
    after = {(r["uri"], r["cid"]) for c in ("app.bsky.graph.list", "app.bsky.graph.listitem")
             for r in xrpc.list_records(pds, did, c)}
    assert after == before, again.stdout


def test_the_summary_posted_to_bluesky_is_valid_and_its_facets_point_at_their_text(community: dict) -> None:
    run(community, "collect")
    week = datetime.now(UTC).strftime("%G-W%V")
    run(community, "summary", "--week", week, "--post", "bluesky", "--force")
    pds, did = community["urls"].pds, community["organiser"].did
    posts = xrpc.list_records(pds, did, "app.bsky.feed.post")
    assert posts, "the summary thread is in the organiser's repository"
    verdicts = validate(posts)
    assert all(v["ok"] for v in verdicts), verdicts
    features = [f["features"][0]["$type"] for p in posts for f in p["value"].get("facets", [])]
    assert "app.bsky.richtext.facet#tag" in features, "the heading's #tag is a facet"
    roots = [p for p in posts if "reply" not in p["value"]]
    assert len(roots) == 1, "one thread"
    assert all(p["value"]["reply"]["root"]["uri"] == roots[0]["uri"] for p in posts if p is not roots[0])
    for p in posts:
        raw = p["value"]["text"].encode("utf-8")
        for facet in p["value"].get("facets", []):
            span = raw[facet["index"]["byteStart"]:facet["index"]["byteEnd"]].decode("utf-8")
            feature = facet["features"][0]
            if feature["$type"] == "app.bsky.richtext.facet#tag":
                assert span == f"#{feature['tag']}"
            elif feature["$type"] == "app.bsky.richtext.facet#link":
                assert span and feature["uri"].startswith("http"), (span, feature)
    again = run(community, "summary", "--week", week, "--post", "bluesky", "--force")  # posts nothing twice
    assert {(r["uri"], r["cid"]) for r in xrpc.list_records(pds, did, "app.bsky.feed.post")} == {
        (r["uri"], r["cid"]) for r in posts}, again.stdout


def _list_known(appview: str, uri: str) -> bool:
    try:
        xrpc.call(appview, "app.bsky.graph.getList", params={"list": uri, "limit": 1})
    except xrpc.XrpcFailed as exc:
        if exc.status == 400:
            return False
        raise
    return True


def test_a_deleted_watched_list_is_reported_not_polled_as_quiet(community: dict) -> None:
    """The real AppView answers a deleted list's feed with an empty feed, not an error: collect must say it is gone."""
    c = community
    pds, appview, organiser = c["urls"].pds, c["urls"].appview, c["organiser"]
    gone = xrpc.create_record(pds, organiser, "app.bsky.graph.list",
                              {"name": "Old peers", "purpose": "app.bsky.graph.defs#curatelist",
                               "createdAt": xrpc.now_iso()})
    xrpc.wait_until(lambda: _list_known(appview, gone["uri"]), "the AppView to index the list")
    xrpc.call(pds, "com.atproto.repo.deleteRecord", token=organiser.access,
              body={"repo": organiser.did, "collection": "app.bsky.graph.list", "rkey": gone["uri"].rsplit("/", 1)[1]})
    xrpc.wait_until(lambda: not _list_known(appview, gone["uri"]), "the AppView to drop the list")
    assert xrpc.call(appview, "app.bsky.feed.getListFeed", params={"list": gone["uri"]})["feed"] == []  # the premise
    config = c["config"].parent / "gone.toml"
    config.write_text(c["config"].read_text().replace(c["list"]["uri"], gone["uri"]), encoding="utf-8")
    done = run({**c, "config": config}, "collect")
    assert "no longer exists" in done.stdout + done.stderr, done.stdout + done.stderr
