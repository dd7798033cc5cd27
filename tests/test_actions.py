"""The custom actions as a visitor sees them: text, buttons, phone, booking link, hours."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.crisis import ActionCrisisContact
from actions.did_you_mean import ActionDidYouMean
from actions.faq_follow_up import ActionFaqFollowUp, ActionFaqPhoneOnly
from actions.handoff import ActionHandoff
from clinic.settings import ClinicSettings
from clinic.topics import load_topics
from tests.conftest import SATURDAY, TUESDAY_MORNING, make_tracker

BOOKING = "https://booking.clinic.test/consultation"
TEL = "tel:+14152492580"


def run(action: Any, tracker: Any) -> List[Dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    assert events == []
    return dispatcher.messages


def button_urls(message: Dict[str, Any]) -> List[str]:
    return [button.get("url") or button.get("payload") for button in message["buttons"]]


def test_booking_gives_the_calendar_first_and_the_phone(settings: ClinicSettings) -> None:
    [message] = run(ActionHandoff(settings, lambda: TUESDAY_MORNING), make_tracker())
    assert "415-249-2580" in message["text"]
    assert button_urls(message) == [BOOKING, TEL]
    assert message["buttons"][0]["type"] == "web_url"
    assert message["buttons"][1]["title"] == "Call 415-249-2580"


def test_asking_for_a_person_puts_the_phone_first(settings: ClinicSettings) -> None:
    tracker = make_tracker(intent="contact_human")
    [message] = run(ActionHandoff(settings, lambda: TUESDAY_MORNING), tracker)
    assert message["text"].startswith("To talk with someone at the clinic")
    assert button_urls(message) == [TEL, BOOKING]


def test_outside_opening_hours_it_says_so_and_puts_booking_first(
    settings: ClinicSettings,
) -> None:
    tracker = make_tracker(intent="contact_human")
    [message] = run(ActionHandoff(settings, lambda: SATURDAY), tracker)
    assert "closed right now" in message["text"]
    assert "Monday at 09:00" in message["text"]
    assert button_urls(message) == [BOOKING, TEL]


def test_the_condition_the_visitor_named_is_mentioned(settings: ClinicSettings) -> None:
    tracker = make_tracker(slots={"condition": "OCD"})
    [message] = run(ActionHandoff(settings, lambda: TUESDAY_MORNING), tracker)
    assert "about OCD" in message["text"]


def test_the_handoff_leaves_what_follows_a_crisis_to_the_rules(settings: ClinicSettings) -> None:
    # data/rules/crisis.yml adds the reminder; tests/test_stories.yml checks it.
    tracker = make_tracker(slots={"crisis_mode": True})
    [handoff] = run(ActionHandoff(settings, lambda: TUESDAY_MORNING), tracker)
    assert button_urls(handoff) == [BOOKING, TEL]


def test_an_answer_is_followed_by_related_topics_and_an_offer_to_book(
    settings: ClinicSettings,
) -> None:
    tracker = make_tracker(intent="faq", faq_key="fda_status")
    [message] = run(ActionFaqFollowUp(settings, lambda: TUESDAY_MORNING), tracker)
    assert "book a consultation" in message["text"]
    assert [b["title"] for b in message["buttons"]] == [
        "What is esketamine (Spravato)?", "What does the research say?", "Book a consultation",
    ]
    assert message["buttons"][0]["payload"] == "What is esketamine (Spravato)?"
    assert message["buttons"][-1]["payload"] == "/book_consultation"


def fallback_parse(ranking, topics):
    return {
        "intent": {"name": "nlu_fallback", "confidence": 0.5},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        "response_selector": {"faq": {"ranking": [
            {"intent_response_key": f"faq/{k}", "confidence": c} for k, c in topics
        ]}},
    }


def test_unsure_it_offers_the_two_likeliest_topics_booking_and_a_person() -> None:
    tracker = make_tracker(intent="nlu_fallback")
    tracker.latest_message = fallback_parse(
        [("nlu_fallback", 0.5), ("faq", 0.45), ("greet", 0.05)],
        [("speed", 0.41), ("effectiveness", 0.38), ("safety", 0.02)],
    )
    [message] = run(ActionDidYouMean(), tracker)
    assert message["text"].startswith("I'm not sure I understood. Did you mean")
    assert [b["title"] for b in message["buttons"]] == [
        "How fast does it work?", "Does ketamine therapy work?", "Book a consultation",
        "Something else: talk to a person",
    ]
    assert button_urls(message)[-2:] == ["/book_consultation", "/contact_human"]


def test_unsure_between_a_topic_and_booking_offers_both() -> None:
    tracker = make_tracker(intent="nlu_fallback")
    tracker.latest_message = fallback_parse(
        [("nlu_fallback", 0.5), ("book_consultation", 0.4), ("faq", 0.35)],
        [("session_experience", 0.6), ("aftercare", 0.2)],
    )
    [message] = run(ActionDidYouMean(), tracker)
    assert button_urls(message) == [
        "/book_consultation", "What is an infusion session like?", "/contact_human",
    ]


def test_with_no_likely_topic_it_asks_to_rephrase_and_offers_a_person() -> None:
    tracker = make_tracker(intent="nlu_fallback")
    tracker.latest_message = fallback_parse([("nlu_fallback", 0.5), ("greet", 0.3)], [])
    [message] = run(ActionDidYouMean(), tracker)
    assert message["response"] == "utter_please_rephrase"


@pytest.mark.parametrize("key", ["cost_insurance", "safety", "clinic_info", "other_conditions"])
def test_a_topic_the_article_does_not_answer_is_handed_off(
    settings: ClinicSettings, key: str
) -> None:
    tracker = make_tracker(intent="faq", faq_key=key)
    [message] = run(ActionFaqFollowUp(settings, lambda: TUESDAY_MORNING), tracker)
    assert "415-249-2580" in message["text"]
    assert button_urls(message) == [BOOKING, TEL]


def test_after_a_crisis_an_answer_gets_no_booking_pitch(settings: ClinicSettings) -> None:
    # The rules pick action_faq_phone_only after a crisis, then add the reminder.
    tracker = make_tracker(intent="faq", faq_key="speed", slots={"crisis_mode": True})
    assert run(ActionFaqPhoneOnly(settings, lambda: TUESDAY_MORNING), tracker) == []


def test_after_a_crisis_an_unanswered_topic_gets_the_phone_but_no_booking(
    settings: ClinicSettings,
) -> None:
    tracker = make_tracker(intent="faq", faq_key="cost_insurance", slots={"crisis_mode": True})
    [message] = run(ActionFaqPhoneOnly(settings, lambda: TUESDAY_MORNING), tracker)
    assert "415-249-2580" in message["text"] and "book" not in message["text"].lower()
    assert button_urls(message) == [TEL]


def test_a_weaker_risk_signal_gets_the_answer_without_booking_and_a_line_naming_988(
    settings: ClinicSettings,
) -> None:
    tracker = make_tracker(intent="faq", faq_key="fda_status", entities={"crisis_kind": "check_in"})
    [line] = run(ActionFaqFollowUp(settings, lambda: TUESDAY_MORNING), tracker)
    assert line == {**line, "response": "utter_check_in"}
    assert not line.get("buttons")


def test_a_weaker_risk_signal_on_an_unanswered_topic_gets_the_phone_not_booking(
    settings: ClinicSettings,
) -> None:
    tracker = make_tracker(
        intent="faq", faq_key="cost_insurance", entities={"crisis_kind": "check_in"})
    phone, line = run(ActionFaqFollowUp(settings, lambda: TUESDAY_MORNING), tracker)
    assert button_urls(phone) == [TEL]
    assert line["response"] == "utter_check_in"


def test_a_weaker_risk_signal_when_booking_adds_the_line_naming_988(
    settings: ClinicSettings,
) -> None:
    tracker = make_tracker(entities={"crisis_kind": "check_in"})
    handoff, line = run(ActionHandoff(settings, lambda: TUESDAY_MORNING), tracker)
    assert button_urls(handoff) == [BOOKING, TEL]
    assert line["response"] == "utter_check_in"


def test_the_crisis_contact_at_night_says_the_clinic_line_is_closed(
    settings: ClinicSettings,
) -> None:
    [message] = run(ActionCrisisContact(settings, lambda: SATURDAY), make_tracker(intent="crisis"))
    assert "closed right now" in message["text"] and "Monday at 09:00" in message["text"]
    assert "988" in message["text"]
    assert button_urls(message) == [TEL]


def test_the_crisis_contact_gives_the_phone_and_never_booking(settings: ClinicSettings) -> None:
    [message] = run(
        ActionCrisisContact(settings, lambda: TUESDAY_MORNING), make_tracker(intent="crisis"))
    assert "415-249-2580" in message["text"]
    assert button_urls(message) == [TEL]


def test_a_crisis_in_another_language_adds_911_and_988_in_that_language(
    settings: ClinicSettings,
) -> None:
    tracker = make_tracker(intent="crisis", text="Con muốn chết.",
                           entities={"other_language": "vi", "crisis_kind": "crisis"})
    in_their_language, clinic_line = run(
        ActionCrisisContact(settings, lambda: TUESDAY_MORNING), tracker)
    assert in_their_language["text"] == (
        "Nếu bạn đang gặp nguy hiểm hoặc khủng hoảng, hãy gọi ngay 911 hoặc 988.")
    assert not in_their_language.get("buttons")  # the crisis reply's buttons came first
    assert "415-249-2580" in clinic_line["text"] and button_urls(clinic_line) == [TEL]


def test_every_other_language_reply_has_a_sentence_for_a_visitor_in_crisis() -> None:
    from clinic.wording import current_languages, language_problems

    languages = current_languages()
    for code in languages.other_languages:
        sentence = languages.in_danger(code)
        assert sentence and "911" in sentence and "988" in sentence and "{phone}" not in sentence
    problems = language_problems({"spanish": {}, "other_languages": {
        "fr": "Appelez le {phone}. Le 911 existe. Le 988 aussi."}})
    assert any("'fr' must name 911 and 988 in one sentence" in p for p in problems)


def test_every_faq_topic_in_the_domain_is_listed_with_a_title() -> None:
    import yaml

    from tests.conftest import PROJECT_DIR

    domain = yaml.safe_load((PROJECT_DIR / "domain.yml").read_text())
    keys = {name.split("/", 1)[1] for name in domain["responses"] if name.startswith("utter_faq/")}
    topics = load_topics().as_dicts()
    assert set(topics) == keys
    assert all(topic["title"] for topic in topics.values())
    assert all(set(topic["related"]) <= keys for topic in topics.values())
