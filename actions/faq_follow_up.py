"""What follows an FAQ answer: an offer to book, or the handoff where the article is silent."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import CRISIS_REMINDER, SettingsMixin, phone_button

FAQ_TOPICS_FILE = Path(__file__).resolve().parent.parent / "settings" / "faq_topics.yml"
RETRIEVAL_INTENT = "faq"
OFFER_TO_BOOK = "Would you like to book a consultation to talk about whether it could help you?"


def load_faq_topics(path: Path = FAQ_TOPICS_FILE) -> Dict[str, Dict[str, Any]]:
    """FAQ key -> {title, answered_by_article}."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def answered_faq_key(tracker: Tracker) -> Optional[str]:
    """The `<key>` of `faq/<key>` that the response selector answered, if any."""
    selector = (tracker.latest_message.get("response_selector") or {}).get(RETRIEVAL_INTENT)
    response_key = ((selector or {}).get("response") or {}).get("intent_response_key") or ""
    prefix = f"{RETRIEVAL_INTENT}/"
    return response_key[len(prefix):] if response_key.startswith(prefix) else None


class ActionFaqFollowUp(SettingsMixin, Action):
    """After an FAQ answer: hand off where the article is silent, else offer to book."""

    _topics: Optional[Dict[str, Dict[str, Any]]] = None

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_faq_follow_up"

    @property
    def topics(self) -> Dict[str, Dict[str, Any]]:
        """The FAQ topic list, read once."""
        if self._topics is None:
            self._topics = load_faq_topics()
        return self._topics

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Send the follow-up for the topic just answered."""
        key = answered_faq_key(tracker)
        answered = self.topics.get(key or "", {}).get("answered_by_article", False)
        crisis_mode = bool(tracker.get_slot("crisis_mode"))
        if crisis_mode:
            # After a crisis message: no booking pitch, the resources stay in reach.
            if answered:
                dispatcher.utter_message(text=CRISIS_REMINDER)
            else:
                dispatcher.utter_message(
                    text=f"The clinic's team can answer that at {self.settings.phone}. "
                    f"{CRISIS_REMINDER}",
                    buttons=[phone_button(self.settings)],
                )
        elif not answered:
            handoff = self.handoff(tracker, phone_first=False)
            dispatcher.utter_message(text=handoff.text, buttons=handoff.buttons)
        else:
            dispatcher.utter_message(
                text=OFFER_TO_BOOK,
                buttons=[
                    {"title": "Yes, book a consultation", "payload": "/book_consultation"},
                    {"title": "No, thanks", "payload": "/deny"},
                ],
            )
        return []
