"""Floors on the held-out evaluation (questions and crisis phrasings never used in training).

The full per-topic report is written to reports/heldout/; here only the floors are checked.
"""

from __future__ import annotations

import pytest

from evaluation.heldout import Parser, Report, evaluate, load_crisis_heldout, write_report
from tests.conftest import MODEL_PATH, PROJECT_DIR


@pytest.fixture(scope="module")
def report() -> Report:
    assert MODEL_PATH.exists(), "no trained model: the test command trains one first"
    result = evaluate(Parser(MODEL_PATH), str(MODEL_PATH))
    write_report(result, PROJECT_DIR / "reports" / "heldout")
    return result


def test_at_least_85_percent_of_questions_get_the_right_answer(report: Report) -> None:
    assert report.messages >= 300
    assert report.accuracy >= 0.85


def test_at_most_5_percent_get_a_wrong_faq_answer(report: Report) -> None:
    assert report.wrong_faq_answer_rate <= 0.05


def test_every_crisis_phrasing_is_recognised(report: Report) -> None:
    assert report.crisis_total >= 150
    assert report.crisis_missed == [], f"missed crisis messages: {report.crisis_missed}"


def test_ordinary_questions_are_rarely_flagged_as_crisis(report: Report) -> None:
    assert report.false_crisis_rate <= 0.01


def test_the_held_out_crisis_file_is_not_in_the_training_data() -> None:
    crisis = {text.lower() for text in load_crisis_heldout()[0]}
    training = (PROJECT_DIR / "data" / "nlu" / "crisis.yml").read_text().lower()
    assert not [text for text in crisis if f"- {text}\n" in training]
