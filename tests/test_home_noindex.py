"""Mastodon ``noindex`` is learnt from each account's home server, since copies elsewhere never carry it.

Mastodon serializes ``noindex`` for its own accounts only (``attribute :noindex, if: :local?``). Two fake
instances over real HTTP: the polled one shows home.example's accounts as remote copies without the field;
home.example (reached through ``mastodon.origins``) answers ``GET /api/v1/accounts/lookup``. Every cycle runs
on an explicit clock.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

from pipeline.collection.opt_out_checks import LOOKUPS_PER_CYCLE, RECHECK_AFTER, home_cursor_key
from pipeline.core import store
from pipeline.core.settings import Settings
from tests.fakes.mastodon import FakeMastodon, make_account, make_status
from tests.support import NOW, mastodon_settings, run_once

HOME = "home.example"
DEAD = "http://127.0.0.1:9"  # nothing listens here: a home server that cannot be reached
LOOKUP = "/api/v1/accounts/lookup"
NOBOT = "<p>Solo librarian. Please no bots #nobot</p>"


def _home() -> FakeMastodon:
    return FakeMastodon(instance={"domain": HOME, "version": "4.5.0", "configuration": {}})


def _copy(user: str, local_id: int, polled: FakeMastodon, **changes: object) -> dict:
    """``user@home.example``'s post as the polled instance copies it: her profile without ``noindex``."""
    author = make_account(user, HOME, on=polled.domain, account_id=str(local_id), **changes)  # type: ignore[arg-type]
    del author["noindex"]
    return make_status(local_id, number=local_id, author=author, host=HOME)


def _settings(tmp_path: Path, polled: FakeMastodon, home: str) -> Settings:
    settings = mastodon_settings(tmp_path, polled.base)
    return dataclasses.replace(settings, mastodon=dataclasses.replace(settings.mastodon, origins=((HOME, home),)))


def _rows(settings: Settings, sql: str) -> list[tuple]:
    with store.reading(settings.db_path) as con:
        return con.execute(sql).fetchall()


def _asked(home: FakeMastodon) -> list[str]:
    return [r.query["acct"][0] for r in home.requests_to(LOOKUP)]


def test_a_home_that_is_down_leaves_the_account_stored_and_is_asked_again_next_cycle(tmp_path: Path) -> None:
    with _home() as home, FakeMastodon() as polled:
        home.profiles = {"bea": make_account("bea", HOME, on=HOME, noindex=True)}
        polled.add(_copy("bea", 1, polled))
        settings = _settings(tmp_path, polled, DEAD)
        outcomes = run_once(settings)
        assert outcomes["consent:mastodon"].ok  # one line, not a failed cycle
        [line] = outcomes["consent:mastodon"].report.errors
        assert line.startswith("noindex of bea@home.example not known") and "asked again next cycle" in line
        assert _rows(settings, "SELECT account FROM accounts") == [("bea@home.example",)]  # we cannot know
        assert _rows(settings, "SELECT count(*) FROM posts") == [(1,)]
        # Up again, and the clock has not moved: she is asked now, not in 30 days, and her noindex purges her.
        settings = _settings(tmp_path, polled, home.base)
        outcomes = run_once(settings, now=NOW + timedelta(minutes=15))
        assert _asked(home) == ["bea"]
        assert outcomes["consent:mastodon"].stored.purged_posts == 1
    assert _rows(settings, "SELECT uri FROM posts UNION ALL SELECT account FROM accounts") == []
    assert _rows(settings, "SELECT account, reason, confirmed FROM opt_outs") == [
        ("bea@home.example", "noindex", True)]


def test_a_home_that_does_not_know_the_account_is_asked_again_next_cycle(tmp_path: Path) -> None:
    with _home() as home, FakeMastodon() as polled:
        polled.add(_copy("bea", 1, polled))
        settings = _settings(tmp_path, polled, home.base)
        outcomes = run_once(settings)
        assert "home.example does not know the account" in outcomes["consent:mastodon"].report.errors[0]
        assert _rows(settings, "SELECT count(*) FROM posts") == [(1,)]
        run_once(settings, now=NOW + timedelta(minutes=15))
        assert _asked(home) == ["bea", "bea"]


def test_a_clean_or_silent_home_keeps_the_account_until_the_recheck_which_finds_a_later_noindex(
        tmp_path: Path) -> None:
    """GoToSocial and Pleroma omit ``noindex``: that clears the account until it is asked again, 30 days on."""
    with _home() as home, FakeMastodon() as polled:
        silent = make_account("bea", HOME, on=HOME)
        del silent["noindex"]
        home.profiles = {"bea": silent, "cy": make_account("cy", HOME, on=HOME, noindex=False)}
        polled.add(_copy("bea", 1, polled), _copy("cy", 2, polled))
        settings = _settings(tmp_path, polled, home.base)
        run_once(settings)
        assert sorted(_asked(home)) == ["bea", "cy"]
        key = home_cursor_key("bea@home.example")
        assert _rows(settings, f"SELECT position FROM cursors WHERE cursor_key = '{key}'") == [(NOW.isoformat(),)]
        run_once(settings, now=NOW + RECHECK_AFTER - timedelta(hours=1))  # not due yet
        assert len(_asked(home)) == 2
        assert _rows(settings, "SELECT count(*) FROM posts") == [(2,)]
        # Bea turns on "opt out of search engine indexing"; her copies never show it, her home does.
        home.profiles["bea"] = make_account("bea", HOME, on=HOME, noindex=True)
        run_once(settings, now=NOW + RECHECK_AFTER + timedelta(hours=1))
        assert sorted(_asked(home)) == ["bea", "bea", "cy", "cy"]
    assert _rows(settings, "SELECT account FROM accounts") == [("cy@home.example",)]
    assert _rows(settings, "SELECT author FROM posts") == [("cy@home.example",)]


def test_the_budget_holds_pending_opt_outs_first_the_rest_next_cycle_least_recently_asked_first(
        tmp_path: Path) -> None:
    extra = 5
    users = [f"u{i:03d}" for i in range(LOOKUPS_PER_CYCLE + extra)]
    with _home() as home, FakeMastodon() as polled:
        home.profiles = {u: make_account(u, HOME, on=HOME) for u in [*users, "ana"]}
        polled.add(*(_copy(u, i + 1, polled) for i, u in enumerate(users)))
        polled.add(_copy("ana", 999, polled, note=NOBOT))  # an opt-out seen on a copy: pending, asked first
        settings = _settings(tmp_path, polled, home.base)
        run_once(settings)
        first = _asked(home)
        assert len(first) == LOOKUPS_PER_CYCLE and "ana" in first
        assert _rows(settings, "SELECT count(*) FROM opt_outs") == [(0,)]  # her home shows no opt-out
        # The next cycle asks the ones left over (never asked), and no one answered a moment ago.
        run_once(settings, now=NOW + timedelta(hours=1))
        second = _asked(home)[len(first):]
        assert sorted(second) == sorted(set(users) - set(first))  # ana's answer settled her noindex too
        # A month on, everyone is due again: those asked longest ago go first, the rest wait.
        run_once(settings, now=NOW + RECHECK_AFTER + timedelta(days=1))
        third = _asked(home)[len(first) + len(second):]
        assert sorted(third) == sorted(first)


def test_a_home_that_shows_profiles_only_to_its_own_users_is_asked_again_after_the_recheck(tmp_path: Path) -> None:
    """GoToSocial answers an account lookup without a token with 401 (seen on a real 0.19.2): no cycle soon would
    learn more, so the account is not asked again every cycle, using the budget and a line each time."""
    with FakeMastodon(instance={"domain": HOME, "version": "0.19.2 git-abc (compatible; GoToSocial)"},
                      lookup_needs_token=True) as home, FakeMastodon() as polled:
        polled.add(_copy("bea", 1, polled))
        settings = _settings(tmp_path, polled, home.base)
        [line] = run_once(settings)["consent:mastodon"].report.errors
        assert "401" in line and "asked again in 30 days" in line
        assert _rows(settings, "SELECT author FROM posts") == [(f"bea@{HOME}",)]  # we cannot know: it stays
        run_once(settings)
        assert _asked_count(home) == 1
        run_once(settings, now=NOW + RECHECK_AFTER + timedelta(hours=1))
        assert _asked_count(home) == 2


def _asked_count(home: FakeMastodon) -> int:
    return len(home.requests_to(LOOKUP))
