"""What follows an FAQ answer: related topics and an offer to book, or the handoff."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from clinic.buttons import booking_quick_reply, phone_button, topic_quick_reply
from clinic.parse_result import topic_key
from clinic.replies import CRISIS_KIND_ENTITY, build_handoff, check_in_line
from clinic.settings import ClinicSettings, Clock, current_settings, utc_now
from clinic.topics import FaqTopics, Topic, current_topics
from clinic.wording import LANGUAGE_SLOT, wording


class ActionFaqFollowUp(Action):
    """After an FAQ answer: hand off where the article is silent, else offer to book.

    With a weaker risk signal in the message (`crisis_kind: check_in`): no offer to book, the
    clinic's phone where the article is silent, and the line naming 988.
    """

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

    def _topic(self, tracker: Tracker) -> Optional[Topic]:
        topics = self._topics or current_topics()
        return topics.get(topic_key(tracker.latest_message) or "")

    def _phone_if_unanswered(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, topic: Optional[Topic]
    ) -> None:
        if topic is None or not topic.answered_by_article:
            settings = self._settings or current_settings()
            words = wording(tracker.get_slot(LANGUAGE_SLOT))
            dispatcher.utter_message(
                text=words.team_can_answer.format(phone=settings.phone),
                buttons=[phone_button(settings, words)],
            )

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Send the follow-up for the topic just answered."""
        topic = self._topic(tracker)
        language = tracker.get_slot(LANGUAGE_SLOT)
        words = wording(language)
        line = check_in_line(tracker.get_latest_entity_values(CRISIS_KIND_ENTITY))
        if line:
            self._phone_if_unanswered(dispatcher, tracker, topic)
            dispatcher.utter_message(response=line)
        elif topic is None or not topic.answered_by_article:
            handoff = build_handoff(
                self._settings or current_settings(), self._clock(), phone_first=False,
                condition=tracker.get_slot("condition"), words=words,
            )
            dispatcher.utter_message(text=handoff.text, buttons=handoff.buttons)
        else:
            topics = self._topics or current_topics()
            related = [topic_quick_reply(topics[other], language) for other in topic.related]
            dispatcher.utter_message(
                text=words.offer_to_book, buttons=[*related, booking_quick_reply(words)])
        return []


class ActionFaqPhoneOnly(ActionFaqFollowUp):
    """After an FAQ answer: the clinic's phone where the article is silent; never an offer.

    The rules choose it after a crisis message (data/rules/crisis.yml), and add the line
    naming 988 themselves.
    """

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_faq_phone_only"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """The phone line, if the topic just answered is one the article does not cover."""
        self._phone_if_unanswered(dispatcher, tracker, self._topic(tracker))
        return []
