"""The semantic crisis detector: how it reads long messages and how the layers combine.

What it catches is tested on the trained model in tests/test_heldout_evaluation.py (dev sets)
and with fresh phrasings below; here, the parts that need no model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from clinic_nlp.crisis_detector import CHECK_IN, SemanticCrisisDetector
from clinic_nlp.text_models import CRISIS, NONE, _Features, segments


def test_a_visitors_message_gets_the_same_features_as_in_training() -> None:
    # At parse time the tf-idf of a few texts is computed without scikit-learn's overhead; it
    # must be the same numbers scikit-learn gives, or the classifiers would read it differently.
    training = [
        "how much does it cost", "is ketamine FDA approved?", "does it help with PTSD",
        "how much is one infusion", "I'm not going to hurt myself, just asking",
        "¿cuánto cuesta la infusión?", "what is ketamine", "does insurance cover it",
    ]
    features = _Features(embedding_weight=1.5, word_min_df=1)
    training_vectors = np.ones((len(training), 384), dtype=np.float32)
    learnt = features.fit_transform(training, training_vectors)
    # The features learnt from are the ones the fitted vocabularies give the same texts.
    again = features.transform(training * 5, np.vstack([training_vectors] * 5))[: len(training)]
    assert np.allclose(learnt.toarray(), again.toarray(), atol=1e-12)
    messages = ["How much does ONE infusion cost?? 😅", "¿Cuánto cuesta?", "zzz", ""]
    vectors = np.zeros((len(messages), 384), dtype=np.float32)
    slow = features.transform(messages * 10, np.vstack([vectors] * 10))[: len(messages)]
    fast = features.transform(messages, vectors)
    assert np.allclose(slow.toarray(), fast.toarray(), atol=1e-12)


def test_a_long_message_is_read_whole_then_sentence_by_sentence() -> None:
    text = "Do you take Aetna? I have thought about ending it. How many sessions are there?"
    parts = segments(text)
    assert parts[0] == text
    assert "I have thought about ending it." in parts


def test_a_question_after_a_comma_is_read_apart_from_what_comes_before() -> None:
    text = "I want to commit suicide, can ketamine stop that in time?"
    parts = segments(text)
    assert parts[0] == text
    assert "I want to commit suicide" in parts
    assert "can ketamine stop that in time?" in parts


def test_the_classifiers_retrain_when_their_training_code_changes(tmp_path: Path) -> None:
    from clinic_nlp.intent_classifier import EmbeddingIntentClassifier
    from clinic_nlp.stored import code_fingerprint

    first, second = tmp_path / "a.py", tmp_path / "b.py"
    first.write_text("SPLIT = ','\n")
    second.write_text("SPLIT = ';'\n")
    assert code_fingerprint(str(first)) != code_fingerprint(str(second))
    for component in (EmbeddingIntentClassifier, SemanticCrisisDetector):
        assert component.fingerprint_addon({})  # part of Rasa's cache key


def test_a_long_message_without_full_stops_is_read_a_few_words_at_a_time() -> None:
    words = " ".join(f"word{i}" for i in range(40))
    parts = segments(words)
    assert parts[0] == words and len(parts) > 3
    assert all(len(part.split()) <= 14 for part in parts[1:])


@pytest.fixture
def detector(tmp_path: Path) -> SemanticCrisisDetector:
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    config = {**SemanticCrisisDetector.get_default_config(),
              "crisis_threshold": 0.6, "check_in_threshold": 0.3, "rule_threshold": 0.4}
    return SemanticCrisisDetector(config, LocalModelStorage(tmp_path), Resource("d"))


def test_a_crisis_phrase_the_classifiers_cannot_judge_decides_alone(
    detector: SemanticCrisisDetector,
) -> None:
    from clinic_nlp.crisis_detector import rule_is_certain

    assert rule_is_certain("non ce la faccio più a vivere", {"matched_text": "a vivere"})
    assert not rule_is_certain("these copays will kill me", {"matched_text": "kill me"})
    assert detector.tier(0.05, True, rule_certain=True) == CRISIS
    # A few characters of Korean or Chinese are a whole sentence, not "too short to tell".
    assert rule_is_certain("죽고싶어요 진짜", {"matched_text": "죽 고 싶"})
    assert rule_is_certain("我想死", {"matched_text": "想 死"})
    assert not rule_is_certain("these copays are killing me 😭", {"matched_text": "kill me"})


@pytest.mark.parametrize(
    ("risk", "rule_matched", "tier"),
    [
        (0.9, False, CRISIS),  # the classifiers alone are sure
        (0.4, True, CRISIS),  # a crisis phrase and some risk: the full reply
        (0.35, True, CHECK_IN),  # a crisis phrase, too little risk: an idiom more likely
        (0.4, False, CHECK_IN),  # a weaker signal: the answer, no booking, 988
        (0.05, True, CHECK_IN),  # a crisis phrase both classifiers read as an idiom
        (0.05, False, NONE),
    ],
)
def test_the_layers_combine_into_one_decision(
    detector: SemanticCrisisDetector, risk: float, rule_matched: bool, tier: str
) -> None:
    assert detector.tier(risk, rule_matched) == tier


@pytest.mark.parametrize(
    ("risk", "tier"),
    [
        (0.7, CRISIS),  # the classifiers alone are sure: "he's going to kill me tonight"
        (0.4, CHECK_IN),  # enough with a phrase used in earnest, not with "gonna kill me"
        (0.05, CHECK_IN),  # still the check-in: the phrase is there
    ],
)
def test_a_phrase_the_examples_use_lightly_needs_the_classifiers_risk(
    detector: SemanticCrisisDetector, risk: float, tier: str
) -> None:
    assert detector.tier(risk, True, rule_light=True) == tier


@pytest.mark.parametrize(
    ("text", "empty"),
    [
        ("and the", True),
        ("so what was i", True),
        ("ok and?", True),
        ("I want to die", False),
        ("help", False),  # words that can carry a crisis alone are content
        ("why", False),
        ("k.m.s", False),  # an acronym's letters are not "i'm"'s m
        ("💀", False),  # emoji and digits are read by the classifiers
        ("911", False),
    ],
)
def test_a_message_of_function_words_alone_carries_no_content(text: str, empty: bool) -> None:
    from clinic_nlp.crisis_detector import carries_no_content

    assert carries_no_content(text) is empty
