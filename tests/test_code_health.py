"""The house rules, checked with the suite: layers that only point down (import-linter), types
(mypy), no oversized module, no ``assert`` doing a runtime check, no function-local import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPLICATION = [
    *("core", "models", "loaders", "realtime", "services"),
    *("schema", "resolvers", "subgraph", "demo", "server"),
]
MAX_LINES = 500


def application_files() -> list[Path]:
    return sorted(path for package in APPLICATION for path in (ROOT / package).rglob("*.py"))


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def test_application_files_are_found() -> None:
    assert len(application_files()) > 50


def test_imports_follow_the_layers() -> None:
    result = _run(str(Path(sys.executable).parent / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_types_check() -> None:
    result = _run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", application_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_is_small_and_checks_without_assert(path: Path) -> None:
    text = path.read_text()
    assert text.count("\n") <= MAX_LINES, f"{path.name} has over {MAX_LINES} lines: split it"
    tree = ast.parse(text)
    asserts = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)]
    assert not asserts, f"assert used for a runtime check at lines {asserts} (python -O drops it)"
    local_imports = [
        inner.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for inner in ast.walk(node)
        if isinstance(inner, ast.Import | ast.ImportFrom)
    ]
    assert not local_imports, f"function-local imports at lines {local_imports}: fix the layering instead"
