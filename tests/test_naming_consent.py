"""Nobody who may not be named is named: a first responder who opted out or is not discoverable is counted, not shown.

The rule lives in the views (``nameable_accounts``, ``help_requests_at``); each output path is checked here with
such a responder: the export, ``peerdesk requests``, the dashboard's snapshot path, and the peers' counts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from dashboard import data
from pipeline.cli.commands import cli
from pipeline.core import queries, store
from tests.support import SAMPLE_NOW


def _answered(db: Path) -> tuple[str, str, str]:
    """An answered request of the sample: (uri, its first responder's key, that account's handle)."""
    with store.reading(db) as con:
        return con.execute(
            "SELECT h.uri, h.first_responder, a.handle FROM help_requests_at(?) h "
            "JOIN account_store a ON a.account = h.first_responder ORDER BY h.uri LIMIT 1", [SAMPLE_NOW]
        ).fetchall()[0]


def _refuse(db: Path, account: str, how: str) -> None:
    with store.writing(db) as con:
        if how == "not discoverable":
            con.execute("UPDATE account_store SET discoverable = false WHERE account = ?", [account])
        else:  # an opt-out seen on a copy, still waiting for the home server's word
            con.execute("INSERT INTO opt_outs (account, reason, seen_at, confirmed) VALUES (?, '#nobot', ?, false)",
                        [account, SAMPLE_NOW])


def _config(db: Path, tmp_path: Path) -> Path:
    config = tmp_path / "p.toml"
    config.write_text(f"[database]\npath = '{db}'\n", encoding="utf-8")
    return config


@pytest.fixture(params=["not discoverable", "opted out"])
def refused(request: pytest.FixtureRequest, db: Path) -> tuple[Path, str, str, str]:
    uri, account, handle = _answered(db)
    _refuse(db, account, request.param)
    return db, uri, account, handle


def test_the_view_counts_the_answer_but_does_not_name_who_gave_it(refused: tuple[Path, str, str, str]) -> None:
    db, uri, account, _ = refused
    with store.reading(db) as con:
        status, responder, response_time = con.execute(
            "SELECT status, first_responder, response_time FROM help_requests_at(?) WHERE uri = ?",
            [SAMPLE_NOW, uri]).fetchall()[0]
        assert (status, responder) == ("answered", None) and response_time is not None
        assert account not in {r[0] for r in con.execute(
            "SELECT DISTINCT first_responder FROM help_requests_at(?)", [SAMPLE_NOW]).fetchall()}


def test_the_export_does_not_name_them(refused: tuple[Path, str, str, str], tmp_path: Path) -> None:
    db, uri, account, _ = refused
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["--config", str(_config(db, tmp_path)), "export", "--format", "json",
                                      "--out", str(out), "--as-of", SAMPLE_NOW.isoformat()])
    assert result.exit_code == 0, result.output
    rows = {r["uri"]: r for r in json.loads((out / "help_requests.json").read_text(encoding="utf-8"))}
    assert rows[uri]["status"] == "answered" and rows[uri]["first_responder"] is None
    assert all(r["first_responder"] != account for r in rows.values())


def test_the_requests_report_does_not_name_them(refused: tuple[Path, str, str, str], tmp_path: Path) -> None:
    db, uri, _, handle = refused
    result = CliRunner().invoke(cli, ["--config", str(_config(db, tmp_path)), "requests", "--status", "all",
                                      "--format", "json", "--as-of", SAMPLE_NOW.isoformat()])
    assert result.exit_code == 0, result.output
    rows = {r["uri"]: r for r in json.loads(result.stdout)}
    assert rows[uri]["first_responder"] is None
    assert all(r["first_responder"] != handle for r in rows.values())


def test_the_dashboard_does_not_name_them(refused: tuple[Path, str, str, str]) -> None:
    db, uri, _, handle = refused
    listed = data.help_requests(data.Desk(db=str(db), pinned_as_of=SAMPLE_NOW), status=None)
    rows = listed.rows.set_index("uri")
    assert pd.isna(rows.loc[uri, "first_responder"])
    assert handle not in set(rows["first_responder"].dropna())


def test_who_helps_still_counts_their_first_answers(db: Path) -> None:
    _, account, _ = _answered(db)
    with store.reading(db) as con:
        before = {p["account"]: p["first_responses"] for p in queries.peers(con, SAMPLE_NOW, since=None)}
    _refuse(db, account, "not discoverable")
    with store.reading(db) as con:
        after = {p["account"]: p["first_responses"] for p in queries.peers(con, SAMPLE_NOW, since=None)}
        weekly = con.execute("SELECT sum(first_responses) FROM peer_activity_at(?) WHERE account = ?",
                             [SAMPLE_NOW, account]).fetchall()[0][0]
    assert after == before and after[account] >= 1 and weekly == after[account]


def test_suggestions_never_name_them(refused: tuple[Path, str, str, str]) -> None:
    db, _, account, _ = refused
    with store.reading(db) as con:
        assert con.execute("SELECT count(*) FROM suggested_peers_at(?) WHERE account = ?",
                           [SAMPLE_NOW, account]).fetchall()[0][0] == 0


