"""What follows an FAQ answer: related topics and an offer to book, or the handoff."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import (
    CHECK_IN_LINE,
    CRISIS_REMINDER,
    SettingsMixin,
    is_check_in,
    phone_button,
)
from clinic_nlp.answers import topic_key

FAQ_TOPICS_FILE = Path(__file__).resolve().parent.parent / "settings" / "faq_topics.yml"
OFFER_TO_BOOK = (
    "Would you like to book a consultation to talk about whether it could help you? "
    "You can also ask me about a related topic."
)
BOOK_BUTTON = {"title": "Book a consultation", "payload": "/book_consultation"}

Topics = Dict[str, Dict[str, Any]]


def load_faq_topics(path: Path = FAQ_TOPICS_FILE) -> Topics:
    """FAQ key -> {title, answered_by_article, related}."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def topic_button(topics: Topics, key: str) -> Dict[str, str]:
    """A quick reply that asks the topic's question."""
    return {"title": topics[key]["title"], "payload": topics[key]["title"]}


def answered_faq_key(tracker: Tracker) -> Optional[str]:
    """The `<key>` of `faq/<key>` that the latest message was answered with, if any."""
    return topic_key(tracker.latest_message)


class TopicsMixin:
    """Reads settings/faq_topics.yml once."""

    _topics: Optional[Topics] = None

    @property
    def topics(self) -> Topics:
        """The FAQ topic list."""
        if self._topics is None:
            self._topics = load_faq_topics()
        return self._topics


class ActionFaqFollowUp(SettingsMixin, TopicsMixin, Action):
    """After an FAQ answer: hand off where the article is silent, else offer to book."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_faq_follow_up"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Send the follow-up for the topic just answered."""
        key = answered_faq_key(tracker) or ""
        topic = self.topics.get(key, {})
        crisis_mode = tracker.get_slot("crisis_mode")
        if crisis_mode or is_check_in(tracker):
            # After a crisis message, or with a weaker risk signal in this one: no booking
            # pitch, and 988 stays in reach.
            if not topic.get("answered_by_article"):
                dispatcher.utter_message(
                    text=f"The clinic's team can answer that at {self.settings.phone}.",
                    buttons=[phone_button(self.settings)],
                )
            dispatcher.utter_message(response=CRISIS_REMINDER if crisis_mode else CHECK_IN_LINE)
        elif not topic.get("answered_by_article"):
            handoff = self.handoff(tracker, phone_first=False)
            dispatcher.utter_message(text=handoff.text, buttons=handoff.buttons)
        else:
            related = [topic_button(self.topics, other) for other in topic.get("related", [])]
            dispatcher.utter_message(text=OFFER_TO_BOOK, buttons=[*related, BOOK_BUTTON])
        return []
