"""The real Bluesky stack, started once for the integration session and stopped after it.

Skips the whole suite, with one line saying what is missing, when Node 22, @atproto/dev-env, PostgreSQL or
Redis is not installed (tests/integration/bsky_devenv/install.sh and the Debian packages bring them).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.devenv import DevEnv, Urls, missing


@pytest.fixture(scope="session")
def bsky_stack() -> Iterator[Urls]:
    reason = missing()
    if reason:
        pytest.skip(reason)
    env = DevEnv()
    try:
        try:
            urls = env.start()
        except Exception as exc:  # noqa: BLE001 - one line for whatever broke, with the log's tail
            pytest.fail(f"the real Bluesky stack did not start: {exc}; log: {env.tail()}", pytrace=False)
        yield urls
    finally:
        env.stop()
