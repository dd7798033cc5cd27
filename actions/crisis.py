"""The clinic's own line after the crisis resources: phone only, never booking.

When the line is closed it says so (the crisis lines' buttons come first, in utter_crisis).
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import SettingsMixin, next_opening, phone_button


class ActionCrisisContact(SettingsMixin, Action):
    """Give the clinic's phone for non-urgent help (the resources came from `utter_crisis`).

    The 988 / 741741 / 911 reply is a domain response so that it reaches the visitor even
    when the action server is down; this action only adds the clinic's number.
    """

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_crisis_contact"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Send the clinic's phone number for non-urgent help."""
        now = self._clock()
        if self.settings.is_open(now):
            text = (
                f"For non-urgent questions you can also call the clinic at {self.settings.phone}."
            )
        else:
            reopens = next_opening(self.settings, now)
            when = f"; it opens again {reopens}" if reopens else ""
            text = (
                f"The clinic's line ({self.settings.phone}) is closed right now{when}. It is for "
                "non-urgent questions: for help now, use 988 or 911 above."
            )
        dispatcher.utter_message(text=text, buttons=[phone_button(self.settings)])
        return []
