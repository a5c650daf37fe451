"""Starting the Streamlit dashboard as its own process, pointed at one database file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import webbrowser
from pathlib import Path

from pipeline.cli.options import DASHBOARD_PORT

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
ADDRESS = "127.0.0.1"  # this machine only: the dashboard shows what the curator stores, to the curator


def dashboard_command(db_path: Path, port: int = DASHBOARD_PORT, headless: bool = False,
                      address: str = ADDRESS, welcome: bool = True) -> list[str]:
    """Streamlit's command line; without ``welcome`` it prints no address of its own (peerdesk says when to go)."""
    if not 1 <= port <= 65535:  # Streamlit would start, fail to bind and print a traceback
        raise ValueError(f"port {port} is not between 1 and 65535")
    return [
        sys.executable, "-m", "dashboard.server", "run", str(APP),
        "--server.port", str(port), "--server.address", address,
        "--server.headless", "true" if headless else "false",
        "--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal",
        *([] if welcome else ["--logger.hideWelcomeMessage", "true"]),
        "--", "--db", str(Path(db_path).resolve()),
    ]


def port_is_free(port: int, address: str = ADDRESS) -> bool:
    with socket.socket() as s:
        try:
            s.bind((address, port))
        except OSError:
            return False
    return True


def check_port(port: int, address: str = ADDRESS) -> int | None:
    """None when ``port`` is free, else the next free port to suggest."""
    if port_is_free(port, address):
        return None
    return next((p for p in range(port + 1, min(port + 100, 65536)) if port_is_free(p, address)), None) or 0


def dashboard_url(port: int) -> str:
    """Where the dashboard answers: what is opened in the browser and what the terminal says."""
    return f"http://{ADDRESS}:{port}"


def can_open_browser() -> bool:
    """A browser can be shown: a desktop session (macOS, Windows, or X11/Wayland), not ssh or a container."""
    if sys.platform in ("darwin", "win32"):
        return not os.environ.get("SSH_CONNECTION")
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _open_when_up(url: str, proc: subprocess.Popen, deadline: float = 60.0) -> None:
    """Open ``url`` in the browser once the server answers (not before: the tab would show an error)."""
    stop = time.monotonic() + deadline
    while proc.poll() is None and time.monotonic() < stop:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                webbrowser.open(url)
                return
        except OSError:
            time.sleep(0.3)


def start_dashboard(db_path: Path, port: int = DASHBOARD_PORT, config: Path | None = None,
                    headless: bool = True, welcome: bool = True) -> subprocess.Popen:
    """Start the Streamlit server and return at once, so work can go on while it starts (``peerdesk demo`` loads
    its sample meanwhile, with ``welcome`` off: Streamlit must not print the address before the data is in).
    Headless always: otherwise Streamlit's first run stops at an e-mail prompt."""
    env = dict(os.environ)
    if config is not None:
        env["PEERDESK_CONFIG"] = str(Path(config).resolve())
    return subprocess.Popen(dashboard_command(db_path, port, headless, welcome=welcome), env=env)


def stop(proc: subprocess.Popen) -> None:
    """End a server this process started, and wait for it (no orphan left holding the port)."""
    proc.terminate()
    proc.wait()


def serve(proc: subprocess.Popen, port: int, open_browser: bool = False) -> int:
    """Wait on a started server until it stops; returns Streamlit's exit status (0 after Ctrl-C).

    With ``open_browser`` and a display, peerdesk opens the page itself once the server answers.
    """
    if open_browser and can_open_browser():
        threading.Thread(target=_open_when_up, args=(dashboard_url(port), proc), daemon=True).start()
    # Stopped by a service manager or ``kill`` (SIGTERM to this process alone), the server goes too: left running,
    # it would hold the port and the file with nobody to stop it.
    on_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminated) if on_main else None
    try:
        return proc.wait()
    except KeyboardInterrupt:
        stop(proc)
        return 0
    except _Terminated:
        stop(proc)
        return 128 + signal.SIGTERM
    finally:
        if on_main:
            signal.signal(signal.SIGTERM, previous)


class _Terminated(Exception):
    """SIGTERM arrived while a server was being served."""


def _terminated(signum: int, frame: object) -> None:
    raise _Terminated


def run_dashboard(db_path: Path, port: int = DASHBOARD_PORT, config: Path | None = None, headless: bool = True,
                  open_browser: bool = False) -> int:
    """Start the server and run it until stopped; returns Streamlit's exit status."""
    return serve(start_dashboard(db_path, port, config, headless), port, open_browser)
