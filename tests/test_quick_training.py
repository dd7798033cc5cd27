"""`make train-quick` (scripts/train.sh --quick): staff add a phrasing and see it learned in a
short training; a change that needs a full training gets one. Runs on a copy of the project,
so the real model is untouched."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List

import pytest

from evaluation.heldout import Parser, label_of
from tests.conftest import PROJECT_DIR

LAST_FULL_MODEL = PROJECT_DIR / "models" / "last-full-training.tar.gz"
# What training reads: the data, the settings of the pipeline and the code it runs.
PROJECT_PARTS = ["config.yml", "domain.yml", "data", "clinic_nlp", "patterns", "scripts"]
# Before the example below is added, the model takes this question for a safety question.
NEW_PHRASING = "have the feds okayed this"


def link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system
        shutil.copy2(source, target)


def copy_project(target: Path) -> Path:
    """The parts of the project that training needs, with the last full model."""
    assert LAST_FULL_MODEL.exists(), "no full training yet: the test command trains first"
    target.mkdir(parents=True, exist_ok=True)
    for part in PROJECT_PARTS:
        source = PROJECT_DIR / part
        if source.is_dir():
            shutil.copytree(source, target / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / part)
    (target / ".venv").symlink_to(PROJECT_DIR / ".venv")
    shutil.copytree(PROJECT_DIR / "build" / "spacy", target / "build" / "spacy")
    link_or_copy(LAST_FULL_MODEL, target / "models" / LAST_FULL_MODEL.name)
    shutil.copy2(PROJECT_DIR / "models" / ".pipeline_fingerprint", target / "models")
    return target


def add_examples(project: Path, topic: str, examples: List[str]) -> None:
    """Add phrasings under an existing `faq/<topic>` block of data/nlu/faq.yml."""
    faq = project / "data" / "nlu" / "faq.yml"
    header = f"- intent: faq/{topic}\n  examples: |\n"
    text = faq.read_text()
    assert header in text
    lines = "".join(f"    - {example}\n" for example in examples)
    faq.write_text(text.replace(header, header + lines, 1))


def train(project: Path, *args: str, env: Dict[str, str] | None = None) -> str:
    """Run scripts/train.sh in the copy; its output (fails the test if training failed)."""
    result = subprocess.run(
        ["bash", "scripts/train.sh", *args], cwd=project, capture_output=True, text=True,
        timeout=1500, env={**os.environ, **(env or {})},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    return output


def training_record(project: Path) -> Dict[str, object]:
    return dict(json.loads((project / "models" / "training.json").read_text()))


def test_a_new_phrasing_is_learned_by_a_quick_training(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    add_examples(project, "fda_status", [NEW_PHRASING])

    train(project, "--quick")

    record = training_record(project)
    assert record["quick"] is True and record["from_scratch"] is False
    parser = Parser(project / "models" / "clinic.tar.gz")
    assert label_of(parser.parse(NEW_PHRASING))[0] == "faq/fda_status"
    # The rest of what it knew is still there.
    for question, answer in {
        "is ketamine FDA approved?": "faq/fda_status",
        "how much does it cost": "faq/cost_insurance",
        "what is ketamine": "faq/what_is",
        "I want to book a consultation": "book_consultation",
        "I want to end my life": "crisis",
    }.items():
        assert label_of(parser.parse(question))[0] == answer, question


def test_rasa_refuses_to_continue_training_when_a_topic_is_added(tmp_path: Path) -> None:
    """scripts/train.sh then trains in full: it recognises Rasa's refusal by these words."""
    project = copy_project(tmp_path)
    with (project / "data" / "nlu" / "faq.yml").open("a") as faq:
        faq.write("\n- intent: faq/companion\n  examples: |\n"
                  "    - can my partner come with me\n    - may a friend sit with me\n")
    domain = project / "domain.yml"
    domain.write_text(domain.read_text().replace(
        "responses:\n", "responses:\n  utter_faq/companion:\n    - text: Please call us.\n", 1))

    result = subprocess.run(
        [str(PROJECT_DIR / ".venv" / "bin" / "rasa"), "train", "--out", "models",
         "--finetune", f"models/{LAST_FULL_MODEL.name}", "--epoch-fraction", "0.2"],
        cwd=project, capture_output=True, text=True, timeout=600,
    )

    assert result.returncode != 0
    assert "Cannot finetune" in result.stdout + result.stderr


# The choices scripts/train.sh makes, with a stand-in for `rasa` that records how it was called.
FAKE_RASA = """#!/usr/bin/env bash
echo "$*" >> "$FAKE_RASA_CALLS"
if [[ " $* " == *" --finetune "* ]] && [ -n "${FAKE_CANNOT_FINETUNE:-}" ]; then
  echo "InvalidConfigException: Cannot finetune because NLU training data contains new labels"
  exit 1
fi
echo "Finished training component 'DIETClassifier'."
echo model > models/clinic.tar.gz
"""


@pytest.fixture
def fake_rasa(tmp_path: Path) -> Dict[str, str]:
    fake = tmp_path / "fake-rasa"
    fake.write_text(FAKE_RASA)
    fake.chmod(0o755)
    return {"RASA": str(fake), "FAKE_RASA_CALLS": str(tmp_path / "calls.txt")}


def calls(env: Dict[str, str]) -> List[str]:
    lines = Path(env["FAKE_RASA_CALLS"]).read_text().splitlines()
    Path(env["FAKE_RASA_CALLS"]).unlink()
    return lines


def test_quick_training_starts_from_the_last_full_training(
    tmp_path: Path, fake_rasa: Dict[str, str]
) -> None:
    project = copy_project(tmp_path / "project")
    train(project, "--quick", env=fake_rasa)
    [call] = calls(fake_rasa)
    assert "--finetune models/last-full-training.tar.gz --epoch-fraction 0.2" in call
    assert training_record(project)["quick"] is True

    # `make run` and `make reload` keep to quick trainings after one.
    train(project, "--same-way", env=fake_rasa)
    assert "--finetune" in calls(fake_rasa)[0]


def test_a_change_quick_training_cannot_take_gets_a_full_training(
    tmp_path: Path, fake_rasa: Dict[str, str]
) -> None:
    project = copy_project(tmp_path / "project")
    output = train(project, "--quick", env={**fake_rasa, "FAKE_CANNOT_FINETUNE": "1"})

    finetune, full = calls(fake_rasa)
    assert "--finetune" in finetune and "--finetune" not in full
    assert "needs a full training" in output
    assert training_record(project)["quick"] is False
    # The full model is the new starting point of later quick trainings.
    last_full = project / "models" / "last-full-training.tar.gz"
    assert last_full.samefile(project / "models" / "clinic.tar.gz")

    train(project, "--same-way", env=fake_rasa)
    assert "--finetune" not in calls(fake_rasa)[0]


def test_quick_training_without_an_earlier_full_training_trains_in_full(
    tmp_path: Path, fake_rasa: Dict[str, str]
) -> None:
    project = copy_project(tmp_path / "project")
    (project / "models" / "last-full-training.tar.gz").unlink()

    output = train(project, "--quick", env=fake_rasa)

    assert "--finetune" not in calls(fake_rasa)[0]
    assert "needs an earlier full training" in output
