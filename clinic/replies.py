"""What the replies that lead to the clinic contain (SPEC section 4), as plain data.

The handoff: a sentence, a booking link and a tel: link, phone first when the visitor asked
for a person and the line is open. And the line naming 988 when a message carried a weaker
risk signal (the crisis detector's `crisis_kind: check_in`): the reply adds it and offers no
booking. What follows a crisis message (`crisis_mode`) is the rules' alone
(data/rules/crisis.yml): they pick the replies and add `utter_crisis_reminder`.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional

from clinic.buttons import Button, booking_link_button, phone_button
from clinic.paths import DOMAIN_FILE
from clinic.settings import ClinicSettings
from clinic.wording import ENGLISH, ENGLISH_WORDING, LANGUAGE_SLOT, Wording
from clinic.yaml_file import read_yaml

# The one line naming 988 added to a reply when the message carried a weaker risk signal.
CHECK_IN_LINE = "utter_check_in"
# Set on a message by the crisis detector (clinic_nlp/crisis_detector.py).
CRISIS_KIND_ENTITY = "crisis_kind"
CHECK_IN = "check_in"
# Set by the first crisis message of a conversation and never cleared (domain.yml): from then
# on no booking offer. The chat channel reads it for the replies it writes itself.
CRISIS_MODE_SLOT = "crisis_mode"
# The reminder naming 988 after a crisis; its text, in domain.yml, is also read by the chat
# channel for the replies it writes itself when it cannot run a turn (`crisis_reminder`).
CRISIS_REMINDER_RESPONSE = "utter_crisis_reminder"
# What the chat channel says when a turn fails (the fuzz and the tests look for it).
TURN_FAILED = ENGLISH_WORDING.turn_failed
IN_DANGER = ENGLISH_WORDING.in_danger


def crisis_reminder(domain_file: Path = DOMAIN_FILE, language: Optional[str] = None) -> str:
    """The text of `utter_crisis_reminder` in the domain, in the conversation's `language`."""
    return domain_text(CRISIS_REMINDER_RESPONSE, domain_file, language)


def check_in_text(domain_file: Path = DOMAIN_FILE, language: Optional[str] = None) -> str:
    """The text of `utter_check_in` (the line naming 988), in the conversation's `language`."""
    return domain_text(CHECK_IN_LINE, domain_file, language)


@functools.lru_cache(maxsize=8)
def domain_text(response: str, domain_file: Path = DOMAIN_FILE,
                language: Optional[str] = None) -> str:
    """A response's text in the domain: its variant for the `language` slot, else English.

    Read once per process and response (the chat channel asks on a turn).
    """
    domain = read_yaml(domain_file, ValueError, "domain")
    texts = {
        next((c.get("value") for c in variant.get("condition") or []
              if c.get("name") == LANGUAGE_SLOT), ENGLISH): variant["text"]
        for variant in domain["responses"][response]
    }
    return str(texts.get(language or ENGLISH, texts[ENGLISH])).strip()


def is_check_in(crisis_kinds: Iterable[Optional[str]]) -> bool:
    """The message's `crisis_kind` values include the check-in tier (a weaker risk signal)."""
    return CHECK_IN in crisis_kinds


def check_in_line(crisis_kinds: Iterable[Optional[str]]) -> Optional[str]:
    """The domain response naming 988 that a reply to this message must add, or None."""
    return CHECK_IN_LINE if is_check_in(crisis_kinds) else None


@dataclass(frozen=True)
class Handoff:
    """A reply that hands the visitor to the clinic."""

    text: str
    buttons: List[Button]


def build_handoff(
    settings: ClinicSettings,
    moment: dt.datetime,
    phone_first: bool,
    condition: Optional[str] = None,
    words: Wording = ENGLISH_WORDING,
) -> Handoff:
    """Compose the handoff: phone first when asked for a person and the line is open."""
    phone, booking = phone_button(settings, words), booking_link_button(settings, words)
    zone = moment.astimezone(settings.time_zone).tzname() or ""
    about = words.about.format(condition=condition) if condition else ""
    if not settings.is_open(moment):
        reopens = settings.next_opening(moment, words)
        reopening = words.handoff_reopens.format(when=reopens, zone=zone) if reopens else ""
        text = words.handoff_closed.format(reopening=reopening, phone=settings.phone)
        buttons = [booking, phone]
    elif phone_first:
        text = words.handoff_phone_first.format(about=about, phone=settings.phone)
        buttons = [phone, booking]
    else:
        text = words.handoff_booking_first.format(about=about, phone=settings.phone)
        buttons = [booking, phone]
    return Handoff(text=text, buttons=buttons)
