"""Issue #15's layout rules hold, read from the files so a breach fails here, not in review.

- no folder holds more than 15 modules, and no hand-written module is over 450 lines;
- each platform package's ``__init__`` docstring is its table of contents: every module listed once, nothing stale.

Data tables may be longer (``DATA_TABLES``): a table of rules reads best whole.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROOTS = ("collectors", "pipeline", "dashboard")
MAX_MODULES = 15
MAX_LINES = 450
TABLES_OF_CONTENTS = ("collectors/bluesky", "collectors/mastodon")
DATA_TABLES = {"pipeline/detector/rules.py"}  # the named help-request rules in eleven languages


def _folders() -> list[Path]:
    return sorted({p.parent for root in ROOTS for p in (ROOT / root).rglob("*.py")})


def _modules(folder: Path) -> list[str]:
    """The folder's modules and subpackages, by the name an import uses."""
    files = [p.stem for p in folder.glob("*.py") if p.stem != "__init__"]
    packages = [p.name for p in folder.iterdir() if (p / "__init__.py").is_file()]
    return sorted(files + packages)


def test_no_folder_holds_more_than_15_modules() -> None:
    crowded = {str(f.relative_to(ROOT)): n for f in _folders() if (n := len(_modules(f))) > MAX_MODULES}
    assert crowded == {}


def test_no_module_is_over_450_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for root in ROOTS for p in (ROOT / root).rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
            and str(p.relative_to(ROOT)) not in DATA_TABLES}
    assert long == {}


def test_each_platform_package_lists_its_modules() -> None:
    for folder in TABLES_OF_CONTENTS:
        doc = ast.get_docstring(ast.parse((ROOT / folder / "__init__.py").read_text(encoding="utf-8"))) or ""
        listed = re.findall(r"^- ``(\w+)``:", doc, re.M)
        assert sorted(listed) == _modules(ROOT / folder), folder
