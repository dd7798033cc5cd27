"""Reading a YAML file that staff edit, with an error that names the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Type

import yaml


def read_yaml(path: Path, error: Type[Exception], what: str = "file") -> Any:
    """The file's parsed content; `error` naming the file if it is missing or not YAML."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise error(f"{path}: {what} not found") from exc
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from exc
