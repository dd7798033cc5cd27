"""The handoff to the clinic (SPEC section 4): a sentence, a booking link and a tel: link."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.settings import WEEKDAYS, ClinicSettings, load_settings

Button = Dict[str, str]
Clock = Callable[[], dt.datetime]
# The domain response (domain.yml) that keeps 988 in reach after a crisis message.
CRISIS_REMINDER = "utter_crisis_reminder"
# The one line naming 988 added to a reply when the message carried a weaker risk signal.
CHECK_IN_LINE = "utter_check_in"
# Set on a message by the crisis detector (clinic_nlp/crisis_detector.py).
CRISIS_KIND_ENTITY = "crisis_kind"


def is_check_in(tracker: Tracker) -> bool:
    """The latest message carried a weaker risk signal (the crisis detector's check-in tier)."""
    return "check_in" in tracker.get_latest_entity_values(CRISIS_KIND_ENTITY)


def utc_now() -> dt.datetime:
    """The current time, time-zone aware."""
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class Handoff:
    """A reply that hands the visitor to the clinic."""

    text: str
    buttons: List[Button]


def booking_button(settings: ClinicSettings) -> Button:
    """A link button that opens the booking calendar in a new tab."""
    return {"title": "Book a consultation", "type": "web_url", "url": settings.booking_url}


def phone_button(settings: ClinicSettings) -> Button:
    """A link button that dials the clinic."""
    return {"title": f"Call {settings.phone}", "type": "phone", "url": settings.phone_link}


def next_opening(settings: ClinicSettings, moment: dt.datetime) -> Optional[str]:
    """'tomorrow at 09:00' or 'Monday at 09:00', or None if the line never opens."""
    local = moment.astimezone(settings.time_zone)
    for days_ahead in range(0, 8):
        day = local + dt.timedelta(days=days_ahead)
        hours = settings.opening_hours[WEEKDAYS[day.weekday()]]
        if hours is None or (days_ahead == 0 and local.time() >= hours[0]):
            continue
        when = {0: "today", 1: "tomorrow"}.get(days_ahead, WEEKDAYS[day.weekday()].title())
        return f"{when} at {hours[0]:%H:%M}"
    return None


def build_handoff(
    settings: ClinicSettings,
    moment: dt.datetime,
    phone_first: bool,
    condition: Optional[str] = None,
) -> Handoff:
    """Compose the handoff: phone first when asked for a person and the line is open."""
    phone, booking = phone_button(settings), booking_button(settings)
    zone = moment.astimezone(settings.time_zone).tzname()
    about = f" about {condition}" if condition else ""
    if not settings.is_open(moment):
        reopens = next_opening(settings, moment)
        reopening = f" It opens again {reopens} ({zone})." if reopens else ""
        text = (
            f"Our phone line is closed right now.{reopening} You can book a consultation "
            f"online at any time, or call us at {settings.phone} when we're open."
        )
        buttons = [booking, phone]
    elif phone_first:
        text = (
            f"To talk with someone at the clinic{about}, call us at {settings.phone}. "
            "You can also book a consultation online."
        )
        buttons = [phone, booking]
    else:
        text = (
            f"You can book a consultation{about} online at a time that suits you, or call "
            f"us at {settings.phone}."
        )
        buttons = [booking, phone]
    return Handoff(text=text, buttons=buttons)


class SettingsMixin:
    """For actions that read the clinic's settings once; tests may pass settings and a clock.

    A mixin rather than an `Action` subclass, so rasa-sdk does not register it as an action.
    """

    def __init__(
        self, settings: Optional[ClinicSettings] = None, clock: Clock = utc_now
    ) -> None:
        self._settings = settings
        self._clock = clock

    @property
    def settings(self) -> ClinicSettings:
        """The clinic's settings, loaded on first use (checked at start-up in actions.py)."""
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    def handoff(self, tracker: Tracker, phone_first: bool) -> Handoff:
        """The handoff for this conversation's state."""
        return build_handoff(
            self.settings,
            self._clock(),
            phone_first=phone_first,
            condition=tracker.get_slot("condition"),
        )


class ActionHandoff(SettingsMixin, Action):
    """Hand the visitor to the clinic: booking first, or phone first for `contact_human`."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Send the handoff message with its two link buttons."""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        handoff = self.handoff(tracker, phone_first=intent == "contact_human")
        dispatcher.utter_message(text=handoff.text, buttons=handoff.buttons)
        if tracker.get_slot("crisis_mode"):
            dispatcher.utter_message(response=CRISIS_REMINDER)
        elif is_check_in(tracker):
            dispatcher.utter_message(response=CHECK_IN_LINE)
        return []
