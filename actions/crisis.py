"""The clinic's own line after the crisis resources: phone only, never booking.

When the line is closed it says so (the crisis lines' buttons come first, in utter_crisis).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from clinic.buttons import phone_button
from clinic.settings import ClinicSettings, Clock, current_settings, utc_now


class ActionCrisisContact(Action):
    """Give the clinic's phone for non-urgent help (the resources came from `utter_crisis`).

    The 988 / 741741 / 911 reply is a domain response so that it reaches the visitor even
    when the action server is down; this action only adds the clinic's number.
    """

    def __init__(self, settings: Optional[ClinicSettings] = None, clock: Clock = utc_now) -> None:
        self._settings = settings
        self._clock = clock

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_crisis_contact"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Send the clinic's phone number for non-urgent help."""
        settings = self._settings or current_settings()
        now = self._clock()
        if settings.is_open(now):
            text = f"For non-urgent questions you can also call the clinic at {settings.phone}."
        else:
            reopens = settings.next_opening(now)
            when = f"; it opens again {reopens}" if reopens else ""
            text = (
                f"The clinic's line ({settings.phone}) is closed right now{when}. It is for "
                "non-urgent questions: for help now, use 988 or 911 above."
            )
        dispatcher.utter_message(text=text, buttons=[phone_button(settings)])
        return []
