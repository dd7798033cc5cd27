"""The buttons that lead to the clinic, built once: booking (link or quick reply) and phone.

Every Python place that offers them uses these functions. domain.yml writes the quick replies
in YAML for its own responses (utter_greet, utter_please_rephrase); tests/test_core.py
checks that they match the ones here.

It is also the one list of the intent payloads (`/intent{"entity":"value"}`) the assistant's
buttons and the widget's thumbs send: `BUTTON_INTENTS`, written out in `BUTTON_PAYLOADS`. The
chat channel takes a message starting with `/` as an intent only if it is one of these
(clinic_server/rest_channel.py); the data checker refuses a domain.yml button with any other,
and tests/test_payloads.py checks webchat/clinic-chat.js against it.
"""

from __future__ import annotations

import itertools
import json
from types import MappingProxyType
from typing import Dict, FrozenSet, Mapping, Optional, Tuple

from clinic.settings import ClinicSettings
from clinic.topics import Topic
from clinic.wording import ENGLISH_WORDING, Wording

Button = Dict[str, str]

BOOK_CONSULTATION = ENGLISH_WORDING.book_consultation
TALK_TO_A_PERSON = ENGLISH_WORDING.talk_to_a_person
BOOK_INTENT = "book_consultation"
CONTACT_INTENT = "contact_human"
# The widget's thumbs under an answer (webchat/clinic-chat.js, `sendFeedback`).
FEEDBACK_INTENT = "feedback"
RATING_ENTITY = "rating"
RATINGS = ("up", "down")

# Every intent a button may send, with the values each of its entities may carry (all of them
# present, each once). Topic buttons are not here: they send their title, a question as text.
BUTTON_INTENTS: Mapping[str, Mapping[str, Tuple[str, ...]]] = MappingProxyType({
    BOOK_INTENT: MappingProxyType({}),
    CONTACT_INTENT: MappingProxyType({}),
    FEEDBACK_INTENT: MappingProxyType({RATING_ENTITY: RATINGS}),
})


def intent_payload(intent: str, entities: Optional[Mapping[str, str]] = None) -> str:
    """Rasa's `/intent{"entity":"value"}`, written as the widget's `JSON.stringify` writes it."""
    if not entities:
        return f"/{intent}"
    return f"/{intent}" + json.dumps(dict(entities), separators=(",", ":"), ensure_ascii=False)


def feedback_payload(rating: str) -> str:
    """What a thumb sends: `/feedback{"rating":"up"}` or `/feedback{"rating":"down"}`."""
    if rating not in RATINGS:
        raise ValueError(f"a rating is one of {', '.join(RATINGS)}, not {rating!r}")
    return intent_payload(FEEDBACK_INTENT, {RATING_ENTITY: rating})


def _button_payloads() -> FrozenSet[str]:
    payloads = set()
    for intent, entities in BUTTON_INTENTS.items():
        names = sorted(entities)
        for values in itertools.product(*(entities[name] for name in names)):
            payloads.add(intent_payload(intent, dict(zip(names, values, strict=True))))
    return frozenset(payloads)


# The exact texts of those payloads: `/book_consultation`, `/contact_human`,
# `/feedback{"rating":"up"}` and `/feedback{"rating":"down"}`.
BUTTON_PAYLOADS: FrozenSet[str] = _button_payloads()


def booking_link_button(settings: ClinicSettings, words: Wording = ENGLISH_WORDING) -> Button:
    """A link button that opens the booking calendar in a new tab."""
    return {"title": words.book_consultation, "type": "web_url", "url": settings.booking_url}


def booking_quick_reply(words: Wording = ENGLISH_WORDING) -> Button:
    """A quick reply that asks to book (the `book_consultation` intent), as domain.yml has it."""
    return {"title": words.book_consultation, "payload": intent_payload(BOOK_INTENT)}


def person_quick_reply(title: str = TALK_TO_A_PERSON) -> Button:
    """A quick reply that asks for a person (the `contact_human` intent)."""
    return {"title": title, "payload": intent_payload(CONTACT_INTENT)}


def phone_button(settings: ClinicSettings, words: Wording = ENGLISH_WORDING) -> Button:
    """A link button that dials the clinic."""
    return {"title": words.call_phone.format(phone=settings.phone), "type": "phone",
            "url": settings.phone_link}


def topic_quick_reply(topic: Topic, language: Optional[str] = None) -> Button:
    """A quick reply that asks the topic's question (its title is one of its examples)."""
    title = topic.title_in(language)
    return {"title": title, "payload": title}
