"""The benchmarks run without the test extras: no benchmark imports pytest, however indirectly.

Each benchmark module is imported in a fresh interpreter where ``pytest`` cannot be imported, together with every
module it imports at any depth (an import inside a function runs only when the benchmark gets there, minutes in).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = sorted((ROOT / "tests" / "benchmarks").glob("*.py"))

BLOCKER = """
import importlib, sys

class NoPytest:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"pytest", "_pytest"}:
            raise ImportError(f"{name} is not installed (blocked)")
        return None

sys.meta_path.insert(0, NoPytest())
for name in sys.argv[1:]:
    importlib.import_module(name)
"""


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _imported(path: Path) -> list[str]:
    """The modules ``path`` imports anywhere in its body, as absolute names, in order."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module != "__future__":
            names.append(node.module)
    return list(dict.fromkeys(names))


def test_there_are_benchmarks_to_check() -> None:
    assert len(BENCHMARKS) >= 5, BENCHMARKS


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda p: p.stem)
def test_a_benchmark_imports_without_pytest(path: Path) -> None:
    names = [_module_name(path), *_imported(path)]
    done = subprocess.run([sys.executable, "-c", BLOCKER, *names], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1:]
