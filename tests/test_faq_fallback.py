"""When the assistant answers an FAQ topic and when it asks "Did you mean...?" instead."""

from __future__ import annotations

from typing import List, Tuple

import pytest
from rasa.shared.nlu.training_data.message import Message

from clinic_nlp.faq_fallback import FaqTopicFallback


def faq_message(topics: List[Tuple[str, float]]) -> Message:
    """A parsed message with intent `faq` and the ResponseSelector's topic ranking."""
    ranking = [{"intent_response_key": f"faq/{key}", "confidence": c} for key, c in topics]
    message = Message(data={"text": "a question"})
    message.set("intent", {"name": "faq", "confidence": 0.99})
    message.set("intent_ranking", [{"name": "faq", "confidence": 0.99}])
    message.set("response_selector", {"faq": {"response": ranking[0], "ranking": ranking}})
    return message


def intent_after(topics: List[Tuple[str, float]]) -> str:
    fallback = FaqTopicFallback({"retrieval_intent": "faq", "threshold": 0.5, "clear_lead": 0.2})
    [message] = fallback.process([faq_message(topics)])
    return str(message.get("intent")["name"])


@pytest.mark.parametrize("topics, intent", [
    ([("fda_status", 0.8), ("esketamine", 0.1)], "faq"),  # sure
    ([("speed", 0.45), ("effectiveness", 0.1)], "faq"),  # unsure, but clearly ahead
    ([("speed", 0.45), ("effectiveness", 0.3)], "nlu_fallback"),  # two close topics
    ([("speed", 0.2), ("effectiveness", 0.19), ("safety", 0.18)], "nlu_fallback"),  # spread
])
def test_an_unsure_topic_choice_becomes_a_fallback(
    topics: List[Tuple[str, float]], intent: str
) -> None:
    assert intent_after(topics) == intent


def test_the_fallback_keeps_the_classifiers_ranking_for_the_did_you_mean_buttons() -> None:
    fallback = FaqTopicFallback(FaqTopicFallback.get_default_config())
    [message] = fallback.process([faq_message([("speed", 0.3), ("effectiveness", 0.25)])])
    assert [entry["name"] for entry in message.get("intent_ranking")] == ["nlu_fallback", "faq"]
    assert message.get("response_selector")["faq"]["ranking"][0]["confidence"] == 0.3


def test_without_a_lead_setting_only_the_threshold_counts() -> None:
    fallback = FaqTopicFallback(FaqTopicFallback.get_default_config())
    [message] = fallback.process([faq_message([("speed", 0.45), ("effectiveness", 0.01)])])
    assert message.get("intent")["name"] == "nlu_fallback"
