"""Which language a visitor wrote in, with lingua (its models ship in the package).

Only the languages the assistant can tell apart usefully are loaded: English, Spanish and the
other languages San Francisco's visitors most often write in, so that "is it Spanish?" is not
answered yes for Portuguese or Italian. A short or mixed message counts as Spanish only when
lingua is clearly surer of Spanish than of English.

`LanguageTagger` is the NLU component: it gives each message an entity `language` ("en" or
"es") that fills the slot of the same name (domain.yml), which picks the replies' Spanish
variants. A message too short to tell ("ok", "sí") gives none, so the conversation keeps its
language. A message lingua is sure is in another language becomes `out_of_scope` with an
entity `other_language` (its code); a rule then answers it in that language, saying the
assistant answers in English and Spanish, with the clinic's phone (action_other_language).
"""

from __future__ import annotations

import functools
import re
from typing import Any, Dict, List, Optional

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from clinic.wording import ENGLISH, SPANISH
from clinic.wording import LANGUAGE_SLOT as ENTITY  # the entity, and the slot it fills
from clinic.wording import OTHER_LANGUAGE_ENTITY as OTHER_ENTITY

SPANISH_MARGIN = 0.25  # P(Spanish) must beat P(English) by this much
MIN_LETTERS = 8  # below this, a crisis message is not judged Spanish (crisis detector)
TAGGED_FROM_LETTERS = 4  # below this ("ok", "sí") a message keeps the conversation's language
# Answered in another language only when lingua is this sure, the message has a few words
# and none of them is a common English word ("recipe for bánh mì" is English). Not Tagalog:
# Tagalog speakers here mostly write Taglish, and lingua takes "r u chatgpt lol" for Tagalog.
OTHER_SURE = 0.7
OTHER_FROM_WORDS = 3
OTHER_REPLIED = ("pt", "it", "fr", "zh", "vi", "ru", "ko", "ja")
OTHER_SCRIPTS = ("zh", "ru", "ko", "ja")  # no spaces needed between words, no English lookalike
ENGLISH_WORDS = frozenset(
    "an and are can do does for how i in is it lol my of on or r the this to u what when "
    "where who why you".split()
)

OUT_OF_SCOPE = "out_of_scope"

# Lingua's language name -> the code the slot and domain.yml's variants use.
CODES = {
    "ENGLISH": ENGLISH, "SPANISH": SPANISH, "PORTUGUESE": "pt", "ITALIAN": "it",
    "FRENCH": "fr", "TAGALOG": "tl", "CHINESE": "zh", "VIETNAMESE": "vi", "RUSSIAN": "ru",
    "KOREAN": "ko", "JAPANESE": "ja",
}


@functools.lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(
        *(getattr(Language, name) for name in CODES)
    ).build()


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def _non_latin_letters(text: str) -> int:
    # Latin letters, accented ones included, are under U+0250 (Vietnamese's are in the Latin
    # Extended Additional block, U+1E00-U+1EFF).
    return sum(ch.isalpha() and ch > "\u024f" and not "\u1e00" <= ch <= "\u1eff" for ch in text)


def _confidences(text: str) -> Dict[str, float]:
    """Lingua's confidence per language code, highest first."""
    return {
        CODES[value.language.name]: value.value
        for value in _detector().compute_language_confidence_values(text)
    }


def in_another_script(text: str) -> bool:
    """Letters mostly outside the Latin alphabet: Arabic, Persian, Amharic, Chinese, Russian...

    Neither classifier can read such a message (they learnt English and Spanish).
    """
    letters = _letters(text)
    return bool(letters) and _non_latin_letters(text) * 2 > letters


def is_english(text: str) -> bool:
    """True when the message is written (mostly) in English, or is too short to tell.

    Letters mostly outside the Latin alphabet (Chinese, Korean, Russian...) are not English
    however few: "죽고싶어요" is five letters and a whole sentence.
    """
    letters = _letters(text)
    if in_another_script(text):
        return False
    if letters < MIN_LETTERS:
        return True
    from lingua import Language

    return bool(_detector().detect_language_of(text) == Language.ENGLISH)


def is_spanish(text: str) -> bool:
    """True when the message is written (mostly) in Spanish."""
    if _letters(text) < MIN_LETTERS:
        return False
    confidences = _confidences(text)
    return confidences.get(SPANISH, 0.0) - confidences.get(ENGLISH, 0.0) >= SPANISH_MARGIN


def message_language(text: str) -> Optional[str]:
    """"es", "en", another language's code when lingua is sure, or None: too short to tell."""
    letters = _letters(text)
    if letters < TAGGED_FROM_LETTERS:
        return None
    confidences = _confidences(text)
    top, confidence = next(iter(confidences.items()))
    margin = confidences.get(SPANISH, 0.0) - confidences.get(ENGLISH, 0.0)
    if margin >= SPANISH_MARGIN or (top == SPANISH and _english_words(text) < 2):
        return SPANISH
    if top in OTHER_REPLIED and confidence >= OTHER_SURE and _not_english(text, top):
        return top
    return ENGLISH if top == ENGLISH or letters >= MIN_LETTERS else None


def _english_words(text: str) -> int:
    return sum(word in ENGLISH_WORDS for word in re.findall(r"\w+", text.lower()))


def _not_english(text: str, language: str) -> bool:
    """Enough words and no common English word: safe to answer in `language`."""
    if _english_words(text):
        return False
    return language in OTHER_SCRIPTS or len(re.findall(r"\w+", text)) >= OTHER_FROM_WORDS


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class LanguageTagger(GraphComponent):
    """Adds the entity `language` ("en", "es") or `other_language` to each message it can judge."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageTagger:
        """The tagger; lingua's models load here, not on the first visitor's message."""
        message_language("warming up the language models")
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        """Tag each message's language; another language than English or Spanish is off-topic."""
        for message in messages:
            language = message_language(message.get(TEXT) or "")
            if language is None:
                continue
            other = language not in (ENGLISH, SPANISH)
            entities = [e for e in message.get(ENTITIES) or []
                        if e.get("entity") not in (ENTITY, OTHER_ENTITY)]
            entities.append({
                "entity": OTHER_ENTITY if other else ENTITY, "value": language,
                "start": 0, "end": 0, "extractor": LanguageTagger.__name__,
            })
            message.set(ENTITIES, entities, add_to_output=True)
            if other:
                answer = {"name": OUT_OF_SCOPE, "confidence": 1.0}
                ranking = [e for e in message.get(INTENT_RANKING_KEY) or []
                           if e.get("name") != OUT_OF_SCOPE]
                message.set(INTENT, answer, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [answer, *ranking], add_to_output=True)
        return messages
