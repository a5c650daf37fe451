"""Classification in worker processes: the same verdicts as in process, a fallback for every failure, no orphans."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collectors.records import MASTODON, Account, Page, Post, Sighting
from pipeline.core import store
from pipeline.core.ingest import store_page, verdicts
from pipeline.detector import pool
from pipeline.detector.model import base_model
from pipeline.detector.rules import active_model, classify, use_model
from tests.support import wait_until

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _labelled() -> list[tuple[str, str | None]]:
    """Real community posts, both requests and not, in four languages."""
    lines = (ROOT / "tests/data/labelled_requests.jsonl").read_text(encoding="utf-8").splitlines()
    return [(row["text"], row.get("lang")) for row in map(json.loads, lines)]


TEXTS = _labelled()


@pytest.fixture()
def workers() -> Iterator[pool.ClassifierPool]:
    """A pool of its own with one worker, stopped after the test."""
    p = pool.ClassifierPool(workers=1)
    yield p
    p.shutdown()


@pytest.fixture()
def shared_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[pool.ClassifierPool]:
    """The pool ``preclassify`` uses, fresh for the test and stopped after it; no verdicts left behind."""
    p = pool.ClassifierPool(workers=1)
    monkeypatch.setattr(pool, "_pool", p)
    verdicts._verdicts.clear()
    yield p
    p.shutdown()
    verdicts._verdicts.clear()


@pytest.fixture()
def restore_model() -> Iterator[None]:
    before = active_model()
    yield
    use_model(None if before is base_model() else before)


def _answers(sent: list[pool.Ahead] | None) -> list:
    assert sent is not None, "the pool classified nothing"
    return [a.verdict() for a in sent]


def test_workers_give_the_verdicts_of_classify(workers: pool.ClassifierPool) -> None:
    sent = workers.submit(TEXTS)
    assert workers.pids(), "no worker started"
    assert _answers(sent) == [classify(text, lang) for text, lang in TEXTS]
    assert len(TEXTS) > pool.CHUNK  # more than one chunk, each answer found in its own


def test_after_another_model_is_installed_the_workers_classify_with_it(
        workers: pool.ClassifierPool, restore_model: None) -> None:
    _answers(workers.submit(TEXTS[:50]))
    first = workers.pids()
    eager = replace(base_model(), bias=base_model().bias + 4.0, name="eager")  # a community's model, retrained
    use_model(eager)
    got = _answers(workers.submit(TEXTS))
    assert got == [classify(text, lang) for text, lang in TEXTS]
    assert got != [classify(text, lang, model=base_model()) for text, lang in TEXTS]  # the model mattered
    assert workers.pids() != first  # new workers, started with the new model
    again = workers.pids()
    use_model(replace(eager))  # the same model loaded again (each cycle loads it anew): the workers are kept
    assert _answers(workers.submit(TEXTS[:20])) == [classify(t, lang) for t, lang in TEXTS[:20]]
    assert workers.pids() == again


def _account(user: str) -> Account:
    return Account(key=f"{user}@glammr.us", platform=MASTODON, handle=f"{user}@glammr.us")


def _page(n: int, offset: int = 0) -> Page:
    """``n`` top-level posts and a reply to each (replies are never classified)."""
    posts = []
    for i, (text, lang) in enumerate(TEXTS[offset:offset + n]):
        author = _account(f"a{i % 7}")
        uri = f"https://glammr.us/users/{author.handle.split('@')[0]}/statuses/{offset + i}"
        posts.append(Post(uri=uri, platform=MASTODON, author=author, created_at=T0 + timedelta(minutes=i), text=text,
                          html=f"<p>{text}</p>", lang=lang, sighting=Sighting("a.example", f"s{offset + i}")))
        posts.append(Post(uri=uri + "1", platform=MASTODON, author=author, created_at=T0 + timedelta(minutes=i),
                          text=text, html=f"<p>{text}</p>", lang=lang, reply_to=uri,
                          sighting=Sighting("a.example", f"r{offset + i}")))
    return Page(posts=posts)


def _stored(path: Path, pages: list[Page]) -> list[tuple]:
    con = store.connect(path)
    for page in pages:
        verdicts.preclassify(page)
    for page in pages:
        store_page(con, page, now=T0)
    got = con.execute("SELECT uri, is_request, request_reasons FROM post_store ORDER BY uri").fetchall()
    con.close()
    return got


def test_posts_stored_through_the_workers_are_the_posts_stored_without_them(
        tmp_path: Path, shared_pool: pool.ClassifierPool, monkeypatch: pytest.MonkeyPatch) -> None:
    pages = [_page(300), _page(300, offset=300), _page(pool.WORTH_IT - 1, offset=600)]
    with_workers = _stored(tmp_path / "w.duckdb", pages)
    assert shared_pool.pids(), "the pages went to no worker"
    left = set(verdicts._verdicts)  # posts store_page drops (as in process: see below) leave their verdict
    verdicts._verdicts.clear()
    monkeypatch.setenv(pool.ENV, "0")
    alone = pool.ClassifierPool()
    monkeypatch.setattr(pool, "_pool", alone)
    assert _stored(tmp_path / "p.duckdb", pages) == with_workers
    assert not alone.pids()
    assert set(verdicts._verdicts) == left
    assert sum(bool(r[1]) for r in with_workers) > 50 and sum(r[1] is False for r in with_workers) > 50


def test_no_workers_when_told_so_or_with_one_cpu(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
                                                  ) -> None:
    monkeypatch.setenv(pool.ENV, "0")
    assert pool.worker_count() == 0
    assert pool.ClassifierPool().submit(TEXTS[:40]) is None
    monkeypatch.setenv(pool.ENV, "3")
    assert pool.worker_count() == 3
    monkeypatch.delenv(pool.ENV)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0})
    assert pool.worker_count() == 0
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3})
    assert pool.worker_count() == 3
    monkeypatch.setenv(pool.ENV, "many")
    with caplog.at_level(logging.WARNING):
        assert pool.worker_count() == 3
    assert [r.getMessage() for r in caplog.records] == [
        f"{pool.ENV}='many' is not a number of workers; using the default"]


def test_a_small_page_is_classified_where_it_was_parsed(shared_pool: pool.ClassifierPool) -> None:
    page = _page(pool.WORTH_IT - 1)
    verdicts.preclassify(page)
    assert not shared_pool.pids()
    held = [verdicts._verdicts[(p.text, p.lang)] for p in page.posts if verdicts._may_ask(p)]
    assert held == [classify(text, lang) for text, lang in TEXTS[:pool.WORTH_IT - 1]]


def _stop(pid: int) -> None:
    os.kill(pid, signal.SIGSTOP)


def test_a_worker_killed_with_work_in_hand_costs_one_line_and_no_verdict(
        workers: pool.ClassifierPool, caplog: pytest.LogCaptureFixture) -> None:
    _answers(workers.submit(TEXTS[:20]))
    (worker,) = workers.pids()
    _stop(worker)  # it cannot take the next chunk before it dies
    sent = workers.submit(TEXTS)
    os.kill(worker, signal.SIGKILL)
    with caplog.at_level(logging.WARNING, logger=pool.__name__):
        assert _answers(sent) == [classify(text, lang) for text, lang in TEXTS]
    assert len(caplog.records) == 1 and "classifying in this process" in caplog.records[0].getMessage()
    assert workers.submit(TEXTS[:40]) is None  # in process for a while, rather than a new pool at every page


def test_a_worker_that_does_not_answer_is_waited_for_a_bounded_time(
        workers: pool.ClassifierPool, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(pool, "WAIT_SECONDS", 0.5)
    _answers(workers.submit(TEXTS[:20]))
    (worker,) = workers.pids()
    _stop(worker)
    sent = workers.submit(TEXTS[:600])
    with caplog.at_level(logging.WARNING, logger=pool.__name__):
        assert _answers(sent) == [classify(text, lang) for text, lang in TEXTS[:600]]
    assert [r.getMessage() for r in caplog.records] == ["detector workers: no answer within 0.5 s; classifying in this "
                                                        "process"]
    wait_until(lambda: not _alive(worker), what="the hung worker to be killed")


def test_a_pool_that_cannot_start_leaves_classification_here(
        workers: pool.ClassifierPool, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def refuse() -> object:
        raise OSError("no more processes")

    monkeypatch.setattr(pool, "_context", refuse)
    with caplog.at_level(logging.WARNING, logger=pool.__name__):
        assert workers.submit(TEXTS[:40]) is None
        assert workers.submit(TEXTS[:40]) is None  # not tried again at every page
    assert [r.getMessage() for r in caplog.records] == [
        "detector workers: could not start (OSError: no more processes); classifying in this process"]


def _alive(pid: int) -> bool:
    """Running (a zombie left for init to reap has exited)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


_PARENT = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)  # a background job (CI under nohup, &) starts ignoring it
from pipeline.detector import pool
sent = pool.shared().submit([("Does anyone know a good ILS?", "en")] * 300)
if sys.argv[1] == "answered":
    [a.verdict() for a in sent]
print(" ".join(map(str, pool.shared().pids())), flush=True)
time.sleep(120)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
@pytest.mark.parametrize(("sig", "when"), [(signal.SIGKILL, "answered"), (signal.SIGTERM, "answered"),
                                           (signal.SIGINT, "answered"), (signal.SIGKILL, "starting")])
def test_workers_leave_with_their_parent(sig: signal.Signals, when: str) -> None:
    """Killed, stopped or interrupted, after the workers answered or while they are still starting."""
    env = {**os.environ, "PEERDESK_WORKERS": "1", "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", _PARENT, when], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=env, cwd=ROOT)
    family: set[int] = set()
    try:
        assert parent.stdout is not None
        workers = {int(pid) for pid in parent.stdout.readline().split()}
        assert workers, parent.stderr.read() if parent.stderr else ""
        family = _descendants(parent.pid)  # the workers, and the fork server they were made by
        assert workers <= family
        parent.send_signal(sig)
        parent.wait(timeout=30)
        wait_until(lambda: not any(map(_alive, family)), timeout=30, what=f"no process left after {sig.name}")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for pid in filter(_alive, family):  # a failed test leaves no process behind either
            os.kill(pid, signal.SIGKILL)


def test_only_collection_starts_workers() -> None:
    """The dashboard (and anything but a collection cycle's ingest) never starts a pool: it only reads."""
    import ast

    def starts(tree: ast.AST) -> bool:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and any(
                    a.name == "preclassify" or (node.module == "pipeline.detector" and a.name == "pool")
                    for a in node.names):
                return True
            if isinstance(node, ast.Import) and any(a.name == "pipeline.detector.pool" for a in node.names):
                return True
            if isinstance(node, ast.Name | ast.Attribute) and "preclassify" in (getattr(node, "id", None),
                                                                                  getattr(node, "attr", None)):
                return True
        return False

    callers = {path.relative_to(ROOT).as_posix() for package in ("pipeline", "dashboard", "collectors")
               for path in (ROOT / package).rglob("*.py") if starts(ast.parse(path.read_text(encoding="utf-8")))}
    assert callers == {"pipeline/core/ingest/__init__.py", "pipeline/core/ingest/verdicts.py",
                       "pipeline/collection/cycle.py"}


def _collected(tmp_path: Path, statuses: list[dict]) -> list[tuple]:
    from tests.fakes.mastodon import FakeMastodon
    from tests.support import mastodon_settings, run_once

    with FakeMastodon(statuses[::-1]) as server:
        settings = mastodon_settings(tmp_path, server.base)
        outcome = run_once(settings)[server.base]
        assert outcome.ok and outcome.stored.new_posts == len(statuses)
    with store.reading(settings.db_path) as con:
        return con.execute("SELECT uri, is_request, request_reasons FROM post_store ORDER BY uri").fetchall()


def test_a_collection_cycle_stores_the_same_verdicts_with_workers_as_without(
        tmp_path: Path, shared_pool: pool.ClassifierPool, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fakes.mastodon import make_status

    statuses = [make_status(1000 + i, text=text.replace("<", " ").replace("&", " "), language=lang,
                            created_at=f"2026-11-20T10:{i // 60:02d}:{i % 60:02d}.000Z")
                for i, (text, lang) in enumerate(TEXTS[:150])]
    with_workers = _collected(tmp_path / "w", statuses)
    assert shared_pool.pids(), "the cycle's pages went to no worker"
    monkeypatch.setenv(pool.ENV, "0")
    monkeypatch.setattr(pool, "_pool", pool.ClassifierPool())
    assert _collected(tmp_path / "p", statuses) == with_workers
    assert {bool(r[1]) for r in with_workers} == {True, False}


@pytest.fixture()
def main_that_cannot_run_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``__main__`` as a streamlit test leaves it: a script that fails when run again (as spawn does in a worker)."""
    import types

    script = tmp_path / "app.py"
    script.write_text("raise SystemExit('this script runs once')\n", encoding="utf-8")
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)


def test_workers_start_whatever_the_main_script_is(
        workers: pool.ClassifierPool, main_that_cannot_run_twice: None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=pool.__name__):
        assert _answers(workers.submit(TEXTS[:300])) == [classify(text, lang) for text, lang in TEXTS[:300]]
    assert not caplog.records and workers.pids()


def test_a_worker_that_dies_at_start_with_a_retrained_model_does_not_hang_the_writer(
        workers: pool.ClassifierPool, main_that_cannot_run_twice: None, monkeypatch: pytest.MonkeyPatch,
        restore_model: None, caplog: pytest.LogCaptureFixture) -> None:
    """A community's model is 190 KB of JSON: it must not travel in the start-up message, which then blocks."""
    import multiprocessing
    import threading

    monkeypatch.setattr(pool, "_context", lambda: multiprocessing.get_context("spawn"))  # runs __main__: dies
    use_model(replace(base_model(), bias=base_model().bias + 4.0, name="eager"))
    got: list = []
    with caplog.at_level(logging.WARNING, logger=pool.__name__):
        thread = threading.Thread(target=lambda: got.extend(_answers(workers.submit(TEXTS[:300]))), daemon=True)
        thread.start()
        thread.join(timeout=60)
    assert not thread.is_alive(), "the writer hung"
    assert got == [classify(text, lang) for text, lang in TEXTS[:300]]
    assert len(caplog.records) == 1 and "classifying in this process" in caplog.records[0].getMessage()


def test_the_workers_model_files_do_not_pile_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "_model_dir", str(tmp_path))
    monkeypatch.setattr(pool, "_model_files", [])
    paths = [pool._model_file(replace(base_model(), bias=float(i)).to_json()) for i in range(5)]
    assert pool._model_file(None) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(Path(p).name for p in paths[-2:])
    assert pool._model_file(replace(base_model(), bias=3.0).to_json()) == paths[3]  # the same model, the same file
    assert json.loads(Path(paths[4]).read_text(encoding="utf-8"))["bias"] == 4.0
