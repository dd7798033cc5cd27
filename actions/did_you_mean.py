"""When the assistant is unsure: offer the two likeliest topics, or a person; never guess."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.faq_follow_up import TopicsMixin, topic_button
from clinic_nlp.answers import RETRIEVAL_INTENT, topic_ranking

NOT_UNDERSTOOD = "utter_please_rephrase"  # the domain response, with a button to a person
DID_YOU_MEAN = "I'm not sure I understood. Did you mean one of these?"
SOMETHING_ELSE = {"title": "Something else: talk to a person", "payload": "/contact_human"}
# Intents worth offering as a guess, with the button that leads to them.
INTENT_BUTTONS = {
    "book_consultation": {"title": "Book a consultation", "payload": "/book_consultation"},
    "contact_human": {"title": "Talk to a person", "payload": "/contact_human"},
}
MAX_SUGGESTIONS = 2
MIN_CONFIDENCE = 0.1  # a guess below this is noise, not worth a button


class ActionDidYouMean(TopicsMixin, Action):
    """For `nlu_fallback`: buttons for the two likeliest answers plus "something else"."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_did_you_mean"

    def suggestions(self, parse: Dict[str, Any]) -> List[Dict[str, str]]:
        """Buttons for the likeliest topics or intents, best first, at most two."""
        buttons: List[Dict[str, str]] = []
        for intent in parse.get("intent_ranking") or []:
            if intent.get("confidence", 0.0) < MIN_CONFIDENCE:
                continue
            name = intent.get("name")
            if name == RETRIEVAL_INTENT:
                for response in topic_ranking(parse):
                    key = (response.get("intent_response_key") or "").partition("/")[2]
                    if key in self.topics and response.get("confidence", 0) >= MIN_CONFIDENCE:
                        buttons.append(topic_button(self.topics, key))
            elif name in INTENT_BUTTONS:
                buttons.append(INTENT_BUTTONS[name])
        unique = list({button["payload"]: button for button in buttons}.values())
        return [b for b in unique if b != SOMETHING_ELSE][:MAX_SUGGESTIONS]

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Offer the likeliest topics, or ask to rephrase, always with a way to a person."""
        suggestions = self.suggestions(tracker.latest_message)
        if suggestions:
            dispatcher.utter_message(text=DID_YOU_MEAN, buttons=[*suggestions, SOMETHING_ELSE])
        else:
            dispatcher.utter_message(response=NOT_UNDERSTOOD)
        return []
