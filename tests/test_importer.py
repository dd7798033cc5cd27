"""`rasa train` reads the project's files through clinic_nlp.importer: the same data, faster."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.nlu.training_data import loading
from rasa.shared.utils.io import read_model_configuration

from clinic.paths import PROJECT_DIR

CONFIG = PROJECT_DIR / "config.yml"


def importer(importers: Optional[List[Dict[str, Any]]]) -> TrainingDataImporter:
    config = read_model_configuration(str(CONFIG))
    if importers is None:
        config.pop("importers", None)
    else:
        config["importers"] = importers
    return TrainingDataImporter.load_from_dict(
        config, str(CONFIG), str(PROJECT_DIR / "domain.yml"), [str(PROJECT_DIR / "data")]
    )


@pytest.fixture(scope="module")
def ours() -> TrainingDataImporter:
    return importer(read_model_configuration(str(CONFIG))["importers"])


def test_the_project_trains_through_the_clinic_importer() -> None:
    names = [entry["name"] for entry in read_model_configuration(str(CONFIG))["importers"]]
    assert names == ["clinic_nlp.importer.ClinicFileImporter"]


def test_it_gives_rasa_the_same_training_data_as_rasas_own_importer(
    ours: TrainingDataImporter,
) -> None:
    default = importer(None)
    # Rasa's cache keys are these fingerprints: the same data trains the same model.
    assert ours.get_nlu_data("en").fingerprint() == default.get_nlu_data("en").fingerprint()
    assert ours.get_domain().fingerprint() == default.get_domain().fingerprint()
    assert ours.get_stories().fingerprint() == default.get_stories().fingerprint()
    assert ours.get_config() == default.get_config()


def test_a_changed_copy_of_an_example_leaves_the_original_as_it_was(
    ours: TrainingDataImporter,
) -> None:
    original = ours.get_nlu_data("en").training_examples[0]
    before = (dict(original.data), original.fingerprint(), set(original.output_properties))
    copied = copy.deepcopy(original)
    copied.set("text", "something else", add_to_output=True)
    copied.data.setdefault("metadata", {})["note"] = "x"
    copied.features.append("feature")
    assert (dict(original.data), original.fingerprint(), set(original.output_properties)) \
        == before
    assert original.features == [] and copied.fingerprint() != original.fingerprint()


def test_an_example_changed_and_changed_back_has_rasas_fingerprint_each_time(
    ours: TrainingDataImporter,
) -> None:
    # Rasa sets an FAQ example's response text once per variant of the answer; the
    # fingerprint an example takes from an earlier one with the same content must be the one
    # Rasa computes (Rasa's cache keys are made of them).
    from rasa.shared.nlu.training_data.message import Message

    from clinic_nlp.importer import _ExampleMessage

    example = next(e for e in ours.get_nlu_data("en").training_examples
                   if isinstance(e, _ExampleMessage) and e.get("response"))
    copied = copy.deepcopy(example)
    for text in ("another answer", example.get("response"), "another answer"):
        copied.set("response", text)
        assert copied.fingerprint() == Message(data=dict(copied.data)).fingerprint()
    copied.set("entities", [{"entity": "condition", "value": "ptsd", "start": 0, "end": 4}])
    assert copied.fingerprint() == Message(data=dict(copied.data)).fingerprint()


def test_each_data_file_is_read_once_then_from_the_cache_until_it_changes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from clinic_nlp import importer as clinic_importer

    read: List[str] = []
    real_load_data = loading.load_data

    def counting_load_data(resource_name: str, *args: Any, **kwargs: Any) -> Any:
        read.append(resource_name)
        return real_load_data(resource_name, *args, **kwargs)

    monkeypatch.setattr(loading, "load_data", counting_load_data)
    monkeypatch.setattr(clinic_importer, "CACHE_DIR", tmp_path / "nlu-cache")
    fresh = importer([{"name": "clinic_nlp.importer.ClinicFileImporter"}])
    fresh.get_domain()
    first = fresh.get_nlu_data("en")
    fresh.get_nlu_data()
    nlu_files = sorted(str(path) for path in (PROJECT_DIR / "data" / "nlu").glob("*.yml"))
    assert sorted(read) == nlu_files

    read.clear()
    cached = importer([{"name": "clinic_nlp.importer.ClinicFileImporter"}]).get_nlu_data("en")
    assert read == [] and cached.fingerprint() == first.fingerprint()

    # A changed file (here: its stored key no longer matches) is parsed again.
    stored = sorted((tmp_path / "nlu-cache").iterdir())[0]
    with stored.open("rb") as file:
        _, data = pickle.load(file)
    with stored.open("wb") as file:
        pickle.dump(("another version", data), file)
    again = importer([{"name": "clinic_nlp.importer.ClinicFileImporter"}]).get_nlu_data("en")
    assert len(read) == 1 and again.fingerprint() == first.fingerprint()
