"""Never guess an FAQ topic: an unsure topic choice becomes `nlu_fallback`.

Rasa's `FallbackClassifier` looks only at the intent (`faq` as a whole). When the intent is
`faq` but the ResponseSelector is unsure which topic it is, this component turns the message
into `nlu_fallback`, so the visitor is offered the likeliest topics ("Did you mean...?")
instead of a wrong answer. Unsure means: the top topic's confidence is under `threshold` and
it does not lead the runner-up by `clear_lead` either. A short or vague question often spreads
the confidence over several topics while still preferring one; whether answering such a clear
leader is worth its wrong answers, the threshold table in reports/heldout shows (config.yml
has it off).
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

from clinic.parse_result import chosen_topic, ranking_lead, topic_ranking


def faq_topic_confidence(message: Message, retrieval_intent: str) -> float:
    """The confidence in the chosen FAQ topic, 0 if none was chosen."""
    return chosen_topic(message.as_dict(), retrieval_intent)[1]


def faq_topic_lead(message: Message, retrieval_intent: str) -> float:
    """The chosen topic's lead over the runner-up."""
    return ranking_lead(topic_ranking(message.as_dict(), retrieval_intent))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class FaqTopicFallback(GraphComponent, IntentClassifier):
    """Replaces intent `faq` by `nlu_fallback` when the topic choice is unsure."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """The retrieval intent to watch, the topic confidence it needs, or the lead."""
        return {"retrieval_intent": "faq", "threshold": 0.5, "clear_lead": 1.0}

    def __init__(self, config: Dict[str, Any]) -> None:
        self._retrieval_intent = config["retrieval_intent"]
        self._threshold = float(config["threshold"])
        self._clear_lead = float(config["clear_lead"])

    def is_unsure(self, message: Message) -> bool:
        """Neither confident enough nor clearly ahead of the next topic."""
        return (
            faq_topic_confidence(message, self._retrieval_intent) < self._threshold
            and faq_topic_lead(message, self._retrieval_intent) < self._clear_lead
        )

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
            if not self.is_unsure(message):
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
