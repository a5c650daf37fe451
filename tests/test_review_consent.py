"""Review: opt-outs the platforms themselves recognise are honoured on every collection path.

Real collector code over real HTTP to the local fakes (Bluesky search through the PDS with getProfiles for bios;
Mastodon tag timelines).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pipeline.core import store
from pipeline.core.settings import BlueskySettings, Settings
from tests.fakes.bluesky import DEFAULT_HANDLE, DEFAULT_PASSWORD, FakeBluesky, FakeState, make_post_view
from tests.fakes.mastodon import FakeMastodon, make_account, make_status
from tests.support import mastodon_settings, run_once

DID = "did:plc:reviewfullwidth00000000"
HANDLE = "yuki.bsky.social"


def _settings(tmp_path: Path, fake: FakeBluesky) -> Settings:
    return Settings(db_path=tmp_path / "db.duckdb", state_dir=tmp_path / "state", tags=("sololibrarians",),
                    max_retries=1, timeout=5.0,
                    mastodon=dataclasses.replace(Settings().mastodon, instances=()),
                    bluesky=BlueskySettings(service=fake.url, appview=fake.url))


def _profile(description: str) -> dict:
    return {"did": DID, "handle": HANDLE, "displayName": "Yuki", "description": description, "labels": [],
            "followersCount": 3, "followsCount": 3, "postsCount": 10, "indexedAt": "2026-11-01T00:00:00.000Z"}


def _state(description: str | None) -> FakeState:
    state = FakeState()
    state.posts = [make_post_view(DID, HANDLE, "3lreview0001", "2026-11-20T10:00:00.000Z",
                                  "Does anyone know a good ILS for a small school library? #sololibrarians",
                                  tags=("sololibrarians",))]
    if description is not None:
        state.profiles[DID] = _profile(description)
    return state


def _stored(settings: Settings) -> list[tuple]:
    with store.reading(settings.db_path) as con:
        return con.execute("SELECT uri FROM post_store UNION ALL SELECT account FROM account_store").fetchall()


@pytest.fixture()
def signed_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERDESK_BLUESKY_HANDLE", DEFAULT_HANDLE)
    monkeypatch.setenv("PEERDESK_BLUESKY_APP_PASSWORD", DEFAULT_PASSWORD)


def test_a_clean_bio_is_stored(tmp_path: Path, signed_in: None) -> None:
    """The control: the same post by an author whose bio carries no opt-out is stored."""
    with FakeBluesky(_state("School librarian, alone with 9,000 books.")) as fake:
        settings = _settings(tmp_path, fake)
        assert run_once(settings)["bluesky"].ok
    assert len(_stored(settings)) == 2


@pytest.mark.parametrize("bio", [
    "図書館員です ＃nobot",  # a full-width number sign, as Japanese and Chinese keyboards type it
    "School librarian. #ｎｏｂｏｔ",  # full-width letters
])
def test_an_opt_out_tag_the_platforms_recognise_is_honoured(tmp_path: Path, signed_in: None, bio: str) -> None:
    """Bluesky and Mastodon both take ``＃`` for a hashtag's sign, and Mastodon folds full-width letters in a tag's
    name: to the author these say #nobot, and the post must not be stored."""
    with FakeBluesky(_state(bio)) as fake:
        settings = _settings(tmp_path, fake)
        assert run_once(settings)["bluesky"].ok
        assert fake.calls("app.bsky.actor.getProfiles")
    assert _stored(settings) == []


def test_a_post_whose_author_has_no_profile_to_check_is_not_stored(tmp_path: Path, signed_in: None) -> None:
    """getProfiles leaves out an author (deactivated or taken down since the search, or an AppView that could not
    read the profile): the bio that may say #nobot cannot be read, so the post is not stored, as the stream does
    (``collectors.bluesky.jetstream.records.lookup_profiles``)."""
    with FakeBluesky(_state(None)) as fake:
        settings = _settings(tmp_path, fake)
        run_once(settings)
        assert fake.calls("app.bsky.actor.getProfiles")
    assert _stored(settings) == []


# ---------------------------------------------------------------- Mastodon noindex, which only the home server shows


def test_a_noindex_account_seen_only_on_another_instance_is_not_stored(tmp_path: Path) -> None:
    """Bea (home.example) set "opt out of search engine indexing"; her home says ``noindex: true``, but the
    instance peerdesk polls copies her profile without the field, as Mastodon does for every remote account."""
    with FakeMastodon(instance={"domain": "home.example", "version": "4.5.0", "configuration": {}}) as home, \
            FakeMastodon() as polled:
        home.profiles = {"bea": make_account("bea", "home.example", on="home.example", noindex=True)}
        copy = make_account("bea", "home.example", on=polled.domain, account_id="7")
        del copy["noindex"]  # not serialized for a remote account
        polled.add(make_status(100, number=1, author=copy, host=polled.domain))
        settings = mastodon_settings(tmp_path, polled.base)
        settings = dataclasses.replace(settings, mastodon=dataclasses.replace(
            settings.mastodon, origins=(("home.example", home.base),)))
        assert run_once(settings)[polled.base].ok
    with store.reading(settings.db_path) as con:
        assert con.execute("SELECT uri FROM posts").fetchall() == []
