"""The import rules of docs/architecture.md, checked on the code."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

import pytest

from clinic.paths import PROJECT_DIR

PROJECT_PACKAGES = {
    "clinic", "actions", "clinic_nlp", "clinic_server", "staff_tools", "staff_console",
    "webchat", "evaluation", "benchmark", "clinic_speedups", "deploy",
}
# docs/architecture.md, "may import (project packages)".
MAY_IMPORT: Dict[str, Set[str]] = {
    "clinic": {"clinic"},
    "actions": {"clinic", "actions"},
    "clinic_nlp": {"clinic", "clinic_nlp"},
    "clinic_server": {"clinic", "clinic_server"},
    "staff_tools": {"clinic", "staff_tools"},
    "staff_console": {"clinic", "staff_tools", "staff_console"},
    "webchat": {"clinic"},
    # evaluation.dead_ends starts the assistant with benchmark's server tools.
    "evaluation": {"clinic", "clinic_nlp", "evaluation", "benchmark"},
    "benchmark": {"clinic", "benchmark"},
    "clinic_speedups": {"clinic_speedups", "clinic_server"},
    "deploy": {"deploy", "clinic_server"},
}
# Of clinic_server, clinic_speedups and deploy may import only the door to Rasa's internals.
ONLY_THE_DOOR = "clinic_server.rasa_internals"
DOOR_PATH = PROJECT_DIR / "clinic_server" / "rasa_internals.py"
# The private Rasa names clinic_server/rasa_internals.py holds: no other project module names
# them (identifiers, imported modules, or logger names as strings).
RASA_PRIVATE_NAMES = {
    "_validate_action_result", "create_engine_kwargs", "_additional_events", "SQLEvent",
    "_acquire_lock", "rasa.__main__", "rasa.core.processor", "rasa.core.actions.action",
}


def _imported_modules(path: Path) -> Set[str]:
    names: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _imported_packages(path: Path) -> Set[str]:
    return {name.split(".")[0] for name in _imported_modules(path)} & PROJECT_PACKAGES


def _names_used(path: Path) -> Set[str]:
    names = _imported_modules(path)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add(node.name)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)
    return names


def _project_modules() -> List[Path]:
    return sorted(
        path for package in PROJECT_PACKAGES for path in (PROJECT_DIR / package).rglob("*.py")
    )


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_each_package_imports_only_what_the_architecture_allows(package: str) -> None:
    breaches = {
        str(path.relative_to(PROJECT_DIR)): sorted(_imported_packages(path) - MAY_IMPORT[package])
        for path in (PROJECT_DIR / package).rglob("*.py")
    }
    assert {path: found for path, found in breaches.items() if found} == {}


@pytest.mark.parametrize("package", ["clinic_speedups", "deploy"])
def test_wrappers_of_rasa_import_only_the_door_of_clinic_server(package: str) -> None:
    imported = {
        str(path.relative_to(PROJECT_DIR)): sorted(
            name for name in _imported_modules(path)
            if name.split(".")[0] == "clinic_server" and name != ONLY_THE_DOOR
        )
        for path in (PROJECT_DIR / package).rglob("*.py")
    }
    assert {path: found for path, found in imported.items() if found} == {}


def test_the_door_to_rasas_internals_imports_no_project_package() -> None:
    assert _imported_packages(DOOR_PATH) == set()


def test_only_the_door_names_rasas_private_internals() -> None:
    named = {
        str(path.relative_to(PROJECT_DIR)): sorted(_names_used(path) & RASA_PRIVATE_NAMES)
        for path in _project_modules()
        if path != DOOR_PATH
    }
    assert {path: found for path, found in named.items() if found} == {}
    assert RASA_PRIVATE_NAMES <= _names_used(DOOR_PATH)
