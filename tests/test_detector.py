"""The learning detector end to end: curator decisions train the community's model, cycle after cycle.

The replayed history is a community where two kinds of post keep coming that the shipped detector misreads:
requests in Finnish (no rules, too few examples) and a vendor's adverts shaped as questions. The curator
corrects each misreading once, through the same ``mark`` the CLI and the dashboard use; the next collect cycle
retrains, and later posts of the same kinds are read correctly far more often than the shipped model reads them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli.commands import cli
from pipeline.core import store
from pipeline.detector import store as detector_store
from pipeline.detector.model import base_model
from pipeline.detector.rules import classify, use_model
from pipeline.followlist.curation import mark
from tests.fakes.mastodon import FakeMastodon, make_account, make_status
from tests.support import NOW, mastodon_settings, run_once

FINNISH_REQUESTS = [
    "Tietääkö joku hyvää kirjastojärjestelmää pienelle koulukirjastolle",
    "Onko kenelläkään kokemusta Kohasta museokirjastossa",
    "Tietääkö joku, saako e-kirjoja lainata henkilökohtaisella lisenssillä",
    "Onko kenelläkään vinkkejä lukupiiriin yläkoululaisille",
    "Tietääkö joku ilmaisen työkalun saavutettavien pdf-tiedostojen tekemiseen",
    "Onko kenelläkään mallia kokoelmapolitiikasta pienelle kirjastolle",
    "Tietääkö joku hyvän kurssin luettelointiin etänä",
    "Onko kenelläkään kokemusta RFID-porteista pienessä kirjastossa",
    "Tietääkö joku, miten kaukolainat kannattaa järjestää yksin",
    "Onko kenelläkään ideoita kirjanäyttelyyn ilmastonmuutoksesta",
    "Tietääkö joku halvan viivakoodinlukijan koulukirjastoon",
    "Onko kenelläkään kokemusta lautapelien luetteloinnista",
]
VENDOR_ADVERTS = [
    "Do you still catalogue by hand? ShelfHero does it for you overnight.",
    "Does your weeding list take weeks? ShelfHero builds it from circulation data.",
    "Is your inventory a nightmare? ShelfHero scans shelves with a phone.",
    "Do your overdue reminders get ignored? ShelfHero writes ones patrons read.",
    "Can your library afford another budget cut? ShelfHero costs less than a coffee a day.",
    "Which books has nobody opened in five years? ShelfHero knows.",
    "How do you prepare for an accreditation visit? ShelfHero prints the stats in one click.",
    "Are donations piling up in your office? ShelfHero checks them against your catalogue.",
    "Are your spine labels fading? ShelfHero prints durable ones from your catalogue.",
    "Do you know which teacher has which class set? ShelfHero does.",
    "Is your serials check-in a mess? ShelfHero predicts every issue.",
    "Are your reading lists out of date? ShelfHero checks every link weekly.",
]
# (text, language tag, truly a request), alternating, four posts a day for six days.
HISTORY = [p for pair in zip([(t, "fi", True) for t in FINNISH_REQUESTS],
                             [(t, "en", False) for t in VENDOR_ADVERTS], strict=True) for p in pair]
PER_DAY = 4


@pytest.fixture(autouse=True)
def _shipped_model_afterwards() -> Iterator[None]:
    """A cycle installs the community's model for the process: put the shipped one back for other tests."""
    yield
    use_model(None)


def _status(i: int, text: str, lang: str, day: int) -> dict:
    at = (NOW - timedelta(days=6 - day, minutes=-i)).isoformat().replace("+00:00", ".000Z")
    author = make_account("vendor" if lang == "en" else f"user{i}", account_id=str(100 + i))
    return make_status(i + 1, number=i + 1, author=author, text=text, language=lang, created_at=at)


def test_replayed_history_corrections_reduce_errors_on_later_posts(tmp_path: Path) -> None:
    """Each day: a cycle collects the day's posts, the curator corrects what was misread; compare later days."""
    statuses: list[dict] = []
    learned: list[bool] = []  # per post: did the collected verdict disagree with the truth?
    settings = None
    for day in range(len(HISTORY) // PER_DAY):
        todays = list(enumerate(HISTORY))[day * PER_DAY:(day + 1) * PER_DAY]
        statuses = [_status(i, t, lang, day) for i, (t, lang, _) in todays] + statuses
        with FakeMastodon(statuses) as server:
            settings = mastodon_settings(tmp_path, server.base)
            run_once(settings, now=NOW + timedelta(days=day))
        with store.writing(settings.db_path) as con:
            for i, (_, _, truth) in todays:
                uri = f"https://glammr.us/users/{'vendor' if not truth else f'user{i}'}/statuses/{i + 1}"
                [(verdict,)] = con.execute("SELECT is_request FROM post_store WHERE uri = ?", [uri]).fetchall()
                learned.append(bool(verdict) != truth)
                if bool(verdict) != truth:  # the curator corrects it, on that day
                    mark(con, uri, "request" if truth else "not-request",
                         when=NOW + timedelta(days=day, hours=1))
    shipped = [classify(t, lang, model=base_model()).is_request != truth for t, lang, truth in HISTORY]
    half = len(HISTORY) // 2
    print(f"errors, first half / second half: learning {sum(learned[:half])}/{sum(learned[half:])}, "
          f"shipped model {sum(shipped[:half])}/{sum(shipped[half:])}")
    assert sum(shipped[half:]) >= 6, "the history must be one the shipped model misreads"
    assert sum(learned[half:]) <= sum(shipped[half:]) // 2
    assert sum(learned) < sum(shipped)
    with store.reading(settings.db_path) as con:
        [(decisions,)] = con.execute("SELECT decisions FROM detector_models WHERE name = 'community'").fetchall()
    assert decisions == sum(learned[:-PER_DAY])  # the last day's corrections wait for the next cycle


def test_corrections_do_not_unlearn_the_shipped_data() -> None:
    """After learning the whole history, the community model reads the held-out set as well as the shipped one."""
    from pipeline.detector.train import Example, fine_tune, metrics

    model = fine_tune(base_model(), [Example(t, lang, truth, detector_store.DECISION_WEIGHT)
                                     for t, lang, truth in HISTORY])
    path = Path(__file__).parent / "data" / "labelled_heldout.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    truth = [r["is_request"] for r in rows]
    community = metrics(truth, [classify(r["text"], r["lang"], model=model).is_request for r in rows])
    shipped = metrics(truth, [classify(r["text"], r["lang"], model=base_model()).is_request for r in rows])
    assert community["f1"] >= shipped["f1"] - 0.02, (community, shipped)


def _db_with_posts(tmp_path: Path) -> Path:
    statuses = [_status(i, t, lang, 0) for i, (t, lang, _) in enumerate(HISTORY[:4])]
    with FakeMastodon(statuses) as server:
        settings = mastodon_settings(tmp_path, server.base)
        run_once(settings)
    return settings.db_path


def test_prepare_retrains_only_when_a_decision_is_newer(tmp_path: Path) -> None:
    db = _db_with_posts(tmp_path)
    with store.writing(db) as con:
        assert con.execute("SELECT count(*) FROM detector_models").fetchall() == [(0,)]  # no decision, no model
        mark(con, "https://glammr.us/users/vendor/statuses/2", "not-request", when=NOW)
        detector_store.prepare(con, NOW + timedelta(minutes=1))
        first = con.execute("SELECT trained_at, decisions FROM detector_models").fetchall()
        detector_store.prepare(con, NOW + timedelta(minutes=2))
        assert con.execute("SELECT trained_at, decisions FROM detector_models").fetchall() == first
        assert first[0][1] == 1


def test_an_unreadable_stored_model_falls_back_to_the_shipped_one(tmp_path: Path) -> None:
    db = _db_with_posts(tmp_path)
    with store.writing(db) as con:
        con.execute("INSERT INTO detector_models VALUES ('community', ?, 1, '{\"format\": 99}')", [NOW])
        assert detector_store.load(con) is None
        assert detector_store.prepare(con, NOW) is base_model()


def _config(tmp_path: Path, base: str) -> str:
    path = tmp_path / "peerdesk.toml"
    path.write_text(f"[database]\npath = '{tmp_path / 'peerdesk.duckdb'}'\n[mastodon]\nfetch_from_origin = false\n"
                    f"instances = ['{base}']\n", encoding="utf-8")
    return str(path)


def test_cli_retrain_rescore_evaluate_and_check(tmp_path: Path) -> None:
    db = _db_with_posts(tmp_path)
    config = _config(tmp_path, "http://127.0.0.1:9")
    finnish = "https://glammr.us/users/user0/statuses/1"
    with store.writing(db) as con:
        mark(con, finnish, "request", when=NOW)
        mark(con, "https://glammr.us/users/vendor/statuses/2", "not-request", when=NOW)
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", config, "detector", "retrain", "--rescore"])
    assert result.exit_code == 0, result.output
    assert "trained on 2 curator decisions: agrees with 2 of them (the previous model: 0)" in result.output
    assert "re-scored 4 stored posts" in result.output
    with store.reading(db) as con:
        [(is_request, reasons)] = con.execute("SELECT is_request, request_reasons FROM post_store WHERE uri = ?",
                                              [finnish]).fetchall()
    assert is_request and reasons[-1].startswith("model:")  # the model, not a rule, found it
    rows = json.loads(runner.invoke(cli, ["--config", config, "detector", "evaluate", "--format", "json"]).output)
    assert [(r["model"], r["decisions"]) for r in rows] == [("shipped", 2), ("community", 2)]
    assert rows[1]["f1"] == 1.0 and rows[0]["f1"] < 1.0
    out = runner.invoke(cli, ["--config", config, "detector", "check", "--format", "json",
                              "Has anyone tried Koha for a prison library?"])
    [row] = json.loads(out.output)
    assert row["is_request"] and row["model"] == "community"
    assert "\u201cHas anyone\u201d" in row["why"]


def test_requests_table_shows_the_matched_words(tmp_path: Path) -> None:
    statuses = [make_status(1, text="Weiß jemand, ob Koha Zeitschriftenumläufe kann?", language="de")]
    with FakeMastodon(statuses) as server:
        config = _config(tmp_path, server.base)
        runner = CliRunner()
        assert runner.invoke(cli, ["--config", config, "collect"]).exit_code == 0
    out = runner.invoke(cli, ["--config", config, "requests", "--as-of", "2026-11-21T00:00:00Z"]).output
    assert "\u201cWeiß jemand\u201d" in out, out
    assert "weiss-jemand" not in out


def test_a_failed_retrain_keeps_collection_going(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    db = _db_with_posts(tmp_path)

    def broken(*_args: object, **_kw: object) -> None:
        raise ValueError("singular matrix")

    monkeypatch.setattr(detector_store, "fine_tune", broken)
    with store.writing(db) as con:
        mark(con, "https://glammr.us/users/vendor/statuses/2", "not-request", when=NOW)
        assert detector_store.prepare(con, NOW + timedelta(minutes=1)) is base_model()
    assert "could not learn from the curator's decisions (singular matrix)" in caplog.text
