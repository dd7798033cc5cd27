"""The staff console's inbox, on a real SQLite tracker store written by the project's masking
tracker store with the events Rasa records for each kind of turn (no servers, no model)."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import Engine

from clinic_server.tracker_store import MaskingSQLTrackerStore
from staff_tools import inbox
from staff_tools.inbox import HandledStore, InboxGroup, InboxMessage, conversation_around
from staff_tools.review import crisis_conversations
from tests.conftest import PROJECT_DIR

ZONE = ZoneInfo("America/Los_Angeles")
MONDAY, TUESDAY = dt.date(2026, 11, 23), dt.date(2026, 11, 24)
BOOKING = {"title": "Book a consultation", "type": "web_url",
           "url": "https://booking.clinic.test/consultation"}
PHONE = {"title": "Call 415-249-2580", "type": "phone", "url": "tel:+14152492580"}
PERSON = {"title": "Something else: talk to a person", "payload": "/contact_human"}
DID_YOU_MEAN = "I'm not sure I understood. Did you mean one of these?"
WHAT_IS = "What is ketamine infusion therapy?"

# What visitors said, and what the inbox must make of it.
COST = "how much does it cost with insurance"
COST_AGAIN = "How much does it cost  with insurance?"
COST_SIMILAR = "how much does ketamine cost with my insurance"
DOG = "can my dog get ketamine"
GIBBERISH = "asdfgh qwerty zxcvbn"
WEATHER = "what's the weather in paris today"
FDA = "is ketamine FDA approved?"
SPEED = "how fast does it work?"
WITH_PHONE = "call me at 415-555-0199 about prices please"
CRISIS = "I don't want to live anymore"
CHECK_IN_QUESTION = "does it help when everything feels pointless"
LATER_CRISIS_OFF_TOPIC = "who won the game last night"
OLD = "what about parking at the clinic"


def at(day: dt.date, hour: int, minute: int = 0) -> float:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE).timestamp()


def parse(intent: str, confidence: float, faq: Optional[str] = None,
          faq_confidence: float = 0.0, ranking: Sequence[tuple] = (),
          entities: Sequence[Dict[str, Any]] = ()) -> Dict[str, Any]:
    """Parse data as Rasa stores it for a message (intent ranking, response selector)."""
    names = [(intent, confidence), *ranking]
    data: Dict[str, Any] = {
        "intent": {"name": intent, "confidence": confidence},
        "entities": list(entities),
        "intent_ranking": [{"name": name, "confidence": value} for name, value in names],
    }
    if faq:
        data["intent"]["full_retrieval_intent_name"] = f"faq/{faq}" if intent == "faq" else None
        data["response_selector"] = {"faq": {
            "response": {"intent_response_key": f"faq/{faq}", "confidence": faq_confidence,
                         "responses": [{"text": "The clinic's answer."}],
                         "utter_action": f"utter_faq/{faq}"},
            "ranking": [{"intent_response_key": f"faq/{faq}", "confidence": faq_confidence}],
        }}
    return data


class Conversation:
    """One visitor's conversation, turn by turn, as the Rasa server records it."""

    def __init__(self, start: float) -> None:
        self.sender = "web-" + str(uuid.uuid4())
        self.clock = start
        self.events: List[Event] = [
            ActionExecuted("action_session_start", timestamp=self.tick()),
            SessionStarted(timestamp=self.tick()),
            ActionExecuted("action_listen", timestamp=self.tick()),
        ]
        self.said: Dict[str, float] = {}  # text -> when

    def tick(self, seconds: float = 1.0) -> float:
        self.clock += seconds
        return self.clock

    def user(self, text: str, parse_data: Dict[str, Any]) -> None:
        when = self.tick(30)
        self.said[text] = when
        self.events.append(UserUttered(
            text, parse_data["intent"], parse_data["entities"], parse_data, timestamp=when,
            input_channel="rest", message_id=uuid.uuid4().hex,
        ))

    def action(self, name: str) -> None:
        self.events.append(ActionExecuted(name, policy="RulePolicy", confidence=1.0,
                                          timestamp=self.tick(0.1)))

    def bot(self, text: str, buttons: Sequence[Dict[str, str]] = (),
            response: Optional[str] = None, custom: Optional[Dict[str, Any]] = None) -> None:
        data = {"elements": None, "quick_replies": None, "buttons": list(buttons) or None,
                "attachment": None, "image": None, "custom": custom}
        metadata = {"utter_action": response} if response else {}
        self.events.append(BotUttered(text, data, metadata, timestamp=self.tick(0.1)))

    def listen(self) -> None:
        self.action("action_listen")

    # ---- the kinds of turn ---------------------------------------------------------------

    def faq(self, text: str, key: str, confidence: float = 0.97,
            topic_confidence: float = 0.93, entities: Sequence[Dict[str, Any]] = ()) -> None:
        self.user(text, parse("faq", confidence, key, topic_confidence, [("greet", 0.01)],
                              entities))
        self.action("utter_faq")
        self.bot("The clinic's answer about " + key, response=f"utter_faq/{key}")
        self.action("action_faq_follow_up")
        self.bot("Would you like to book a consultation?", [
            {"title": "How does ketamine work?", "payload": "How does ketamine work?"},
            {"title": "Book a consultation", "payload": "/book_consultation"},
        ])
        self.listen()

    def did_you_mean(self, text: str) -> None:
        self.user(text, parse("nlu_fallback", 0.6, "what_is", 0.3,
                              [("faq", 0.35), ("out_of_scope", 0.2)]))
        self.action("action_did_you_mean")
        self.bot(DID_YOU_MEAN, [{"title": WHAT_IS, "payload": WHAT_IS}, PERSON])
        self.listen()

    def not_understood(self, text: str) -> None:
        self.user(text, parse("nlu_fallback", 0.6, "cost_insurance", 0.05,
                              [("faq", 0.08)]))
        self.action("action_did_you_mean")
        self.bot("I'm not sure I understood that.",
                 [{"title": "Talk to a person", "payload": "/contact_human"}],
                 response="utter_please_rephrase")
        self.listen()

    def off_topic(self, text: str) -> None:
        self.user(text, parse("out_of_scope", 0.91, ranking=[("faq", 0.05)]))
        self.action("utter_out_of_scope")
        self.bot("Sorry, I can't help with that.", response="utter_out_of_scope")
        self.listen()

    def book(self, text: str = "/book_consultation") -> None:
        self.user(text, parse("book_consultation", 1.0))
        self.action("action_handoff")
        self.bot("You can book a consultation online, or call us.", [BOOKING, PHONE])
        self.listen()

    def rate(self, rating: str) -> None:
        text = '/feedback{"rating":"' + rating + '"}'
        self.user(text, parse("feedback", 1.0, entities=[
            {"entity": "rating", "value": rating, "start": 9, "end": 23}]))
        self.action("utter_feedback_thanks")
        self.bot("Thanks for telling us.", response="utter_feedback_thanks",
                 custom={"ask_rating": False})
        self.action("action_default_fallback")
        self.events.append(UserUtteranceReverted(timestamp=self.tick(0.1)))

    def crisis(self, text: str, when: Optional[float] = None) -> None:
        if when is not None:
            self.clock = when
        self.user(text, parse("crisis", 1.0, entities=[
            {"entity": "crisis_kind", "value": "crisis", "extractor": "CrisisDetector"}]))
        # Rasa's slot extraction stores the slots it sets, not an action of its own.
        self.events.append(SlotSet("crisis_mode", True, timestamp=self.tick(0.1)))
        self.events.append(SlotSet("crisis_kind", "crisis", timestamp=self.tick(0.1)))
        self.action("utter_crisis")
        self.bot("Please get help right now: call or text 988.",
                 [{"title": "Call 988", "type": "phone", "url": "tel:988"}],
                 response="utter_crisis", custom={"crisis": True})
        self.action("action_crisis_contact")
        self.bot("For non-urgent questions you can also call the clinic.", [PHONE])
        self.listen()


class ClinicStore:
    """A tracker store database with a realistic week of conversations."""

    def __init__(self, tmp: Path, domain: Optional[Domain] = None, fill: bool = True) -> None:
        self.path = tmp / "tracker.db"
        self.url = f"sqlite:///{self.path}"
        self.domain = domain or Domain.load(str(PROJECT_DIR / "domain.yml"))
        self.conversations: Dict[str, Conversation] = {}
        if fill:
            self.fill()

    def new(self, name: str, start: float) -> Conversation:
        self.conversations[name] = Conversation(start)
        return self.conversations[name]

    def fill(self) -> None:
        # The cost question, answered while unsure, by three visitors (one writes it with
        # other case and spacing) and a similar one by a fourth.
        for number, (day, text) in enumerate(
            [(MONDAY, COST), (MONDAY, COST_AGAIN), (TUESDAY, COST), (TUESDAY, COST_SIMILAR)]
        ):
            visitor = self.new(f"cost{number}", at(day, 9 + number))
            visitor.faq(text, "cost_insurance", confidence=0.55, topic_confidence=0.5)
        # "Did you mean": the visitor then picks the suggested topic with its button.
        dog = self.new("dog", at(MONDAY, 14))
        dog.did_you_mean(DOG)
        dog.faq(WHAT_IS, "what_is", confidence=0.66, topic_confidence=0.62)
        dog.rate("up")
        # Not understood, off-topic, and a phone number typed (masked when stored).
        self.new("gibberish", at(MONDAY, 15)).not_understood(GIBBERISH)
        weather = self.new("weather", at(TUESDAY, 8))
        weather.off_topic(WEATHER)
        weather.book()
        weather.book("I want to book an appointment")
        self.new("phone", at(TUESDAY, 10)).faq(WITH_PHONE, "cost_insurance", 0.45, 0.4)
        # Answered confidently and rated down; another answered confidently and rated up.
        rated = self.new("rated", at(TUESDAY, 11))
        rated.faq(FDA, "fda_status")
        rated.rate("down")
        rated.faq(SPEED, "speed")
        rated.rate("up")
        # A crisis conversation: its cost question (the same text) must never be listed.
        crisis = self.new("crisis", at(TUESDAY, 12))
        crisis.faq(COST, "cost_insurance", confidence=0.55, topic_confidence=0.5)
        crisis.crisis(CRISIS)
        crisis.not_understood("sorry")
        # The crisis detector's weaker tier (check-in): an answer with the line naming 988.
        check_in = self.new("check_in", at(TUESDAY, 13))
        check_in.faq(CHECK_IN_QUESTION, "depression", 0.6, 0.55,
                     entities=[{"entity": "crisis_kind", "value": "check_in"}])
        check_in.action("utter_check_in")
        check_in.bot("You can call or text 988 at any time.", response="utter_check_in")
        # Off-topic in the period, crisis the day after it ends: never listed either.
        later = self.new("later_crisis", at(TUESDAY, 20))
        later.off_topic(LATER_CRISIS_OFF_TOPIC)
        later.crisis(CRISIS, when=at(TUESDAY + dt.timedelta(days=1), 9))
        # Before the period.
        self.new("old", at(dt.date(2026, 11, 10), 10)).off_topic(OLD)
        self.save()

    def save(self) -> None:
        store = MaskingSQLTrackerStore(self.domain, host=self.url)
        try:
            for conversation in self.conversations.values():
                tracker = DialogueStateTracker.from_events(
                    conversation.sender, conversation.events, slots=self.domain.slots)
                asyncio.run(store.save(tracker))
        finally:
            store.engine.dispose()

    def engine(self) -> Engine:
        return sa.create_engine(self.url)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> ClinicStore:
    return ClinicStore(tmp_path_factory.mktemp("inbox"))


@pytest.fixture
def engine(store: ClinicStore) -> Iterator[Engine]:
    engine = store.engine()
    yield engine
    engine.dispose()


@pytest.fixture
def handled(tmp_path: Path) -> HandledStore:
    return HandledStore(tmp_path / "var" / "console.sqlite")


def groups(engine: Engine, handled: Optional[HandledStore] = None) -> List[InboxGroup]:
    return inbox.inbox_groups(engine, MONDAY, TUESDAY, handled, ZONE)


def group_with(found: List[InboxGroup], text: str) -> InboxGroup:
    """The group listing `text` (ignoring case, spacing and end punctuation)."""
    matches = [group for group in found if inbox.text_key(text) in group.member_keys]
    assert len(matches) == 1, [group.texts for group in found]
    return matches[0]


def all_texts(found: List[InboxGroup]) -> List[str]:
    return [text for group in found for text in group.texts]


# ---- what is listed ------------------------------------------------------------------------

def test_a_low_confidence_question_appears_once_with_its_count(engine: Engine) -> None:
    found = groups(engine)
    cost = group_with(found, COST)
    assert cost.texts.count(COST) == 1
    assert COST_AGAIN not in all_texts(found)  # the same text, with other case and spacing
    assert dict(cost.text_counts)[COST] == 3
    assert COST_SIMILAR in cost.texts  # a similar question, in the same group
    assert cost.count == 4 and cost.reasons == ["low confidence"]
    assert cost.suggested == "faq/cost_insurance"
    assert found[0] is cost  # the largest group first
    assert cost.first_seen == pytest.approx(at(MONDAY, 9), abs=60)
    assert cost.last_seen == pytest.approx(at(TUESDAY, 12), abs=3600)
    assert cost.sample.text == COST and cost.sample.reason == "low confidence"


def test_each_reason_is_listed_with_the_topic_it_likely_belongs_to(engine: Engine) -> None:
    found = groups(engine)
    assert group_with(found, GIBBERISH).reasons == ["not understood"]
    assert group_with(found, GIBBERISH).suggested is None  # the model's guess was at 5%
    assert group_with(found, WEATHER).reasons == ["off-topic"]
    assert group_with(found, WEATHER).suggested == "out_of_scope"
    fda = group_with(found, FDA)
    assert fda.reasons == ["thumbs down"] and fda.suggested == "faq/fda_status"
    dog = group_with(found, DOG)
    assert dog.reasons == ["did you mean"]
    # The visitor chose "What is ketamine infusion therapy?" from the buttons.
    assert dog.sample.picked == "faq/what_is" and dog.suggested == "faq/what_is"


def test_crisis_conversations_are_never_listed(engine: Engine) -> None:
    texts = all_texts(groups(engine))
    assert CRISIS not in texts and "sorry" not in texts
    assert CHECK_IN_QUESTION not in texts  # the crisis detector's check-in tier
    assert LATER_CRISIS_OFF_TOPIC not in texts  # crisis came after the period
    # The crisis visitor asked the cost question too: it is not counted.
    assert group_with(groups(engine), COST).count == 4


def test_buttons_ratings_confident_answers_and_other_days_are_not_listed(
    engine: Engine,
) -> None:
    texts = all_texts(groups(engine))
    assert not [text for text in texts if text.startswith("/")]
    assert WHAT_IS not in texts  # pressed as a button, though answered while unsure
    assert SPEED not in texts  # answered confidently and rated up
    assert "I want to book an appointment" not in texts
    assert OLD not in texts  # before the period


def test_phone_numbers_are_shown_masked_as_stored(engine: Engine) -> None:
    texts = all_texts(groups(engine))
    assert "call me at [phone] about prices please" in texts
    assert not [text for text in texts if "555" in text]


def test_group_keys_are_stable_and_name_no_text(engine: Engine) -> None:
    first, second = groups(engine), groups(engine)
    assert [group.key for group in first] == [group.key for group in second]
    assert len({group.key for group in first}) == len(first)
    cost = group_with(first, COST)
    assert cost.key == inbox.text_key(COST) == inbox.text_key("  HOW much does it cost with "
                                                              "insurance")
    assert COST not in cost.key and len(cost.key) == 16


def test_a_message_names_its_conversation_by_a_hash(store: ClinicStore, engine: Engine) -> None:
    sample = group_with(groups(engine), DOG).sample
    sender = store.conversations["dog"].sender
    assert sample.sender_id_hash == inbox.conversation_ref(sender) != sender
    assert sender not in repr(groups(engine))


def test_the_period_is_in_the_clinic_time_zone(engine: Engine) -> None:
    monday = inbox.inbox_groups(engine, MONDAY, MONDAY, None, ZONE)
    assert DOG in all_texts(monday) and WEATHER not in all_texts(monday)
    assert group_with(monday, COST).count == 2
    with pytest.raises(ValueError, match="after it ends"):
        inbox.inbox_groups(engine, TUESDAY, MONDAY, None, ZONE)


def test_an_empty_database_is_an_empty_inbox(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert inbox.inbox_groups(engine, MONDAY, TUESDAY, None, ZONE) == []


# ---- handled groups ----------------------------------------------------------------------

def test_a_handled_group_disappears_with_all_its_texts(
    engine: Engine, handled: HandledStore
) -> None:
    cost = group_with(groups(engine, handled), COST)
    record = handled.mark(cost, inbox.ASSIGNED, "dana", topic="faq/cost_insurance")
    assert record.who == "dana" and record.how == "assigned" and record.texts == 2
    after = groups(engine, handled)
    assert not {COST, COST_SIMILAR} & set(all_texts(after))
    assert cost.key not in {group.key for group in after}
    assert {DOG, WEATHER, GIBBERISH, FDA} <= set(all_texts(after))  # the others stay
    [history] = handled.history()
    assert (history.group_key, history.how, history.who, history.topic) == (
        cost.key, "assigned", "dana", "faq/cost_insurance")
    assert abs((dt.datetime.now(dt.timezone.utc) - history.when).total_seconds()) < 60


def test_dismissing_and_marking_off_topic_by_key_and_undoing(
    engine: Engine, handled: HandledStore
) -> None:
    weather, gibberish = (group_with(groups(engine), text) for text in (WEATHER, GIBBERISH))
    handled.mark(weather.key, inbox.MARKED_OFF_TOPIC, "sam")
    handled.mark(gibberish, inbox.DISMISSED, "sam")
    after = all_texts(groups(engine, handled))
    assert WEATHER not in after and GIBBERISH not in after
    assert handled.unmark(gibberish.key) == 1
    assert GIBBERISH in all_texts(groups(engine, handled))
    assert [entry.how for entry in handled.history()] == ["off-topic"]


def test_the_console_database_holds_no_message_text(
    engine: Engine, handled: HandledStore
) -> None:
    for group in groups(engine):
        handled.mark(group, inbox.DISMISSED, "dana")
    assert groups(engine, handled) == []
    raw = handled.db_path.read_bytes()
    assert b"insurance" not in raw and b"weather" not in raw
    with sqlite3.connect(handled.db_path) as connection:
        tables = {name for (name,) in connection.execute(
            "select name from sqlite_master where type = 'table'")}
    assert tables == {"inbox_handled"}


def test_marking_needs_a_known_way_and_a_name(handled: HandledStore) -> None:
    with pytest.raises(ValueError, match="how must be one of"):
        handled.mark("abc", "deleted", "dana")
    with pytest.raises(ValueError, match="must be named"):
        handled.mark("abc", inbox.DISMISSED, "  ")


def test_two_stores_on_one_file_share_what_was_handled(tmp_path: Path) -> None:
    path = tmp_path / "var" / "console.sqlite"
    HandledStore(path).mark("k1", inbox.DISMISSED, "dana")
    assert HandledStore(path).handled_keys() == {"k1"}
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"


# ---- the conversation around a message ---------------------------------------------------

def test_the_conversation_around_a_message_as_stored(engine: Engine) -> None:
    sample = group_with(groups(engine), DOG).sample
    turns = conversation_around(engine, sample)
    assert [(turn.who, turn.current) for turn in turns][:2] == [
        ("visitor", True), ("assistant", False)]
    assert turns[0].text == DOG
    assert turns[1].text == DID_YOU_MEAN
    assert turns[1].buttons == (WHAT_IS, PERSON["title"])
    assert turns[2] == inbox.Turn("visitor", f"Clicked: {WHAT_IS}", turns[2].timestamp)
    assert len(turns) == 4  # the message and the three after it (none before)


def test_the_conversation_shows_button_clicks_and_ratings_in_words(engine: Engine) -> None:
    sample = group_with(groups(engine), FDA).sample
    turns = conversation_around(engine, sample, before=0, after=10)
    texts = [turn.text for turn in turns]
    assert "Rated the answer 👎 (this answer did not help)" in texts
    assert not [text for text in texts if text.startswith("/")]
    weather = conversation_around(engine, group_with(groups(engine), WEATHER).sample, 0, 10)
    assert "Clicked: Book a consultation" in [turn.text for turn in weather]
    assert ("Book a consultation", "Call 415-249-2580") in [turn.buttons for turn in weather]


def test_the_conversation_of_a_crisis_is_never_shown(store: ClinicStore, engine: Engine) -> None:
    crisis = store.conversations["crisis"]
    message = InboxMessage("", inbox.conversation_ref(crisis.sender), crisis.said[COST], "")
    assert conversation_around(engine, message) == []
    unknown = InboxMessage("", "0" * 16, crisis.said[COST], "")
    assert conversation_around(engine, unknown) == []


def test_a_message_rebuilt_from_its_hash_and_time_finds_its_conversation(
    engine: Engine,
) -> None:
    sample = group_with(groups(engine), GIBBERISH).sample
    rebuilt = InboxMessage("", sample.sender_id_hash, sample.timestamp, "")
    turns = conversation_around(engine, rebuilt, before=5, after=5)
    assert [turn.text for turn in turns if turn.current] == [GIBBERISH]


def test_each_sign_of_crisis_alone_keeps_a_conversation_out(
    store: ClinicStore, tmp_path: Path
) -> None:
    marked = ClinicStore(tmp_path, store.domain, fill=False)
    signs = {
        "slot": lambda c: c.events.append(SlotSet("crisis_mode", True, timestamp=c.tick())),
        "reminder": lambda c: c.action("utter_crisis_reminder"),
        "check_in": lambda c: c.faq("is it safe", "safety", entities=[
            {"entity": "crisis_kind", "value": "check_in"}]),
        "not_crisis": lambda c: c.events.append(SlotSet("crisis_mode", False,
                                                        timestamp=c.tick())),
    }
    for name, sign in signs.items():
        conversation = marked.new(name, at(MONDAY, 9))
        conversation.off_topic(WEATHER)
        sign(conversation)
    marked.save()
    engine = marked.engine()
    try:
        found = crisis_conversations(engine)
        assert found == {marked.conversations[n].sender for n in ("slot", "reminder", "check_in")}
        assert group_with(groups(engine), WEATHER).count == 1  # the conversation without crisis
    finally:
        engine.dispose()
