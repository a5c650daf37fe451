"""The layers hold: read from the imports, so a wrong-way import fails here, not in review.

- ``collectors/`` speak the platforms' protocols and never touch the database or the pipeline;
- ``pipeline/`` holds no protocol client (httpx, atproto, websockets, Mastodon.py): it calls into ``collectors/``;
- ``dashboard/`` reads through the pipeline's query layer, never a collector;
- the core (``pipeline/core``, ``pipeline/detector``) imports no feature package;
- nothing imports the CLI but the CLI itself, and there is no import circle among the project's modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("collectors", "pipeline", "dashboard")
PROTOCOL_CLIENTS = {"httpx", "httpcore", "atproto", "atproto_client", "websockets", "mastodon", "requests"}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (a function-level import is still a dependency)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


MODULES = _modules()
IMPORTS = {name: _imports(path) for name, path in MODULES.items()}


def _top(name: str) -> str:
    return name.split(".")[0]


def test_collectors_never_touch_the_database_or_the_pipeline() -> None:
    wrong = {m: sorted(i for i in imported if _top(i) in {"duckdb", "pipeline", "dashboard", "streamlit"})
             for m, imported in IMPORTS.items() if m.startswith("collectors")}
    assert {m: i for m, i in wrong.items() if i} == {}


def test_the_pipeline_holds_no_protocol_client() -> None:
    wrong = {m: sorted(i for i in imported if _top(i) in PROTOCOL_CLIENTS)
             for m, imported in IMPORTS.items() if m.startswith("pipeline")}
    assert {m: i for m, i in wrong.items() if i} == {}


def test_the_dashboard_reads_through_the_pipeline_only() -> None:
    wrong = {m: sorted(i for i in imported if _top(i) in PROTOCOL_CLIENTS | {"collectors"})
             for m, imported in IMPORTS.items() if m.startswith("dashboard")}
    assert {m: i for m, i in wrong.items() if i} == {}


def test_nothing_imports_the_cli() -> None:
    cli = {m for m in MODULES if m == "pipeline.cli" or m.startswith("pipeline.cli.")}
    wrong = {m: sorted(i for i in imported if i in cli)
             for m, imported in IMPORTS.items() if m not in cli}
    assert {m: i for m, i in wrong.items() if i} == {}


def test_no_import_circles() -> None:
    graph = {m: {i for i in imported if i in MODULES and i != m} for m, imported in IMPORTS.items()}
    # ``from pipeline import store`` names the module pipeline.core.store: resolve package-level names to modules.
    for m, imported in IMPORTS.items():
        graph[m] |= {i for i in imported if i in MODULES and i != m}
    circles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []


# The core stands under every feature: it may use the detector (how a post is classified as it is stored) and
# the platform list, never a feature package, so a feature can be read, changed or removed on its own.
CORE = ("pipeline.core", "pipeline.detector")
BELOW_FEATURES = CORE + ("pipeline.platforms",)


def test_the_core_imports_no_feature() -> None:
    wrong = {m: sorted(i for i in imported if _top(i) == "pipeline" and i != "pipeline"
                       and not i.startswith(BELOW_FEATURES))
             for m, imported in IMPORTS.items() if m.startswith(CORE)}
    assert {m: i for m, i in wrong.items() if i} == {}
