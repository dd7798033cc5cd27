"""Which language a visitor wrote in, with lingua (its models ship in the package).

Only the languages the assistant can tell apart usefully are loaded: English, Spanish and the
other languages San Francisco's visitors most often write in, so that "is it Spanish?" is not
answered yes for Portuguese or Italian. A short or mixed message counts as Spanish only when
lingua is clearly surer of Spanish than of English.
"""

from __future__ import annotations

import functools
from typing import Any

SPANISH_MARGIN = 0.25  # P(Spanish) must beat P(English) by this much
MIN_LETTERS = 8


@functools.lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    languages = [
        Language.ENGLISH, Language.SPANISH, Language.PORTUGUESE, Language.ITALIAN,
        Language.FRENCH, Language.TAGALOG, Language.CHINESE, Language.VIETNAMESE,
        Language.RUSSIAN, Language.KOREAN, Language.JAPANESE,
    ]
    return LanguageDetectorBuilder.from_languages(*languages).build()


def is_english(text: str) -> bool:
    """True when the message is written (mostly) in English, or is too short to tell."""
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return True
    from lingua import Language

    return bool(_detector().detect_language_of(text) == Language.ENGLISH)


def is_spanish(text: str) -> bool:
    """True when the message is written (mostly) in Spanish."""
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return False
    from lingua import Language

    confidences = {
        value.language: value.value
        for value in _detector().compute_language_confidence_values(text)
    }
    return (
        confidences.get(Language.SPANISH, 0.0) - confidences.get(Language.ENGLISH, 0.0)
        >= SPANISH_MARGIN
    )
