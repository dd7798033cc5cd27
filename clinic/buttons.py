"""The buttons that lead to the clinic, built once: booking (link or quick reply) and phone.

Every Python place that offers them uses these functions. domain.yml writes the quick replies
in YAML for its own responses (utter_greet, utter_please_rephrase); tests/test_actions.py
checks that they match the ones here.
"""

from __future__ import annotations

from typing import Dict

from clinic.settings import ClinicSettings
from clinic.topics import Topic

Button = Dict[str, str]

BOOK_CONSULTATION = "Book a consultation"
TALK_TO_A_PERSON = "Talk to a person"
BOOK_INTENT = "book_consultation"
CONTACT_INTENT = "contact_human"


def booking_link_button(settings: ClinicSettings) -> Button:
    """A link button that opens the booking calendar in a new tab."""
    return {"title": BOOK_CONSULTATION, "type": "web_url", "url": settings.booking_url}


def booking_quick_reply() -> Button:
    """A quick reply that asks to book (the `book_consultation` intent), as domain.yml has it."""
    return {"title": BOOK_CONSULTATION, "payload": f"/{BOOK_INTENT}"}


def person_quick_reply(title: str = TALK_TO_A_PERSON) -> Button:
    """A quick reply that asks for a person (the `contact_human` intent)."""
    return {"title": title, "payload": f"/{CONTACT_INTENT}"}


def phone_button(settings: ClinicSettings) -> Button:
    """A link button that dials the clinic."""
    return {"title": f"Call {settings.phone}", "type": "phone", "url": settings.phone_link}


def topic_quick_reply(topic: Topic) -> Button:
    """A quick reply that asks the topic's question (its title is one of its examples)."""
    return {"title": topic.title, "payload": topic.title}
