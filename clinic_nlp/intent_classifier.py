"""Intent and FAQ topic from the MiniLM sentence vector and word and character tf-idf.

One calibrated classifier (`clinic_nlp.text_models.IntentModel`) over every answer the
assistant can give: `faq/<key>` for each FAQ topic, and each other intent. From its
probabilities this component writes what Rasa's `DIETClassifier` and `ResponseSelector`
would: `intent` and `intent_ranking` (intent `faq` with the sum of its topics), and
`response_selector.faq` (the topic, its share of that sum, and the ranking), so `/model/parse`,
the rules and `utter_faq` work as before. It trains in seconds: the sentence vectors come from
the embedding cache (clinic_nlp.sentence_embeddings).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
)
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic.parse_result import RESPONSE_SELECTOR_KEY
from clinic_nlp import text_models
from clinic_nlp.sentence_embeddings import sentence_vector_or_zeros
from clinic_nlp.stored import code_fingerprint, load_or_none, save
from clinic_nlp.term_counts import DEFAULT_FILE as TERM_COUNTS_FILE
from clinic_nlp.term_counts import kept_term_counts
from clinic_nlp.text_models import IntentModel, Ranked, split_answer

logger = logging.getLogger(__name__)
MODEL_FILE = "intent_model.joblib"
# In the parse result: the probabilities of the intents another component decides.
SET_APART_KEY = "set_apart"
RANKING_LENGTH = 10


def training_label(message: Message, retrieval_intent: str) -> Optional[str]:
    """`faq/<key>` for an FAQ example, the intent for others, None without an intent."""
    intent = message.get(INTENT)
    if not intent or not message.get(TEXT):
        return None
    if intent == retrieval_intent:
        return message.get(INTENT_RESPONSE_KEY) or None
    return str(intent)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class EmbeddingIntentClassifier(GraphComponent, IntentClassifier):
    """Intent, and the FAQ topic in the response selector's format, from one classifier."""

    @classmethod
    def required_components(cls) -> List[type]:
        """The sentence vectors come from a dense featurizer."""
        return [DenseFeaturizer]

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Retrain when the training code changes, not only the data (Rasa's cache)."""
        return code_fingerprint(__file__, *text_models.TRAINING_SOURCES)

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """The retrieval intent, the SVM's C, the sentence vector's weight, and `set_apart`.

        `calibration_file`: where the last full calibration is kept between trainings
        (clinic_nlp.text_models.RECALIBRATE_AFTER; empty: always calibrate).
        `term_counts_file`: each text's n-gram counts, kept between trainings
        (clinic_nlp/term_counts.py; empty: counted afresh).

        `set_apart`: intents left out of the ranking because a later component decides them
        (the crisis detector decides `crisis`); their probabilities go to the parse key
        `set_apart`.

        `merged_when_close`: pairs [a, b] of intents that lead to the same reply where both
        apply: when they are the two likeliest and within `close` of each other, the message
        is b, with their probabilities added ("yes please book me": a yes that names booking
        books, whether or not the assistant has just offered to; asked to rephrase before).
        """
        return {"retrieval_intent": "faq", "C": 0.5, "embedding_weight": 1.5, "set_apart": [],
                "calibration_file": "build/calibration/intent.joblib",
                "term_counts_file": TERM_COUNTS_FILE,
                "merged_when_close": [], "close": 0.1}

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[IntentModel] = None,
        responses: Optional[Dict[str, List[Dict[str, Any]]]] = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model
        self._responses = responses or {}

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EmbeddingIntentClassifier:
        """A new, untrained classifier."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the classifier on every example with an intent."""
        retrieval_intent = self._config["retrieval_intent"]
        examples = [
            (m, label)
            for m in training_data.intent_examples
            if (label := training_label(m, retrieval_intent))
        ]
        texts = [m.get(TEXT) for m, _ in examples]
        vectors = np.stack([sentence_vector_or_zeros(m) for m, _ in examples])
        model = IntentModel(
            c=float(self._config["C"]), embedding_weight=float(self._config["embedding_weight"])
        )
        calibration = self._config["calibration_file"]
        model.fit(texts, vectors, [label for _, label in examples],
                  calibration_file=Path(calibration) if calibration else None,
                  term_counts=kept_term_counts(self._config))
        logger.info("Intent classifier: %s calibration.",
                    "last" if model.calibration_reused else "a new")
        responses = {
            name: variations
            for name, variations in (training_data.responses or {}).items()
            if name.startswith(f"utter_{retrieval_intent}/")
        }
        save(self._model_storage, self._resource, MODEL_FILE,
             {"model": model, "responses": responses})
        self._model, self._responses = model, responses
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> EmbeddingIntentClassifier:
        """The classifier stored at training time."""
        stored = load_or_none(model_storage, resource, MODEL_FILE)
        if stored is None:
            logger.warning("The intent classifier was not trained; it will classify nothing.")
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, stored["model"], stored["responses"])

    def process(self, messages: List[Message]) -> List[Message]:
        """Set the intent, its ranking and the FAQ topic on each message."""
        if self._model is None:
            return messages
        for message in messages:
            if not message.get(TEXT):
                continue
            vector = sentence_vector_or_zeros(message)[None, :]
            proba = self._model.predict_proba([message.get(TEXT)], vector)[0]
            set_apart = list(self._config["set_apart"])
            intents, topics = split_answer(
                self._model.labels, proba, self._config["retrieval_intent"], set_apart
            )
            message.set(SET_APART_KEY, {
                label: round(float(p), 4)
                for label, p in zip(self._model.labels, proba, strict=True) if label in set_apart
            }, add_to_output=True)
            self._set_intent(message, merge_close(
                intents, self._config["merged_when_close"], float(self._config["close"])))
            if topics:
                self._set_topic(message, topics)
        return messages

    @staticmethod
    def _set_intent(message: Message, intents: List[Ranked]) -> None:
        ranking = [
            {"name": r.name, PREDICTED_CONFIDENCE_KEY: r.confidence}
            for r in intents[:RANKING_LENGTH]
        ]
        message.set(INTENT, ranking[0], add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    def _set_topic(self, message: Message, topics: List[Ranked]) -> None:
        retrieval_intent = self._config["retrieval_intent"]
        best = topics[0]
        utter_action = f"utter_{best.name}"
        prediction = {
            RESPONSE_SELECTOR_PREDICTION_KEY: {
                RESPONSE_SELECTOR_RESPONSES_KEY: self._responses.get(utter_action, []),
                PREDICTED_CONFIDENCE_KEY: best.confidence,
                INTENT_RESPONSE_KEY: best.name,
                RESPONSE_SELECTOR_UTTER_ACTION_KEY: utter_action,
            },
            RESPONSE_SELECTOR_RANKING_KEY: [
                {INTENT_RESPONSE_KEY: r.name, PREDICTED_CONFIDENCE_KEY: r.confidence}
                for r in topics[:RANKING_LENGTH]
            ],
        }
        message.set(
            RESPONSE_SELECTOR_KEY,
            {RESPONSE_SELECTOR_RETRIEVAL_INTENTS: [retrieval_intent], retrieval_intent: prediction},
            add_to_output=True,
        )


def merge_close(intents: List[Ranked], pairs: List[List[str]], close: float) -> List[Ranked]:
    """The ranking with a close pair of `pairs` (the two likeliest) merged into its second name."""
    if len(intents) < 2:
        return intents
    first, second = intents[0], intents[1]
    for kept_from, merged_into in pairs:
        if ({first.name, second.name} == {kept_from, merged_into}
                and abs(first.confidence - second.confidence) < close):
            merged = Ranked(merged_into, first.confidence + second.confidence)
            return [merged, *intents[2:]]
    return intents
