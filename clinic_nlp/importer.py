"""How `rasa train` reads the project's files: Rasa's own reader, each file read once.

Named in config.yml under `importers:` (Rasa's documented way to change how training data is
read). It reads the same files the same way as Rasa's default `RasaFileImporter`; only the
repeated work goes:

- Rasa's wrappers around the importer ask it for the NLU data twice (once as `get_nlu_data()`,
  once as `get_nlu_data("en")`, which Rasa's cache keeps apart) and for the domain once more
  for each stories file read; every YAML file was parsed and schema-checked twice. Here each is
  read once per training.
- Every wrapper merges what it got into a new `TrainingData`, and merging deep-copies every
  example and computes every example's fingerprint again: seven times over 9,000 examples, a
  fifth of a retraining after one new example. The examples read here copy themselves cheaply
  (a new dictionary of their properties; strings shared as Python shares strings, anything
  else still deep-copied, so a copy changed by a component never changes the original, as
  with a deep copy) and keep their fingerprint while nothing in them changed.
- Parsing and schema-checking the YAML files was a second of every training though one file
  changed: each file's parsed training data is kept in build/nlu-cache/ (pickled), keyed by
  the file's bytes, its path, the language, Rasa's version and this module, and a file is
  parsed again only when one of them changed. A file read from there gives no YAML warnings
  again (`make validate` checks the data).

The training data, and so the trained model and Rasa's cache keys, are the same as with the
default importer (tests/test_importer.py).
"""

from __future__ import annotations

import copy
import hashlib
import pickle
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import rasa
from rasa.shared.core.domain import Domain
from rasa.shared.importers.rasa import RasaFileImporter
from rasa.shared.nlu.training_data import loading
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic.paths import PROJECT_DIR

_SHARED = (str, int, float, bool, type(None))
CACHE_DIR = PROJECT_DIR / "build" / "nlu-cache"


def _copy(value: Any, memo: Dict[int, Any]) -> Any:
    """A deep copy of `value`, made quickly when it holds only strings and numbers."""
    if isinstance(value, _SHARED):
        return value
    if type(value) in (list, set, tuple) and all(isinstance(item, _SHARED) for item in value):
        return type(value)(value)
    if type(value) is dict:
        return {key: _copy(item, memo) for key, item in value.items()}
    return copy.deepcopy(value, memo)


# The fingerprints of examples' contents in this process (see `_ExampleMessage.fingerprint`).
_FINGERPRINTS: Dict[frozenset, str] = {}


class _ExampleMessage(Message):
    """A training example whose copies share its strings instead of copying them."""

    _cached_fingerprint: Optional[str]  # Message's, declared for the type checker

    def __deepcopy__(self, memo: Dict[int, Any]) -> _ExampleMessage:
        copied = self.__class__.__new__(self.__class__)
        copied.__dict__.update((name, _copy(value, memo)) for name, value in self.__dict__.items())
        return copied

    def fingerprint(self) -> str:
        """`Message.fingerprint`, looked up when an example with the same content had one.

        Rasa sets each FAQ example's response text once per variant of the answer (English,
        then Spanish) every time it builds a `TrainingData`: the text changes and changes back,
        and each copy computed its fingerprint again (54,000 times a training, 1.4 s). The
        fingerprint depends on the content alone, so an example without features whose
        properties are plain values takes it from the last example with the same ones.
        """
        if self._cached_fingerprint is None and not self.features:
            try:
                content = frozenset(
                    (name, type(value), value) for name, value in self.data.items())
            except TypeError:  # a list or dictionary among the properties (entities)
                return super().fingerprint()
            known = _FINGERPRINTS.get(content)
            if known is None:
                known = _FINGERPRINTS[content] = super().fingerprint()
            self._cached_fingerprint = known
        return super().fingerprint()

    def set(self, prop: str, info: Any, add_to_output: bool = False) -> None:
        """`Message.set`, keeping the cached fingerprint when a text is set to itself.

        Rasa strips every example's intent each time it builds a `TrainingData` (at every
        merge), and `Message.set` forgets the fingerprint even when nothing changed: every
        example's fingerprint was computed again seven times.
        """
        unchanged = (
            isinstance(info, str) and isinstance(self.data.get(prop), str)
            and self.data[prop] == info
            and (not add_to_output or prop in self.output_properties)
        )
        if not unchanged:
            super().set(prop, info, add_to_output)


class ClinicFileImporter(RasaFileImporter):
    """`RasaFileImporter` that reads each file once and gives cheaply copied examples."""

    def __init__(
        self,
        config_file: Optional[str] = None,
        domain_path: Optional[str] = None,
        training_data_paths: Optional[Union[List[str], str]] = None,
    ) -> None:
        super().__init__(config_file, domain_path, training_data_paths)
        self._nlu_data: Dict[str, TrainingData] = {}
        self._domain: Optional[Domain] = None

    def get_nlu_data(self, language: Optional[str] = "en") -> TrainingData:
        """The NLU training data, read once per language.

        As Rasa's `training_data_from_paths`: every file read, then merged in order.
        """
        key = language or "en"
        if key not in self._nlu_data:
            self._nlu_data[key] = TrainingData().merge(
                *(_read_nlu_file(Path(path), language) for path in self._nlu_files)
            )
        return self._nlu_data[key]

    def get_domain(self) -> Domain:
        """The domain, read once."""
        if self._domain is None:
            self._domain = super().get_domain()
        return self._domain


def _read_nlu_file(path: Path, language: Optional[str]) -> TrainingData:
    """One file's training data (as Rasa's `loading.load_data`), stored in build/nlu-cache/.

    The stored copy is used while the file, its path, the language, Rasa's version and this
    module are as when it was stored.
    """
    content = path.read_bytes()
    key = hashlib.sha256(b"\0".join([
        content, str(path.resolve()).encode(), str(language).encode(),
        rasa.__version__.encode(), Path(__file__).read_bytes(),
    ])).hexdigest()
    stored = CACHE_DIR / f"{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]}.pickle"
    try:
        with stored.open("rb") as file:
            stored_key, data = pickle.load(file)
        if stored_key == key and isinstance(data, TrainingData):
            return data
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, AttributeError):
        pass  # not stored yet, or unreadable: parse the file and store it again
    data = loading.load_data(str(path), language)
    for example in data.training_examples:
        if type(example) is Message:
            example.__class__ = _ExampleMessage
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with stored.open("wb") as file:
        pickle.dump((key, data), file, protocol=pickle.HIGHEST_PROTOCOL)
    return data
