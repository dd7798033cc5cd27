"""The domain core: importable without Rasa, topics checked on loading, one set of buttons."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from clinic.buttons import booking_quick_reply, person_quick_reply
from clinic.paths import DOMAIN_FILE, PROJECT_DIR
from clinic.topics import TopicsError, load_topics


def test_the_core_loads_neither_rasa_nor_rasa_sdk() -> None:
    code = (
        "import sys, clinic.buttons, clinic.launcher, clinic.parse_result, clinic.paths, "
        "clinic.phone, clinic.replies, clinic.settings, clinic.topics; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rasa', 'rasa_sdk')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=PROJECT_DIR, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_a_broken_topics_file_is_named_with_each_problem(tmp_path: Path) -> None:
    path = tmp_path / "faq_topics.yml"
    path.write_text('a:\n  title: "A?"\n  answered_by_article: "yes"\n  related: [b]\n')
    with pytest.raises(TopicsError) as error:
        load_topics(path)
    assert str(path) in str(error.value)
    assert "answered_by_article" in str(error.value) and "'b' as related" in str(error.value)
    with pytest.raises(TopicsError, match="not found"):
        load_topics(tmp_path / "nowhere.yml")


def test_the_domain_quick_replies_are_the_core_buttons() -> None:
    domain = yaml.safe_load(DOMAIN_FILE.read_text())
    greet = domain["responses"]["utter_greet"][0]["buttons"]
    rephrase = domain["responses"]["utter_please_rephrase"][0]["buttons"]
    assert booking_quick_reply() in greet
    assert person_quick_reply() in rephrase
