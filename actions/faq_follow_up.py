"""What follows an FAQ answer: related topics and an offer to book, or the handoff."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from clinic.buttons import booking_quick_reply, phone_button, topic_quick_reply
from clinic.parse_result import topic_key
from clinic.replies import CRISIS_KIND_ENTITY, build_handoff, risk_line
from clinic.settings import ClinicSettings, Clock, current_settings, utc_now
from clinic.topics import FaqTopics, current_topics

OFFER_TO_BOOK = (
    "Would you like to book a consultation to talk about whether it could help you? "
    "You can also ask me about a related topic."
)


class ActionFaqFollowUp(Action):
    """After an FAQ answer: hand off where the article is silent, else offer to book."""

    def __init__(
        self,
        settings: Optional[ClinicSettings] = None,
        clock: Clock = utc_now,
        topics: Optional[FaqTopics] = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._topics = topics

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_faq_follow_up"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Send the follow-up for the topic just answered."""
        settings = self._settings or current_settings()
        topics = self._topics or current_topics()
        topic = topics.get(topic_key(tracker.latest_message) or "")
        line = risk_line(
            bool(tracker.get_slot("crisis_mode")),
            tracker.get_latest_entity_values(CRISIS_KIND_ENTITY),
        )
        if line:
            # After a crisis message, or with a weaker risk signal in this one: no booking
            # pitch, and 988 stays in reach.
            if topic is None or not topic.answered_by_article:
                dispatcher.utter_message(
                    text=f"The clinic's team can answer that at {settings.phone}.",
                    buttons=[phone_button(settings)],
                )
            dispatcher.utter_message(response=line)
        elif topic is None or not topic.answered_by_article:
            handoff = build_handoff(
                settings, self._clock(), phone_first=False,
                condition=tracker.get_slot("condition"),
            )
            dispatcher.utter_message(text=handoff.text, buttons=handoff.buttons)
        else:
            related = [topic_quick_reply(topics[other]) for other in topic.related]
            dispatcher.utter_message(
                text=OFFER_TO_BOOK, buttons=[*related, booking_quick_reply()])
        return []
