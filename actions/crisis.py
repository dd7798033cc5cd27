"""After a crisis: the clinic's own line (phone only), and a question behind a "never mind".

No booking is ever offered here. When the line is closed it says so (the crisis lines'
buttons come first, in utter_crisis).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.faq_follow_up import ActionFaqPhoneOnly
from clinic.buttons import phone_button
from clinic.parse_result import FALLBACK, prefaced_question
from clinic.settings import ClinicSettings, Clock, current_settings, utc_now
from clinic.topics import current_topics
from clinic.wording import LANGUAGE_SLOT, OTHER_LANGUAGE_ENTITY, current_languages, wording

NOT_UNDERSTOOD = "utter_please_rephrase"


class ActionCrisisContact(Action):
    """Give the clinic's phone for non-urgent help (the resources came from `utter_crisis`).

    The 988 / 741741 / 911 reply is a domain response so that it reaches the visitor even
    when the action server is down; this action only adds the clinic's number, and, for a
    message in a language the assistant does not answer in, the line of settings/languages.yml
    naming 911 and 988 in that language.
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
        # A crisis written in a language the assistant does not answer in (Vietnamese,
        # Russian...): the sentence with 911 and 988 in that language, after the crisis reply.
        code = next(tracker.get_latest_entity_values(OTHER_LANGUAGE_ENTITY), None)
        in_their_language = current_languages().in_danger(code)
        if in_their_language:
            dispatcher.utter_message(text=in_their_language)
        words = wording(tracker.get_slot(LANGUAGE_SLOT))
        now = self._clock()
        if settings.is_open(now):
            text = words.clinic_line_open.format(phone=settings.phone)
        else:
            reopens = settings.next_opening(now, words)
            when = words.clinic_line_reopens.format(reopens=reopens) if reopens else ""
            text = words.clinic_line_closed.format(phone=settings.phone, when=when)
        dispatcher.utter_message(text=text, buttons=[phone_button(settings, words)])
        return []


class ActionCrisisQuestion(ActionFaqPhoneOnly):
    """After a crisis, a question behind a preface is answered: "never mind, how much is it?".

    The rules of data/rules/crisis.yml run it for `deny`, `affirm`, `thanks`, `greet` and
    `nlu_fallback` after a crisis message, then add their own reply naming 988. If the
    message carries an FAQ question (`clinic.parse_result.prefaced_question`), it sends the
    topic's answer, and the clinic's phone where the article is silent: never an offer to
    book. Otherwise it sends nothing, or, for a message not understood, the request to
    rephrase.
    """

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_crisis_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """The answer to the prefaced question, or the request to rephrase, or nothing."""
        parse = tracker.latest_message
        key = prefaced_question(parse)
        topics = self._topics or current_topics()
        if key is not None and key in topics:
            dispatcher.utter_message(response=f"utter_faq/{key}")
            self._phone_if_unanswered(dispatcher, tracker, topics[key])
        elif (parse.get("intent") or {}).get("name") == FALLBACK:
            dispatcher.utter_message(response=NOT_UNDERSTOOD)
        return []
