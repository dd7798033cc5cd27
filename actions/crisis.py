"""The clinic's own line after the crisis resources: phone only, never booking."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import SettingsMixin, phone_button


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
        dispatcher.utter_message(
            text=(
                f"For non-urgent questions you can also call the clinic at "
                f"{self.settings.phone}."
            ),
            buttons=[phone_button(self.settings)],
        )
        return []
