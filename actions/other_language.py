"""A message in another language than English or Spanish: one reply in that language.

The language tagger (clinic_nlp/language.py) marks a message it is sure is in, say, French
with the entity `other_language` and the intent `out_of_scope`; a rule (data/rules/general.yml)
runs this action. It says, in that language, that the assistant answers in English and
Spanish, with buttons for the clinic's phone and booking calendar. After a crisis message the
rules run `action_other_language_phone_only` instead: no booking offer (SPEC section 3).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from clinic.buttons import booking_link_button, phone_button
from clinic.settings import ClinicSettings, current_settings
from clinic.wording import OTHER_LANGUAGE_ENTITY, current_languages

OUT_OF_SCOPE = "utter_out_of_scope"


class ActionOtherLanguage(Action):
    """Reply in the visitor's language that the assistant answers in English and Spanish."""

    offers_booking = True

    def __init__(self, settings: Optional[ClinicSettings] = None) -> None:
        self._settings = settings

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_other_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """The reply in the message's language, or the usual off-topic reply if there is none."""
        code = next(tracker.get_latest_entity_values(OTHER_LANGUAGE_ENTITY), None)
        template = current_languages().other_languages.get(str(code))
        if template is None:
            dispatcher.utter_message(response=OUT_OF_SCOPE)
            return []
        settings = self._settings or current_settings()
        buttons = [phone_button(settings)]
        if self.offers_booking:
            buttons.append(booking_link_button(settings))
        dispatcher.utter_message(text=template.format(phone=settings.phone), buttons=buttons)
        return []


class ActionOtherLanguagePhoneOnly(ActionOtherLanguage):
    """The same reply with the clinic's phone only: the rules run it after a crisis message."""

    offers_booking = False

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_other_language_phone_only"
