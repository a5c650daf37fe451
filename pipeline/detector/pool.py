"""Classification in worker processes, so that it runs on the other cores while pages are parsed and stored.

Why: the rules and the model are pure Python, about 70 µs a top-level post, and within one interpreter they take
the GIL from the threads that parse and store. Workers give the same verdicts (each installs the model active in
this process, and is replaced when that model changes); any failure (a pool that cannot start, a dead worker, a
worker that does not answer) costs one log line and the posts are classified here instead, so nothing is lost or
counted twice.

The pool starts on first use, with the ``spawn`` context (see :func:`_context`). Workers leave with this process:
at its exit through ``concurrent.futures``, and if it is killed, each worker sees that it lost its parent and exits.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import logging
import multiprocessing
import multiprocessing.context
import multiprocessing.process
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import types
import weakref
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from pipeline.detector.model import Model, base_model, load_json
from pipeline.detector.rules import Verdict, active_model, classify, use_model

log = logging.getLogger(__name__)

ENV = "PEERDESK_WORKERS"  # how many worker processes; 0 classifies in the process that collects
CHUNK = 256  # posts a message: this process's cost a post falls from 12 µs (34 posts, one page) to 4-6 µs
# Fewer posts than this are classified in process: the round trip costs this process more than it saves
# (measured, this process's CPU a post: 1 post 172 µs, 2: 103, 4: 45, 8: 26, 16: 15, against 62-76 in process).
WORTH_IT = 4
WAIT_SECONDS = 60.0  # a chunk not back by then (a hung worker) is classified in process and the workers killed
RETRY_SECONDS = 300.0  # after a failure, in process this long before a new pool is tried
_PARENT_POLL = 0.2  # how often a worker checks that its parent is still there

Key = tuple[str, "str | None"]
Answer = tuple[bool, tuple[str, ...], tuple[str, ...]]


def worker_count() -> int:
    """Workers to start: ``PEERDESK_WORKERS`` if set, else one less than the CPUs this process may use."""
    raw = os.environ.get(ENV, "").strip()
    if raw:
        try:
            return max(0, int(raw))
        except ValueError:
            log.warning("%s=%r is not a number of workers; using the default", ENV, raw)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cpus - 1) if cpus > 1 else 0  # one CPU: a worker would only take turns with the collector


class _Chunk:
    """Posts to send to a worker together: filled across pages, sent when full or when the writer needs one."""

    __slots__ = ("executor", "future", "keys")

    def __init__(self) -> None:
        self.keys: list[Key] = []
        self.executor: ProcessPoolExecutor | None = None
        self.future: Future | None = None  # None until sent; stays None if it could not be sent


class Ahead:
    """One post's verdict on its way back from a worker."""

    __slots__ = ("_chunk", "_index", "_pool")

    def __init__(self, pool: ClassifierPool, chunk: _Chunk, index: int) -> None:
        self._pool, self._chunk, self._index = pool, chunk, index

    def verdict(self) -> Verdict:
        """The worker's verdict, waiting for it if need be; classified here if the worker cannot give it."""
        answers = self._pool.answers(self._chunk)
        if answers is None:
            return classify(*self._chunk.keys[self._index])
        is_request, reasons, words = answers[self._index]
        return Verdict(is_request, reasons, words)


class ClassifierPool:
    """Worker processes that classify posts with the model active in this process."""

    def __init__(self, workers: int | None = None) -> None:
        self._workers = workers
        self._executor: ProcessPoolExecutor | None = None
        self._model: Model | None = None  # the active model the workers were started with (by identity)
        self._model_json: str | None = None  # its JSON (None: the shipped model), to see whether a new one differs
        self._open: _Chunk | None = None  # the chunk being filled
        self._lock = threading.RLock()  # _fail runs both inside submit and on its own
        self._failed_at: float | None = None
        # executors whose failure is already logged: one line each
        self._reported: weakref.WeakSet[ProcessPoolExecutor] = weakref.WeakSet()

    def submit(self, keys: Sequence[Key]) -> list[Ahead] | None:
        """Queue ``(text, lang)`` pairs for the workers; None when they are to be classified here instead.

        A page of the collector holds 40 posts at most, and each message to a worker costs this process about
        170 µs, so pages share chunks: a chunk goes when it is full, or when the writer waits for one of its posts.
        """
        with self._lock:
            if self._start() is None:
                return None
            out = []
            for key in keys:
                chunk = self._open
                if chunk is None:
                    chunk = self._open = _Chunk()
                out.append(Ahead(self, chunk, len(chunk.keys)))
                chunk.keys.append(key)
                if len(chunk.keys) >= CHUNK:
                    self._send(chunk)
        return out

    def answers(self, chunk: _Chunk) -> list[Answer] | None:
        """A chunk's answers, sent now if it was not yet; None (after one log line) if the workers cannot give them."""
        if chunk.future is None:
            with self._lock:
                if chunk.future is None and chunk is self._open and self._start() is not None:
                    self._send(chunk)
        future, executor = chunk.future, chunk.executor
        if future is None or executor is None:
            return None
        try:
            return _result(future, WAIT_SECONDS)
        except FutureTimeout:
            self._fail(executor, f"no answer within {WAIT_SECONDS:g} s", kill=True)
        except Exception as exc:  # noqa: BLE001 - a dead worker (BrokenProcessPool), a cancelled chunk
            self._fail(executor, f"{type(exc).__name__}: {exc}")
        return None

    def _start(self) -> ProcessPoolExecutor | None:
        """:meth:`_ready`, a failure to start costing one line; called holding the lock."""
        try:
            return self._ready()
        except Exception as exc:  # noqa: BLE001 - a pool that cannot start: classify here
            self._fail(None, f"could not start ({type(exc).__name__}: {exc})")
            return None

    def _send(self, chunk: _Chunk) -> None:
        """Hand a chunk to the workers (holding the lock); left unsent, it is classified here when needed."""
        if chunk is self._open:
            self._open = None
        executor = self._executor
        if executor is None:
            return
        try:
            chunk.future, chunk.executor = executor.submit(_classify_chunk, chunk.keys), executor
        except Exception as exc:  # noqa: BLE001 - broken since it started (a worker died): classify here
            self._fail(executor, f"{type(exc).__name__}: {exc}")

    def shutdown(self) -> None:
        """Stop the workers (those busy finish their chunk first); the next submit starts new ones."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=False)

    def pids(self) -> list[int]:
        """The workers' process ids (for tests and for a person looking at ``ps``)."""
        executor = self._executor
        return sorted(getattr(executor, "_processes", None) or {}) if executor is not None else []

    def _ready(self) -> ProcessPoolExecutor | None:
        """The executor for the active model, started if need be; None when classification stays in process."""
        if self._failed_at is not None and time.monotonic() - self._failed_at < RETRY_SECONDS:
            return None
        workers = worker_count() if self._workers is None else self._workers
        if workers <= 0:
            return None
        model = active_model()
        if model is not self._model:
            model_json = None if model is base_model() else model.to_json()
            if self._executor is not None and model_json != self._model_json:
                self._executor.shutdown(wait=False)  # chunks already sent finish with the model they were sent for
                self._executor = None
            self._model, self._model_json = model, model_json
        if self._executor is None:
            self._executor = ProcessPoolExecutor(workers, mp_context=_context(), initializer=_start_worker,
                                                 initargs=(_model_file(self._model_json), os.getpid()))
            self._failed_at = None
        return self._executor

    def _fail(self, executor: ProcessPoolExecutor | None, why: str, kill: bool = False) -> None:
        """Give up on ``executor`` (None: one that could not be made): one log line, then in process for a while."""
        with self._lock:
            if executor is not None and executor in self._reported:
                return
            log.warning("detector workers: %s; classifying in this process", why)
            self._failed_at = time.monotonic()
            if executor is None:
                return
            self._reported.add(executor)
            if self._executor is executor:
                self._executor = None
        if kill:
            for process in list((getattr(executor, "_processes", None) or {}).values()):
                process.kill()  # a hung worker: the chunks still waiting fail at once and are classified here
        executor.shutdown(wait=False, cancel_futures=True)


def _result(future: Future, seconds: float) -> list[Answer]:
    """``future.result(timeout=seconds)``, waited for in growing sleeps (at most 10 ms) rather than a timed lock.

    Why: a timed lock wait hands the C library a deadline on a clock, and where that clock is shifted for the
    process alone (libfaketime, which the test suite runs under to move the date ahead) the deadline is never
    reached: a hung worker was then waited for without end. A sleep is relative, so the bound holds everywhere.
    """
    deadline = time.monotonic() + seconds
    pause = 0.0005
    while not future.done():
        if time.monotonic() >= deadline:
            raise FutureTimeout
        time.sleep(pause)
        pause = min(pause * 2, 0.01)
    return future.result()


def _context() -> multiprocessing.context.BaseContext:
    """``spawn``, without the parent's ``__main__``: each worker a child of this process, so it sees this process go.

    Not ``fork`` (the collector runs threads), and not ``forkserver``: its workers inherit the fork server's
    keep-alive pipe, so when this process is killed the server waits for them and they for it. Plain ``spawn`` runs
    the parent's main script again in each worker first; the workers need only this module, and a script that
    cannot run twice (the dashboard's, which a streamlit test leaves as ``__main__``) would kill each at start.
    """
    return _SpawnNoMain() if _SpawnNoMain is not None else multiprocessing.get_context("spawn")


try:
    from multiprocessing import popen_spawn_posix
except ImportError:  # Windows: spawn as it comes
    _SpawnNoMain = None
else:
    class _Popen(popen_spawn_posix.Popen):
        def _launch(self, process_obj: multiprocessing.process.BaseProcess) -> None:
            main = sys.modules["__main__"]
            sys.modules["__main__"] = types.ModuleType("__main__")  # what spawn tells the worker to run first
            try:  # a few hundred µs: the start-up message is small (the model goes in a file)
                super()._launch(process_obj)
            finally:
                sys.modules["__main__"] = main

    class _WorkerProcess(multiprocessing.context.SpawnProcess):
        @staticmethod
        def _Popen(process_obj: multiprocessing.process.BaseProcess) -> _Popen:  # noqa: N802 - multiprocessing's
            return _Popen(process_obj)

    class _SpawnNoMain(multiprocessing.context.SpawnContext):  # type: ignore[no-redef]
        Process = _WorkerProcess


def _model_file(model_json: str | None) -> str | None:
    """A file holding the model for the workers to read (None: the shipped model).

    Not sent in the start-up message: a message past the pipe's 64 KB blocks the sender until the worker has read
    it, and forever if the worker died first. One file per model, in a folder removed at exit; only the last two
    are kept (a worker still starting with an older one fails to start, and its posts are classified here).
    """
    global _model_dir
    if model_json is None:
        return None
    if _model_dir is None:
        _model_dir = tempfile.mkdtemp(prefix="peerdesk-model-")
        atexit.register(shutil.rmtree, _model_dir, ignore_errors=True)
    path = os.path.join(_model_dir, hashlib.sha256(model_json.encode()).hexdigest()[:16] + ".json")
    if not os.path.exists(path):
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write(model_json)
        os.replace(path + ".tmp", path)
    if path in _model_files:
        _model_files.remove(path)
    _model_files.append(path)
    while len(_model_files) > 2:
        with contextlib.suppress(OSError):
            os.remove(_model_files.pop(0))
    return path


_model_dir: str | None = None
_model_files: list[str] = []  # oldest first


def _start_worker(model_path: str | None, parent: int) -> None:
    """In each worker: the parent's model, Ctrl-C left to the parent, and an exit when the parent is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the terminal sends it to the whole group; the parent decides
    if model_path is None:
        use_model(None)
    else:
        with open(model_path, encoding="utf-8") as f:
            use_model(load_json(f.read()))
    threading.Thread(target=_exit_with_parent, args=(parent,), name="parent-watch", daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """Exit once this worker's parent is gone (killed: nothing else would tell the worker).

    ``parent`` is the pid the parent gave, not ``os.getppid()`` read here: a parent killed while this worker was
    still starting has already left it to init.
    """
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL)
    os._exit(0)


def _classify_chunk(keys: list[Key]) -> list[Answer]:
    """In a worker: each post's verdict as plain tuples (cheaper to send back than the objects)."""
    out = []
    for text, lang in keys:
        v = classify(text, lang)
        out.append((v.is_request, v.reasons, v.words))
    return out


_pool: ClassifierPool | None = None


def shared() -> ClassifierPool:
    """The process's pool, made (not yet started) on first use: only ingest asks for it, never the dashboard."""
    global _pool
    if _pool is None:
        _pool = ClassifierPool()
    return _pool
