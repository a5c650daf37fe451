"""The dashboard's server imports what the pages need while it starts, not when the first browser asks.

A page's first view under plain ``streamlit run`` paid for pandas, altair and the query layer while the person
waited (issue #20, part 4: 7.0 s to the first page under `peerdesk demo` without this, 4.4 s with it, same load).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from pipeline.cli.launch import dashboard_command

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "dashboard"


def _page_imports() -> set[str]:
    """Every module the entry file, the pages and the dashboard's own modules import at their top."""
    names: set[str] = set()
    for path in [DASHBOARD / "app.py", *sorted((DASHBOARD / "views").glob("*.py"))]:
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                if node.module == "dashboard":
                    names |= {f"dashboard.{alias.name}" for alias in node.names}
    return names


def test_the_server_is_started_through_the_warming_entry() -> None:
    command = dashboard_command(ROOT / "x.duckdb", 8599, headless=True)
    assert command[1:5] == ["-m", "dashboard.server", "run", str(DASHBOARD / "app.py")]


def test_warming_imports_everything_the_pages_import() -> None:
    wanted = sorted(_page_imports() - {"os", "sys", "datetime", "pathlib", "__future__"})
    assert "pandas" in wanted and "dashboard.charts" in wanted  # the parse found the pages' imports
    code = ("import json, sys\nfrom dashboard import server\nserver._warm()\n"
            f"print(json.dumps([m for m in {wanted!r} if m not in sys.modules]))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []
