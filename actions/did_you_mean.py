"""When the assistant is unsure: offer the two likeliest topics, or a person; never guess."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from clinic.buttons import (
    BOOK_INTENT,
    CONTACT_INTENT,
    booking_quick_reply,
    person_quick_reply,
    topic_quick_reply,
)
from clinic.parse_result import RETRIEVAL_INTENT, topic_ranking
from clinic.topics import FaqTopics, current_topics
from clinic.wording import ENGLISH_WORDING, LANGUAGE_SLOT, Wording, wording

NOT_UNDERSTOOD = "utter_please_rephrase"  # the domain response, with booking and a person
# Under the suggestions, always: booking and a person (no dead end).
SOMETHING_ELSE = person_quick_reply(ENGLISH_WORDING.something_else)


def intent_buttons(words: Wording) -> Dict[str, Dict[str, str]]:
    """Intents worth offering as a guess, with the button that leads to them."""
    return {
        BOOK_INTENT: booking_quick_reply(words),
        CONTACT_INTENT: person_quick_reply(words.talk_to_a_person),
    }


INTENT_BUTTONS = intent_buttons(ENGLISH_WORDING)
MAX_SUGGESTIONS = 2
MIN_CONFIDENCE = 0.1  # a guess below this is noise, not worth a button


class ActionDidYouMean(Action):
    """For `nlu_fallback`: buttons for the two likeliest topics, booking, "something else".

    Never run after a crisis message (data/rules/crisis.yml): it offers booking.
    """

    def __init__(self, topics: Optional[FaqTopics] = None) -> None:
        self._topics = topics

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_did_you_mean"

    def suggestions(
        self, parse: Dict[str, Any], language: Optional[str] = None
    ) -> List[Dict[str, str]]:
        """Buttons for the likeliest topics or intents, best first, at most two."""
        topics = self._topics or current_topics()
        guesses = intent_buttons(wording(language))
        buttons: List[Dict[str, str]] = []
        for intent in parse.get("intent_ranking") or []:
            if intent.get("confidence", 0.0) < MIN_CONFIDENCE:
                continue
            name = intent.get("name")
            if name == RETRIEVAL_INTENT:
                for response in topic_ranking(parse):
                    key = (response.get("intent_response_key") or "").partition("/")[2]
                    if key in topics and response.get("confidence", 0) >= MIN_CONFIDENCE:
                        buttons.append(topic_quick_reply(topics[key], language))
            elif name in guesses:
                buttons.append(guesses[name])
        unique = list({button["payload"]: button for button in buttons}.values())
        return unique[:MAX_SUGGESTIONS]

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Offer the likeliest topics, or ask to rephrase, always with booking and a person."""
        language = tracker.get_slot(LANGUAGE_SLOT)
        words = wording(language)
        suggestions = self.suggestions(tracker.latest_message, language)
        if suggestions:
            book = booking_quick_reply(words)
            more = [] if book in suggestions else [book]
            something_else = person_quick_reply(words.something_else)
            dispatcher.utter_message(
                text=words.did_you_mean, buttons=[*suggestions, *more, something_else])
        else:
            dispatcher.utter_message(response=NOT_UNDERSTOOD)
        return []
