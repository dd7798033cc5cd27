"""The words of the replies the actions write themselves, in English or Spanish.

English is written here; Spanish, and the one reply to a message in another language, are in
settings/languages.yml, which staff edit (a fluent reader signs off on the Spanish). The fixed
replies and the FAQ answers are domain.yml's, where each has its Spanish variant; Rasa picks
it from the `language` slot, and the actions pick their words from the same slot (`wording`).

    wording(tracker.get_slot("language")).offer_to_book

Every Spanish text must keep the {names} of its English one; `language_problems` says which
do not (the action server refuses to start with them, and `make validate` names the line).
"""

from __future__ import annotations

import dataclasses
import re
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

from clinic.paths import LANGUAGES_FILE
from clinic.yaml_file import read_yaml

ENGLISH, SPANISH = "en", "es"
# Both set by clinic_nlp.language.LanguageTagger: the entity (and the slot it fills) with the
# conversation's language, and the entity naming another language a message is surely in.
LANGUAGE_SLOT = "language"
OTHER_LANGUAGE_ENTITY = "other_language"


# Every reply in another language names them (settings/languages.yml).
CRISIS_NUMBERS = ("911", "988")


class LanguagesError(ValueError):
    """A missing, unreadable or malformed settings/languages.yml."""


@dataclass(frozen=True)
class Wording:
    """The texts of the actions' replies in one language; {names} are filled in by the actions."""

    did_you_mean: str = "I'm not sure I understood. Did you mean one of these?"
    something_else: str = "Something else: talk to a person"
    offer_to_book: str = (
        "Would you like to book a consultation to talk about whether it could help you? "
        "You can also ask me about a related topic."
    )
    book_consultation: str = "Book a consultation"
    talk_to_a_person: str = "Talk to a person"
    call_phone: str = "Call {phone}"
    team_can_answer: str = "The clinic's team can answer that at {phone}."
    handoff_closed: str = (
        "Our phone line is closed right now.{reopening} You can book a consultation online "
        "at any time, or call us at {phone} when we're open."
    )
    handoff_reopens: str = " It opens again {when} ({zone})."
    handoff_phone_first: str = (
        "To talk with someone at the clinic{about}, call us at {phone}. "
        "You can also book a consultation online."
    )
    handoff_booking_first: str = (
        "You can book a consultation{about} online at a time that suits you, or call us at "
        "{phone}."
    )
    about: str = " about {condition}"
    clinic_line_open: str = "For non-urgent questions you can also call the clinic at {phone}."
    clinic_line_closed: str = (
        "The clinic's line ({phone}) is closed right now{when}. It is for non-urgent "
        "questions: for help now, use 988 or 911 above."
    )
    clinic_line_reopens: str = "; it opens again {reopens}"
    # When the phone line opens next ({when} and {reopens} above): "tomorrow at 09:00".
    today: str = "today"
    tomorrow: str = "tomorrow"
    weekdays: str = "Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday"
    day_at_time: str = "{day} at {time}"
    # The chat channel's own replies, when it cannot run a turn (clinic_server/rest_channel.py).
    turn_failed: str = "Sorry, something went wrong on our side."
    call_or_book_after_failure: str = (
        "Please call the clinic at {phone}, or book a consultation online.")
    call_after_failure: str = "Please call the clinic at {phone}."
    too_long: str = (
        "Sorry, your message is too long for me ({length} characters). Could you shorten it to "
        "under {limit} characters, ideally one question at a time?"
    )
    too_long_book_or_call: str = (
        "You can also book a consultation online or call the clinic at {phone}.")
    too_long_call: str = "For non-urgent questions you can call the clinic at {phone}."
    # For a message the model never read (too long): it could be about a crisis.
    in_danger: str = "If you are in danger or in crisis, call 911, or call or text 988, right now."

    def day_name(self, weekday: int, days_ahead: int) -> str:
        """'today', 'tomorrow' or the weekday's name (0: Monday), in this language."""
        if days_ahead in (0, 1):
            return (self.today, self.tomorrow)[days_ahead]
        return [name.strip() for name in self.weekdays.split(",")][weekday]


ENGLISH_WORDING = Wording()
FIELDS = tuple(field.name for field in dataclasses.fields(Wording))


def _names(text: str) -> List[str]:
    return sorted({name for _, name, _, _ in string.Formatter().parse(text) if name})


@dataclass(frozen=True)
class Languages:
    """settings/languages.yml: the Spanish wording and the replies for other languages."""

    spanish: Wording
    other_languages: Mapping[str, str]

    def in_danger(self, code: Optional[str]) -> Optional[str]:
        """The sentence of a language's reply that names 911 and 988, or None.

        After a crisis message in that language the crisis reply (English, with its buttons)
        is followed by this sentence, so the visitor reads where to turn in their language.
        """
        text = self.other_languages.get(str(code)) if code else None
        return _danger_sentence(text) if text else None


_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")


def _danger_sentence(text: str) -> Optional[str]:
    for sentence in reversed(_SENTENCE_END.split(text)):
        if all(number in sentence for number in CRISIS_NUMBERS):
            return sentence.strip()
    return None


def language_problems(raw: Any) -> List[str]:
    """Every problem in settings/languages.yml's content, in words staff can act on."""
    if not isinstance(raw, dict):
        return ["expected the sections 'spanish:' and 'other_languages:'"]
    problems = []
    spanish = raw.get("spanish")
    if not isinstance(spanish, dict):
        problems.append("the section 'spanish:' is missing")
        spanish = {}
    for name in FIELDS:
        text = spanish.get(name)
        english = getattr(ENGLISH_WORDING, name)
        if not isinstance(text, str) or not text.strip():
            problems.append(f"spanish: '{name}' is missing (English: \"{english}\")")
        elif _names(text) != _names(english):
            problems.append(
                f"spanish: '{name}' must contain exactly "
                f"{', '.join('{' + n + '}' for n in _names(english)) or 'no {names}'}")
    weekdays = spanish.get("weekdays")
    if isinstance(weekdays, str) and len([d for d in weekdays.split(",") if d.strip()]) != 7:
        problems.append("spanish: 'weekdays' must name the seven days, Monday first, "
                        "separated by commas")
    for name in spanish:
        if name not in FIELDS:
            problems.append(f"spanish: unknown text '{name}'")
    others = raw.get("other_languages")
    if not isinstance(others, dict) or not others:
        problems.append("the section 'other_languages:' is missing")
    else:
        for code, text in others.items():
            if not isinstance(text, str) or _names(text) != ["phone"]:
                problems.append(f"other_languages: '{code}' must be a text containing {{phone}}")
            elif _danger_sentence(text) is None:
                problems.append(f"other_languages: '{code}' must name 911 and 988 in one "
                                "sentence (a visitor in crisis who writes in that language "
                                "reads that sentence after the crisis reply)")
    return problems


def parse_languages(raw: Any, path: Path = LANGUAGES_FILE) -> Languages:
    """The checked content; `LanguagesError` naming every problem."""
    problems = language_problems(raw)
    if problems:
        raise LanguagesError(f"{path}: " + "; ".join(problems))
    spanish: Dict[str, str] = {name: str(raw["spanish"][name]) for name in FIELDS}
    return Languages(Wording(**spanish), dict(raw["other_languages"]))


@cache
def current_languages(path: Path = LANGUAGES_FILE) -> Languages:
    """settings/languages.yml, read and checked once (for long-running servers)."""
    return parse_languages(read_yaml(path, LanguagesError, "languages file"), path)


def wording(language: Optional[str], path: Path = LANGUAGES_FILE) -> Wording:
    """The actions' words for the conversation's `language` slot (English unless "es")."""
    return current_languages(path).spanish if language == SPANISH else ENGLISH_WORDING
