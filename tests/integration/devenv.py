"""Start and stop a real Bluesky stack (@atproto/dev-env) on localhost for the integration suite.

The fakes in tests/fakes/ were written here and agree with the code by construction; this stack is the
reference implementation (PLC, PDS, AppView) that Bluesky's own tests run against. It needs three things
the project does not vendor, and :func:`missing` names whichever is absent so the suite skips with one line:

* Node 22 or newer: ``tests/integration/bsky_devenv/node_modules/.bin/node`` (the npm package ``node``,
  pinned in package.json; ``install.sh`` puts it there), else ``node`` on PATH if it is new enough.
* PostgreSQL's server binaries (``initdb``, ``postgres``; Debian's ``postgresql``).
* ``redis-server`` (Debian's ``redis-server``).

Postgres and Redis run on free ports in a temporary directory, as the ``postgres`` user when we are root
(initdb refuses root); everything is removed on stop.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent / "bsky_devenv"
START_TIMEOUT = 240.0  # seconds: the first start migrates three Postgres schemas on a shared 2-CPU machine


@dataclass
class Urls:
    pds: str
    appview: str
    plc: str


def node_binary() -> str | None:
    """A Node 22+ binary: the one npm installed beside dev-env, else PATH's when it is new enough."""
    for candidate in (HERE / "node_modules" / ".bin" / "node", shutil.which("node")):
        if candidate and Path(candidate).exists():
            try:
                version = subprocess.run([str(candidate), "--version"], capture_output=True, text=True,
                                         timeout=20).stdout.strip()
            except (OSError, subprocess.SubprocessError):
                continue
            if version.startswith("v") and int(version[1:].split(".")[0]) >= 22:
                return str(candidate)
    return None


def postgres_bin() -> Path | None:
    """The directory holding ``initdb`` and ``postgres`` (PATH first, then Debian's versioned folders)."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return versions[-1].parent if versions else None


def missing() -> str | None:
    """Why the real stack cannot start here, in one line, or None when it can."""
    needs = []
    if node_binary() is None:
        needs.append("Node 22+ (run tests/integration/bsky_devenv/install.sh)")
    if not (HERE / "node_modules" / "@atproto" / "dev-env").exists():
        needs.append("@atproto/dev-env (run tests/integration/bsky_devenv/install.sh)")
    if postgres_bin() is None:
        needs.append("PostgreSQL (apt-get install postgresql)")
    if shutil.which("redis-server") is None:
        needs.append("Redis (apt-get install redis-server)")
    return "real Bluesky stack unavailable: needs " + ", ".join(needs) if needs else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, deadline: float, proc: subprocess.Popen) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listened on 127.0.0.1:{port} in time")


@dataclass
class DevEnv:
    """Postgres, Redis and the Node dev-env process, started in that order and stopped in reverse."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="peerdesk-devenv-")))
    procs: list[subprocess.Popen] = field(default_factory=list)
    urls: Urls | None = None
    log: Path | None = None

    def start(self) -> Urls:
        deadline = time.monotonic() + START_TIMEOUT
        pg_port, redis_port = free_port(), free_port()
        self._start_postgres(pg_port, deadline)
        redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "no", "--dir", str(self.root)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(redis)
        wait_for_port(redis_port, deadline, redis)
        env = {**os.environ, "DB_POSTGRES_URL": f"postgresql://postgres@127.0.0.1:{pg_port}/postgres",
               "REDIS_HOST": f"127.0.0.1:{redis_port}", "TMPDIR": str(self.root), "LOG_ENABLED": "false"}
        self.log = self.root / "dev-env.log"
        node = subprocess.Popen([node_binary() or "node", "start.mjs"], cwd=HERE, env=env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=self.log.open("wb"), text=True)
        self.procs.append(node)
        line = _read_line(node, deadline)
        if not line:
            raise RuntimeError(f"dev-env did not start: {self.tail()}")
        self.urls = Urls(**json.loads(line))
        return self.urls

    def _start_postgres(self, port: int, deadline: float) -> None:
        data = self.root / "pg"
        data.mkdir()
        as_user: list[str] = []
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            shutil.chown(self.root, "postgres")
            shutil.chown(data, "postgres")
            as_user = ["runuser", "-u", "postgres", "--"]
        bindir = postgres_bin()
        assert bindir is not None
        subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                        "--no-sync"], check=True, capture_output=True, timeout=120)
        pg = subprocess.Popen([*as_user, str(bindir / "postgres"), "-D", str(data), "-p", str(port),
                               "-h", "127.0.0.1", "-k", str(data), "-c", "fsync=off", "-c", "max_connections=200"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(pg)
        wait_for_port(port, deadline, pg)

    def tail(self, lines: int = 15) -> str:
        if self.log is None or not self.log.exists():
            return "(no log)"
        return " | ".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        self.procs.clear()
        shutil.rmtree(self.root, ignore_errors=True)


def _read_line(proc: subprocess.Popen, deadline: float) -> str | None:
    """The first stdout line of ``proc`` before ``deadline``, or None if it exits or the time runs out."""
    import selectors

    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if sel.select(timeout=1.0):
                line = proc.stdout.readline()
                return line.strip() or None
            if proc.poll() is not None:
                return None
    return None
