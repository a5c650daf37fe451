"""The fake Bluesky answers as the real PDS and AppView do (tests/integration/contract.py, observed on the real
stack and re-checked there by the integration suite), so tests that pass against the fake mean something."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.fakes.bluesky import DEFAULT_HANDLE, DEFAULT_PASSWORD, FakeBluesky, repo_records
from tests.integration.contract import CASES, POST, TAKEN_RKEY, Case, Target, record, verdict


@pytest.fixture()
def target() -> Iterator[Target]:
    with FakeBluesky() as fake:
        fake.accounts["someone.bsky.social"] = ("did:plc:someoneonthesamepds0000", "another-password")
        session = fake.handle("POST", "com.atproto.server.createSession", {}, {"content-type": "application/json"},
                              {"identifier": DEFAULT_HANDLE, "password": DEFAULT_PASSWORD})
        tokens = json.loads(session[2])
        repo_records(fake, tokens["did"], POST)[TAKEN_RKEY] = record()
        yield Target(fake.url, fake.url, tokens["did"], tokens["accessJwt"], tokens["refreshJwt"],
                     "did:plc:someoneonthesamepds0000")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_fake_answers_as_the_real_server_does(case: Case, target: Target) -> None:
    assert verdict(case, target) is None
