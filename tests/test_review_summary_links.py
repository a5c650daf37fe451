"""Review: a post URL a server sends with whitespace in it must not make the Bluesky summary unpostable.

The summary links the requests still waiting; on Bluesky each link is a facet
whose ``uri`` has the lexicon format ``uri``, which a PDS checks (no whitespace,
at most 8 KiB: atproto's ``validate_uri``) and refuses the whole ``createRecord``
for. A status's ``url`` is stored as the server gave it, so one request from an
instance that sends ``"https://host/@bea/1 2"`` made every publish run for that
week fail at the same post.
"""

from __future__ import annotations

from datetime import UTC, datetime

from atproto import models

from pipeline.core import store
from pipeline.summary.compose import compose_summary
from tests.fakes.mastodon import FakeMastodon, make_account, make_status
from tests.support import mastodon_settings, run_once

AS_OF = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # the week before is 2026-W47


def test_every_bluesky_link_facet_is_a_uri_a_pds_accepts(tmp_path) -> None:  # noqa: ANN001
    good = make_status(1, text="Does anyone know a good ILS for a law library?",
                       created_at="2026-11-17T10:00:00.000Z")
    odd = make_status(2, author=make_account("bea", account_id="2"),
                      text="Can anyone recommend a tool for tracking journal subscriptions?",
                      created_at="2026-11-18T10:00:00.000Z")
    odd["url"] = "https://glammr.us/@bea/2 <click here>"
    with FakeMastodon([odd, good]) as server:
        settings = mastodon_settings(tmp_path, server.base)
        run_once(settings, since=datetime(2026, 11, 10, tzinfo=UTC), now=AS_OF)
    with store.reading(settings.db_path) as con:
        assert con.execute("SELECT count(*) FROM help_requests_at(?) WHERE status = 'open'",
                           [AS_OF]).fetchall()[0][0] == 2
        summary = compose_summary(con, settings, "2026-W47", as_of=AS_OF)
    assert summary.facts.waiting_total == 2
    links = [f["features"][0]["uri"] for post in summary.bluesky for f in post.facets
             if f["features"][0]["$type"].endswith("#link")]
    assert links[0] == "https://glammr.us/@ana/1"  # the sound request is still linked
    assert links[1] == "https://glammr.us/users/bea/statuses/2"  # the odd one by its ActivityPub uri
    for uri in links:
        models.AppBskyRichtextFacet.Link.model_validate({"uri": uri}, context={"strict_string_format": True})
