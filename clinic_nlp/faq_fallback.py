"""Never guess an FAQ topic: low topic confidence becomes `nlu_fallback`.

Rasa's `FallbackClassifier` looks only at the intent (`faq` as a whole). When the intent is
`faq` but the ResponseSelector is unsure which topic it is, this component turns the message
into `nlu_fallback`, so the visitor is asked to rephrase instead of getting a wrong answer.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

RESPONSE_SELECTOR_KEY = "response_selector"


def faq_topic_confidence(message: Message, retrieval_intent: str) -> float:
    """The ResponseSelector's confidence in its chosen topic, 0 if it chose none."""
    selector = (message.get(RESPONSE_SELECTOR_KEY) or {}).get(retrieval_intent) or {}
    return float((selector.get("response") or {}).get("confidence") or 0.0)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class FaqTopicFallback(GraphComponent, IntentClassifier):
    """Replaces intent `faq` by `nlu_fallback` when the topic confidence is below threshold."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """The retrieval intent to watch and the topic confidence it needs."""
        return {"retrieval_intent": "faq", "threshold": 0.5}

    def __init__(self, config: Dict[str, Any]) -> None:
        self._retrieval_intent = config["retrieval_intent"]
        self._threshold = float(config["threshold"])

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FaqTopicFallback:
        """A component with the configured threshold."""
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        """Turn unsure FAQ topics into `nlu_fallback`."""
        for message in messages:
            if (message.get(INTENT) or {}).get("name") != self._retrieval_intent:
                continue
            confidence = faq_topic_confidence(message, self._retrieval_intent)
            if confidence >= self._threshold:
                continue
            fallback = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": self._threshold}
            ranking = [
                entry
                for entry in message.get(INTENT_RANKING_KEY) or []
                if entry.get("name") != DEFAULT_NLU_FALLBACK_INTENT_NAME
            ]
            message.set(INTENT, fallback, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [fallback, *ranking], add_to_output=True)
        return messages
