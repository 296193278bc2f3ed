"""Dependencies point one way: gateway -> directory, consent -> adapters; kernel under all.

Reads every module's imports (including those inside functions) and fails on any import
that goes against the direction in ARCHITECTURE.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("kernel", "adapters", "directory", "consent", "gateway")
ALLOWED = {
    "kernel": set(),
    "adapters": set(),
    "directory": {"kernel", "adapters"},
    "consent": {"kernel", "adapters"},
    "gateway": {"kernel", "adapters", "directory", "consent"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_point_one_way(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, package
    wrong = {
        str(path.relative_to(ROOT)): sorted(_imports(path) - ALLOWED[package] - {package})
        for path in files
    }
    assert {name: bad for name, bad in wrong.items() if bad} == {}


def test_only_the_settings_module_reads_the_environment() -> None:
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text()
            if ("os.environ" in text or "os.getenv" in text) and path.name != "settings.py":
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_services_never_commit() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("service.py")
        if ".commit()" in path.read_text()
    ]
    assert offenders == []
