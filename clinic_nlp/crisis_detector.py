"""The semantic crisis detector, and the one place where the three crisis layers meet.

SPEC section 3 asks for three independent layers: the rule layer (patterns/crisis.yml, in
`CrisisRuleClassifier`), the intent classifier (intent `crisis`) and this detector: a
calibrated classifier over MiniLM sentence vectors and tf-idf
(`clinic_nlp.text_models.CrisisModel`), trained on every example under data/nlu/: intent
`crisis` is a crisis, `crisis_kind: emergency` in emergency.yml a medical emergency,
everything else, hard_negatives.yml included, is not. It reads the whole message
and each sentence of it, so one crisis sentence inside a long FAQ question wins.

Its risk is the larger of its own (the riskiest sentence's) and the intent classifier's
probability of `crisis`. It runs last and decides:
- `crisis`: risk >= crisis_threshold, or a crisis phrase of the rule layer and risk >=
  rule_threshold (a phrase the training examples mostly use lightly, "gonna kill me", counts
  for nothing more than the check-in: clinic_nlp.crisis_rules.PhraseUses).
  Intent `crisis`, and an entity `crisis_kind` that picks the reply's variant (domain.yml):
  `emergency` (911 first) or `crisis`, with `_es` when the message is in Spanish.
- check-in: risk >= check_in_threshold, or a crisis phrase that both classifiers read as
  clearly no crisis (an idiom: "this price is killing me"), or a message in a script the
  classifiers cannot read and not answered in its language (`unreadable`). The intent stays;
  `crisis_kind: check_in` tells the actions to drop any booking offer and add one line
  naming 988.
Both thresholds are chosen by cross-validation (`python -m evaluation.cross_validate`).
The parse result carries `crisis_detector` with the risk, tier and kind (never the text).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic_nlp import text_models
from clinic_nlp.crisis_rules import CRISIS_INTENT, READ_AS_KEY, classifier_crisis_confidence
from clinic_nlp.crisis_rules import PARSE_KEY as RULE_KEY
from clinic_nlp.language import OTHER_ENTITY, in_another_script, is_english, is_spanish
from clinic_nlp.negation import AFFIRMED
from clinic_nlp.sentence_embeddings import (
    DEFAULT_CACHE_PATH,
    DEFAULT_MODEL_PATH,
    DIMENSIONS,
    cached_embedder,
    sentence_vector,
    sentence_vector_or_zeros,
    shared_encoder,
)
from clinic_nlp.stored import code_fingerprint, load_or_none, save
from clinic_nlp.term_counts import DEFAULT_FILE as TERM_COUNTS_FILE
from clinic_nlp.term_counts import kept_term_counts
from clinic_nlp.text_models import CRISIS, EMERGENCY, NONE, CrisisModel, CrisisScore, segments

logger = logging.getLogger(__name__)
MODEL_FILE = "crisis_model.joblib"
PARSE_KEY = "crisis_detector"
ENTITY = "crisis_kind"
CHECK_IN = "check_in"
EMERGENCY_RULE_GROUP = "medical_emergency"
KIND_METADATA = "crisis_kind"
# A denied or past crisis phrase is set aside only while the intent classifier's probability
# of a crisis stays under this: over it, the phrase is more likely one whose crisis meaning
# comes with the negation ("wouldn't mind if I got a terminal diagnosis").
DENIAL_TRUSTED_BELOW = 0.9
# Words that say nothing by themselves. A message made only of them ("and the", "so what was
# i") carries no sign of a crisis, and the classifiers' reading of it is noise (round 24's
# "and the" had a risk of 0.64, over the crisis threshold): without a crisis phrase it gets at
# most the check-in. Words that can carry a crisis alone ("help", "why", "no", "nothing",
# "alone", "enough", "done", "over", "sorry", "bye") are not here.
FUNCTION_WORDS = frozenset("""
a an the and or so then than if as of to in on at by for from with about into up down off
i me my mine you your yours he him his she her hers it its we us our they them their this that
these those there here what which who whom whose when where how was is am are be been being
were do does did doing have has had having will would shall should can could may might must
just like um uh uhm hmm er erm oh ah ok okay well wait also too very really yeah yes yep ya
""".split())
_WORDS = re.compile(r"[^\W\d_]+")
_CONTRACTION = re.compile(r"'(?:s|t|m|d|re|ve|ll)\b")  # "i'm" is "i"; "k.m.s" stays three letters


def carries_no_content(text: str) -> bool:
    """The text has words, every one of them a function word, and nothing else but punctuation.

    Digits and emoji count as content (a "💀" or "🔪" alone is read by the classifiers).
    """
    lowered = _CONTRACTION.sub("", text.lower().replace("’", "'"))
    words = _WORDS.findall(lowered)
    rest = _WORDS.sub("", lowered)
    return bool(words) and all(word in FUNCTION_WORDS for word in words) and all(
        not char.isalnum() and (char.isspace() or unicodedata.category(char).startswith("P"))
        for char in rest
    )


def crisis_label(message: Message) -> str:
    """`emergency`, `crisis` or `none` for a training example."""
    if message.get(INTENT) != CRISIS_INTENT:
        return NONE
    metadata = message.get(METADATA) or {}
    kinds = {
        (metadata.get(level) or {}).get(KIND_METADATA) for level in ("intent", "example")
    }
    return EMERGENCY if EMERGENCY in kinds else CRISIS


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class SemanticCrisisDetector(GraphComponent, IntentClassifier):
    """Crisis, medical emergency or check-in, from the meaning of each sentence."""

    @classmethod
    def required_components(cls) -> List[type]:
        """The whole message's vector comes from a dense featurizer."""
        return [DenseFeaturizer]

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Retrain when the training code changes, not only the data (Rasa's cache)."""
        return code_fingerprint(__file__, *text_models.TRAINING_SOURCES)

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Thresholds on the risk (1 - P(no crisis)) of the riskiest sentence."""
        return {
            "crisis_threshold": 0.5,
            "check_in_threshold": 0.2,
            "rule_threshold": 0.2,
            "classifier_threshold": 0.5,
            "C": 0.5,
            "embedding_weight": 1.5,
            "model_path": DEFAULT_MODEL_PATH,
            "cache_path": DEFAULT_CACHE_PATH,
            # the last full calibration, reused while few examples changed (as the intent
            # classifier's; empty: always calibrate)
            "calibration_file": "build/calibration/crisis.joblib",
            # each text's n-gram counts, kept between trainings and shared with the intent
            # classifier (clinic_nlp/term_counts.py; empty: counted afresh each time)
            "term_counts_file": TERM_COUNTS_FILE,
        }

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[CrisisModel] = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SemanticCrisisDetector:
        """A new, untrained detector."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit on every example with text: crisis, emergency or none."""
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        texts = [m.get(TEXT) for m in examples]
        vectors = np.stack([sentence_vector_or_zeros(m) for m in examples])
        model = CrisisModel(
            c=float(self._config["C"]), embedding_weight=float(self._config["embedding_weight"])
        )
        model.fit(
            texts, vectors, [crisis_label(m) for m in examples],
            embed=cached_embedder(self._config).embed,
            calibration_file=(
                Path(self._config["calibration_file"]) if self._config["calibration_file"]
                else None
            ),
            term_counts=kept_term_counts(self._config),
        )
        logger.info("Crisis detector: %s calibration.",
                    "last" if model.calibration_reused else "a new")
        save(self._model_storage, self._resource, MODEL_FILE, model)
        self._model = model
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SemanticCrisisDetector:
        """The detector stored at training time."""
        # lingua loads its language models on first use: not on a visitor's first crisis.
        is_spanish("warming up the language models")
        # The sentence model too, for the message's sentences (training creates the detector
        # without it: it reads cached vectors, clinic_nlp.sentence_embeddings.EmbeddingCache).
        shared_encoder(config["model_path"])
        model = load_or_none(model_storage, resource, MODEL_FILE)
        if model is None:
            logger.warning("The crisis detector was not trained; only the rule layer runs.")
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, model)

    def score(
        self, message: Message, denied_or_past: Sequence[str] = ()
    ) -> Optional[CrisisScore]:
        """The riskiest part of the message, or None without a trained model or text.

        With `denied_or_past` (crisis phrases the rule layer found denied or of the past), the
        whole message and every sentence holding one of them do not count.
        """
        text = message.get(TEXT)
        if self._model is None or not text:
            return None
        parts = segments(text)
        read_as = message.get(READ_AS_KEY)
        if read_as and read_as not in parts:  # as the rule layer read it: "k1ll" as "kill"
            parts.append(read_as)
        ignore = None
        if denied_or_past:
            ignore = [index == 0 or any(
                phrase in part.lower().replace("’", "'") for phrase in denied_or_past)
                for index, part in enumerate(parts)]
        vectors = np.zeros((len(parts), DIMENSIONS), dtype=np.float32)
        whole = sentence_vector(message)
        if whole is not None:
            vectors[0] = whole
        rest = parts[1:] if whole is not None else parts
        if rest:
            encoder = shared_encoder(self._config["model_path"])
            vectors[len(parts) - len(rest):] = encoder.embed(rest)
        return self._model.score_from_proba(self._model.segment_proba(parts, vectors), ignore)

    def process(self, messages: List[Message]) -> List[Message]:
        """Decide crisis, check-in or neither; set intent and `crisis_kind` accordingly."""
        for message in messages:
            rule = message.get(RULE_KEY) or {}
            # Every crisis phrase denied or past, and the intent classifier not sure of a crisis
            # ("I don't see myself here by christmas" denies nothing: its phrase is the crisis).
            denied_or_past = (
                rule.get("context", AFFIRMED) != AFFIRMED
                and float(rule.get("classifier_crisis_confidence") or 0.0) < DENIAL_TRUSTED_BELOW
            )
            score = self.score(message, rule.get("denied_or_past") or [] if denied_or_past else [])
            classifier = (
                float(rule.get("classifier_crisis_confidence") or 0.0) if rule
                else classifier_crisis_confidence(message)
            )
            certain = False  # a phrase in a language the classifiers cannot read
            if denied_or_past:  # only the rest of the message counts
                risk = score.risk if score else 0.0
                tier = CRISIS if risk >= float(self._config["crisis_threshold"]) else CHECK_IN
            else:
                risk = max(score.risk if score else 0.0, classifier)
                certain = rule_is_certain(message.get(TEXT) or "", rule)
                tier = self.tier(risk, bool(rule), certain, bool(rule.get("used_lightly")))
                if (classifier >= float(self._config["classifier_threshold"]) and score
                        and score.risk >= float(self._config["check_in_threshold"])):
                    tier = CRISIS  # the intent classifier this sure, the detector not silent
                if tier == CRISIS and not rule and carries_no_content(message.get(TEXT) or ""):
                    tier = CHECK_IN  # "and the": nothing to read a crisis in
                if tier == NONE and unreadable(message):
                    tier = CHECK_IN  # "መሞት እፈልጋለሁ": no one here can tell it is not a crisis
            if tier == CRISIS:
                spanish = is_spanish(message.get(TEXT) or "")
                # The detector tells an emergency from another crisis only in the languages it
                # learnt; in Vietnamese or Korean its reading is noise, and the phrase's group
                # decides ("Con muốn chết." is not 911 first, "bé không thở" is).
                readable = not certain or spanish  # `certain` implies a phrase matched
                emergency = rule.get("group") == EMERGENCY_RULE_GROUP or bool(
                    readable and score and score.emergency
                )
                kind = EMERGENCY if emergency else CRISIS
                if spanish:
                    kind += "_es"
                self._set_crisis(message)
            elif tier == CHECK_IN:
                kind = CHECK_IN
                if rule:  # a pattern matched, but nothing else reads a crisis: an idiom
                    self._undo_rule(message, rule)
            else:
                continue
            _add_entity(message, kind)
            message.set(
                PARSE_KEY,
                {"tier": tier, "kind": kind, "risk": round(risk, 3),
                 "segment": score.segment if score else 0},
                add_to_output=True,
            )
        return messages

    def tier(
        self, risk: float, rule_matched: bool, rule_certain: bool = False,
        rule_light: bool = False,
    ) -> str:
        """crisis, check_in or none.

        A crisis phrase of the rule layer makes the full reply from a risk of rule_threshold;
        under it ("this price is killing me"), the visitor gets the check-in tier, which still
        names 988. A phrase the training examples mostly use lightly (`rule_light`: "my boss
        is gonna kill me if I'm late") makes the full reply only from the crisis threshold, as
        if it were not there, and the check-in under it. Where the classifiers cannot judge
        (`rule_certain`: a language other than English), the phrase decides alone.
        """
        crisis_at = float(self._config["crisis_threshold"])
        check_in_at = float(self._config["check_in_threshold"])
        rule_at = crisis_at if rule_light else float(self._config["rule_threshold"])
        if rule_certain or risk >= crisis_at or (rule_matched and risk >= rule_at):
            return CRISIS
        if rule_matched or risk >= check_in_at:
            return CHECK_IN
        return NONE

    @staticmethod
    def _undo_rule(message: Message, rule: Dict[str, Any]) -> None:
        """Give the message back the answer the intent classifier chose."""
        ranking = [
            e for e in message.get(INTENT_RANKING_KEY) or [] if e.get("name") != CRISIS_INTENT
        ]
        intent = next(
            (e for e in ranking if e.get("name") == rule.get("classifier_intent")),
            ranking[0] if ranking else {"name": "nlu_fallback", "confidence": 0.0},
        )
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    @staticmethod
    def _set_crisis(message: Message) -> None:
        if (message.get(INTENT) or {}).get("name") == CRISIS_INTENT:
            return
        ranking = [
            entry for entry in message.get(INTENT_RANKING_KEY) or []
            if entry.get("name") != CRISIS_INTENT
        ]
        crisis = {"name": CRISIS_INTENT, "confidence": 1.0}
        message.set(INTENT, crisis, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [crisis, *ranking], add_to_output=True)


def unreadable(message: Message) -> bool:
    """Written in a script the classifiers cannot read, and not answered in its language.

    Amharic, Persian, Arabic, Urdu, Hebrew...: without a crisis phrase of the rule layer,
    nothing here can tell "I want to die" from "how much is it", and missing a crisis costs
    more than a line naming 988, so such a message gets the check-in (round 26: five crisis
    messages in Persian, Somali, Amharic, Urdu and Pashto got the English off-topic reply,
    nothing about 988). A language the assistant answers in (`other_language`: Chinese,
    Russian...) is left alone: that reply names 911 and 988 in it.
    """
    entities = message.get(ENTITIES) or []
    return in_another_script(message.get(TEXT) or "") and not any(
        entity.get("entity") == OTHER_ENTITY for entity in entities)


def rule_is_certain(text: str, rule: Dict[str, Any]) -> bool:
    """The rule layer matched where the classifiers cannot judge: not in English.

    The sentence model is English; Italian or Tagalog crisis phrases are the rule layer's.
    """
    return bool(rule) and not is_english(text)


def _add_entity(message: Message, kind: str) -> None:
    text = message.get(TEXT) or ""
    entities = [e for e in message.get(ENTITIES) or [] if e.get("entity") != ENTITY]
    entities.append({
        "entity": ENTITY, "value": kind, "start": 0, "end": len(text),
        "extractor": SemanticCrisisDetector.__name__,
    })
    message.set(ENTITIES, entities, add_to_output=True)
