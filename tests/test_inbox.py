"""The staff console's inbox, on the tracker store of tests/fixtures/clinic_store.py: a real
SQLite store written by the project's masking tracker store with the events Rasa records for
each kind of turn (no servers, no model)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import List, Optional

import pytest
import sqlalchemy as sa
from rasa.shared.core.events import SlotSet
from sqlalchemy.engine import Engine

from staff_tools import inbox
from staff_tools.inbox import HandledStore, InboxGroup, InboxMessage, conversation_around
from staff_tools.review import crisis_conversations
from tests.fixtures.clinic_store import (
    CHECK_IN_QUESTION,
    COST,
    COST_AGAIN,
    COST_SIMILAR,
    CRISIS,
    DID_YOU_MEAN,
    DOG,
    FDA,
    GIBBERISH,
    LATER_CRISIS_OFF_TOPIC,
    MONDAY,
    OLD,
    PERSON,
    SPEED,
    TUESDAY,
    WEATHER,
    WHAT_IS,
    ZONE,
    ClinicStore,
    at,
)


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

def test_a_low_confidence_question_appears_once_with_its_count(clinic_engine: Engine) -> None:
    found = groups(clinic_engine)
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


def test_each_reason_is_listed_with_the_topic_it_likely_belongs_to(clinic_engine: Engine) -> None:
    found = groups(clinic_engine)
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


def test_crisis_conversations_are_never_listed(clinic_engine: Engine) -> None:
    texts = all_texts(groups(clinic_engine))
    assert CRISIS not in texts and "sorry" not in texts
    assert CHECK_IN_QUESTION not in texts  # the crisis detector's check-in tier
    assert LATER_CRISIS_OFF_TOPIC not in texts  # crisis came after the period
    # The crisis visitor asked the cost question too: it is not counted.
    assert group_with(groups(clinic_engine), COST).count == 4


def test_buttons_ratings_confident_answers_and_other_days_are_not_listed(
    clinic_engine: Engine,
) -> None:
    texts = all_texts(groups(clinic_engine))
    assert not [text for text in texts if text.startswith("/")]
    assert WHAT_IS not in texts  # pressed as a button, though answered while unsure
    assert SPEED not in texts  # answered confidently and rated up
    assert "I want to book an appointment" not in texts
    assert OLD not in texts  # before the period


def test_phone_numbers_are_shown_masked_as_stored(clinic_engine: Engine) -> None:
    texts = all_texts(groups(clinic_engine))
    assert "call me at [phone] about prices please" in texts
    assert not [text for text in texts if "555" in text]


def test_group_keys_are_stable_and_name_no_text(clinic_engine: Engine) -> None:
    first, second = groups(clinic_engine), groups(clinic_engine)
    assert [group.key for group in first] == [group.key for group in second]
    assert len({group.key for group in first}) == len(first)
    cost = group_with(first, COST)
    assert cost.key == inbox.text_key(COST) == inbox.text_key("  HOW much does it cost with "
                                                              "insurance")
    assert COST not in cost.key and len(cost.key) == 16


def test_a_message_names_its_conversation_by_a_hash(
    clinic_store: ClinicStore, clinic_engine: Engine
) -> None:
    sample = group_with(groups(clinic_engine), DOG).sample
    sender = clinic_store.conversations["dog"].sender
    assert sample.sender_id_hash == inbox.conversation_ref(sender) != sender
    assert sender not in repr(groups(clinic_engine))


def test_the_period_is_in_the_clinic_time_zone(clinic_engine: Engine) -> None:
    monday = inbox.inbox_groups(clinic_engine, MONDAY, MONDAY, None, ZONE)
    assert DOG in all_texts(monday) and WEATHER not in all_texts(monday)
    assert group_with(monday, COST).count == 2
    with pytest.raises(ValueError, match="after it ends"):
        inbox.inbox_groups(clinic_engine, TUESDAY, MONDAY, None, ZONE)


def test_an_empty_database_is_an_empty_inbox(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert inbox.inbox_groups(engine, MONDAY, TUESDAY, None, ZONE) == []


# ---- handled groups ----------------------------------------------------------------------

def test_a_handled_group_disappears_with_all_its_texts(
    clinic_engine: Engine, handled: HandledStore
) -> None:
    cost = group_with(groups(clinic_engine, handled), COST)
    record = handled.mark(cost, inbox.ASSIGNED, "dana", topic="faq/cost_insurance")
    assert record.who == "dana" and record.how == "assigned" and record.texts == 2
    after = groups(clinic_engine, handled)
    assert not {COST, COST_SIMILAR} & set(all_texts(after))
    assert cost.key not in {group.key for group in after}
    assert {DOG, WEATHER, GIBBERISH, FDA} <= set(all_texts(after))  # the others stay
    [history] = handled.history()
    assert (history.group_key, history.how, history.who, history.topic) == (
        cost.key, "assigned", "dana", "faq/cost_insurance")
    assert abs((dt.datetime.now(dt.timezone.utc) - history.when).total_seconds()) < 60


def test_dismissing_and_marking_off_topic_by_key_and_undoing(
    clinic_engine: Engine, handled: HandledStore
) -> None:
    weather, gibberish = (group_with(groups(clinic_engine), text) for text in (WEATHER, GIBBERISH))
    handled.mark(weather.key, inbox.MARKED_OFF_TOPIC, "sam")
    handled.mark(gibberish, inbox.DISMISSED, "sam")
    after = all_texts(groups(clinic_engine, handled))
    assert WEATHER not in after and GIBBERISH not in after
    assert handled.unmark(gibberish.key) == 1
    assert GIBBERISH in all_texts(groups(clinic_engine, handled))
    assert [entry.how for entry in handled.history()] == ["off-topic"]


def test_the_console_database_holds_no_message_text(
    clinic_engine: Engine, handled: HandledStore
) -> None:
    for group in groups(clinic_engine):
        handled.mark(group, inbox.DISMISSED, "dana")
    assert groups(clinic_engine, handled) == []
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

def test_the_conversation_around_a_message_as_stored(clinic_engine: Engine) -> None:
    sample = group_with(groups(clinic_engine), DOG).sample
    turns = conversation_around(clinic_engine, sample)
    assert [(turn.who, turn.current) for turn in turns][:2] == [
        ("visitor", True), ("assistant", False)]
    assert turns[0].text == DOG
    assert turns[1].text == DID_YOU_MEAN
    assert turns[1].buttons == (WHAT_IS, PERSON["title"])
    assert turns[2] == inbox.Turn("visitor", f"Clicked: {WHAT_IS}", turns[2].timestamp)
    assert len(turns) == 4  # the message and the three after it (none before)


def test_the_conversation_shows_button_clicks_and_ratings_in_words(clinic_engine: Engine) -> None:
    sample = group_with(groups(clinic_engine), FDA).sample
    turns = conversation_around(clinic_engine, sample, before=0, after=10)
    texts = [turn.text for turn in turns]
    assert "Rated the answer 👎 (this answer did not help)" in texts
    assert not [text for text in texts if text.startswith("/")]
    weather_sample = group_with(groups(clinic_engine), WEATHER).sample
    weather = conversation_around(clinic_engine, weather_sample, 0, 10)
    assert "Clicked: Book a consultation" in [turn.text for turn in weather]
    assert ("Book a consultation", "Call 415-249-2580") in [turn.buttons for turn in weather]


def test_the_conversation_of_a_crisis_is_never_shown(
    clinic_store: ClinicStore, clinic_engine: Engine
) -> None:
    crisis = clinic_store.conversations["crisis"]
    message = InboxMessage("", inbox.conversation_ref(crisis.sender), crisis.said[COST], "")
    assert conversation_around(clinic_engine, message) == []
    unknown = InboxMessage("", "0" * 16, crisis.said[COST], "")
    assert conversation_around(clinic_engine, unknown) == []


def test_a_message_rebuilt_from_its_hash_and_time_finds_its_conversation(
    clinic_engine: Engine,
) -> None:
    sample = group_with(groups(clinic_engine), GIBBERISH).sample
    rebuilt = InboxMessage("", sample.sender_id_hash, sample.timestamp, "")
    turns = conversation_around(clinic_engine, rebuilt, before=5, after=5)
    assert [turn.text for turn in turns if turn.current] == [GIBBERISH]


def test_each_sign_of_crisis_alone_keeps_a_conversation_out(
    clinic_store: ClinicStore, tmp_path: Path
) -> None:
    marked = ClinicStore(tmp_path, clinic_store.domain, fill=False)
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
