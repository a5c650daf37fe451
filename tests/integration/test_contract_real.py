"""The contract (tests/integration/contract.py) against the real stack: what the fakes are held to is still true."""

from __future__ import annotations

import pytest

from tests.integration import xrpc
from tests.integration.contract import CASES, POST, TAKEN_RKEY, Case, Target, record, verdict
from tests.integration.devenv import Urls

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def target(bsky_stack: Urls) -> Target:
    account, other = xrpc.create_account(bsky_stack.pds, "contract"), xrpc.create_account(bsky_stack.pds, "contract2")
    session = xrpc.call(bsky_stack.pds, "com.atproto.server.createSession",
                        body={"identifier": account.handle, "password": account.password})
    xrpc.call(bsky_stack.pds, "com.atproto.repo.createRecord", token=session["accessJwt"],
              body={"repo": account.did, "collection": POST, "rkey": TAKEN_RKEY, "record": record()})
    return Target(bsky_stack.pds, bsky_stack.appview, account.did, session["accessJwt"], session["refreshJwt"],
                  other.did)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_real_server_answers_as_the_contract_says(case: Case, target: Target) -> None:
    assert verdict(case, target) is None
