"""Save and load a trained component's object in Rasa's model storage (one file).

Saved with Python's own (C) pickler and light gzip compression, not `joblib.dump`: joblib's
pickler is written in Python (1 s for the two classifiers' vocabularies against 0.15 s), and
Rasa packs the model into a `.tar.gz` at gzip's slowest level, which took 2.3 s over the 16 MB
of uncompressed pickles and 0.15 s over compressed ones. They are read back with the C
unpickler too: `joblib.load` unpickles in Python (1.7 s of a server's start for the two
classifiers against about 0.2 s); it still reads the files of older models `joblib.dump` wrote.
"""

from __future__ import annotations

import gzip
import hashlib
import pickle
from pathlib import Path
from typing import Any, Optional

import joblib
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage


def save(model_storage: ModelStorage, resource: Resource, name: str, value: Any) -> None:
    """Store `value` as `name` in the component's resource."""
    with model_storage.write_to(resource) as directory:
        with gzip.open(directory / name, "wb", compresslevel=1) as file:
            pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)


def load_or_none(model_storage: ModelStorage, resource: Resource, name: str) -> Optional[Any]:
    """What `save` stored, or None when the component was never trained (no resource)."""
    try:
        with model_storage.read_from(resource) as directory:
            return _read(directory / name)
    except ValueError:
        return None


def _read(path: Path) -> Any:
    with path.open("rb") as file:
        compressed = file.read(2) == b"\x1f\x8b"
    if compressed:
        try:
            with gzip.open(path, "rb") as file:
                return pickle.load(file)
        except (pickle.UnpicklingError, AttributeError, EOFError, ImportError):
            pass  # a file joblib compressed: joblib reads it
    return joblib.load(path)


def code_fingerprint(*source_files: str) -> str:
    """A hash of the source files a trained component's result depends on.

    For `GraphComponent.fingerprint_addon`: Rasa's training cache knows a component by its
    config and its inputs only, so without it a change to the training code (how a message is
    split into segments, say) would silently reuse the component trained by the old code.
    """
    digest = hashlib.sha256()
    for source in source_files:
        digest.update(Path(source).read_bytes())
    return digest.hexdigest()
