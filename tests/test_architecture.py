"""The import rules of docs/architecture.md, checked on the code."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Set

import pytest

from clinic.paths import PROJECT_DIR

PROJECT_PACKAGES = {
    "clinic", "actions", "clinic_nlp", "clinic_server", "staff_tools", "webchat",
    "evaluation", "benchmark", "clinic_speedups", "deploy",
}
# docs/architecture.md, "may import (project packages)".
MAY_IMPORT: Dict[str, Set[str]] = {
    "clinic": {"clinic"},
    "actions": {"clinic", "actions"},
    "clinic_nlp": {"clinic", "clinic_nlp"},
    "clinic_server": {"clinic", "clinic_server"},
    "staff_tools": {"clinic", "staff_tools"},
    "webchat": {"clinic"},
    "evaluation": {"clinic", "clinic_nlp", "evaluation"},
    "benchmark": {"clinic", "benchmark"},
    "clinic_speedups": {"clinic_speedups"},
    "deploy": {"deploy"},
}


def _imported_packages(path: Path) -> Set[str]:
    names: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & PROJECT_PACKAGES


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_each_package_imports_only_what_the_architecture_allows(package: str) -> None:
    breaches = {
        str(path.relative_to(PROJECT_DIR)): sorted(_imported_packages(path) - MAY_IMPORT[package])
        for path in (PROJECT_DIR / package).rglob("*.py")
    }
    assert {path: found for path, found in breaches.items() if found} == {}
