"""The handoff to the clinic (SPEC section 4): a sentence, a booking link and a tel: link."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from clinic.replies import CRISIS_KIND_ENTITY, build_handoff, check_in_line
from clinic.settings import ClinicSettings, Clock, current_settings, utc_now
from clinic.wording import LANGUAGE_SLOT, wording


class ActionHandoff(Action):
    """Hand the visitor to the clinic: booking first, or phone first for `contact_human`.

    Tests may pass the settings and a clock; the server uses the settings file and the time.
    """

    def __init__(self, settings: Optional[ClinicSettings] = None, clock: Clock = utc_now) -> None:
        self._settings = settings
        self._clock = clock

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Send the handoff message with its two link buttons."""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        handoff = build_handoff(
            self._settings or current_settings(),
            self._clock(),
            phone_first=intent == "contact_human",
            condition=tracker.get_slot("condition"),
            words=wording(tracker.get_slot(LANGUAGE_SLOT)),
        )
        dispatcher.utter_message(text=handoff.text, buttons=handoff.buttons)
        line = check_in_line(tracker.get_latest_entity_values(CRISIS_KIND_ENTITY))
        if line:
            dispatcher.utter_message(response=line)
        return []
