"""Floors on the held-out evaluation (questions and crisis phrasings never used in training).

The full per-topic report is written to reports/heldout/; here only the floors are checked.
"""

from __future__ import annotations

import pytest

from evaluation.heldout import Parser, Report, evaluate, write_report
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
