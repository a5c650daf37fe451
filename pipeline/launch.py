"""Starting the Streamlit dashboard as its own process, pointed at one database file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"


def dashboard_command(db_path: Path, port: int = 8501, headless: bool = False,
                      address: str = "127.0.0.1") -> list[str]:
    if not 1 <= port <= 65535:  # Streamlit would start, fail to bind and print a traceback
        raise ValueError(f"port {port} is not between 1 and 65535")
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.port", str(port), "--server.address", address,
        "--server.headless", "true" if headless else "false",
        "--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal",
        "--", "--db", str(Path(db_path).resolve()),
    ]


def run_dashboard(db_path: Path, port: int = 8501, config: Path | None = None, headless: bool = True) -> int:
    """Run until stopped; returns Streamlit's exit status.

    Headless by default: otherwise Streamlit's first run stops at an e-mail prompt on the
    terminal, and the caller prints the address to open anyway.
    """
    env = dict(os.environ)
    if config is not None:
        env["PEERDESK_CONFIG"] = str(Path(config).resolve())
    try:
        return subprocess.call(dashboard_command(db_path, port, headless), env=env)
    except KeyboardInterrupt:
        return 0
