"""Save and load a trained component's object in Rasa's model storage (one joblib file)."""

from __future__ import annotations

from typing import Any, Optional

import joblib
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage


def save(model_storage: ModelStorage, resource: Resource, name: str, value: Any) -> None:
    """Store `value` as `name` in the component's resource."""
    with model_storage.write_to(resource) as directory:
        joblib.dump(value, directory / name)


def load_or_none(model_storage: ModelStorage, resource: Resource, name: str) -> Optional[Any]:
    """What `save` stored, or None when the component was never trained (no resource)."""
    try:
        with model_storage.read_from(resource) as directory:
            return joblib.load(directory / name)
    except ValueError:
        return None
