"""No dead ends (issue 18): every reply that does not answer offers booking and a person, never
after a crisis message; and after a crisis a question behind "never mind" is still answered.

No servers: the domain's replies, the actions and the chat channel's own replies (too long, a
failed turn) with a tracker store on a temporary SQLite file. tests/test_stories.yml checks
which rule runs; tests/test_widget_browser.py shows the buttons in a browser.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import yaml
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk.executor import CollectingDispatcher

from actions.crisis import ActionCrisisQuestion
from actions.did_you_mean import ActionDidYouMean
from clinic.buttons import BOOK_INTENT, CONTACT_INTENT, intent_payload
from clinic.parse_result import prefaced_question
from clinic.paths import DOMAIN_FILE, PROJECT_DIR
from clinic.replies import check_in_text, crisis_reminder
from clinic.run_state import MachineState
from clinic.settings import ClinicSettings
from clinic_server import rest_channel
from clinic_server.rest_channel import ChatRequest, ClinicRestInput, Limits
from clinic_server.tracker_store import AnsweredTurn, MaskingSQLTrackerStore, answering
from tests.conftest import TUESDAY_MORNING, make_tracker

BOOK, PERSON = intent_payload(BOOK_INTENT), intent_payload(CONTACT_INTENT)
BOOKING_URL = "https://booking.clinic.test/consultation"  # tests/conftest.py's settings
TEL = "tel:+14152492580"
RESPONSES = yaml.safe_load(DOMAIN_FILE.read_text())["responses"]
# The domain's replies that do not answer (the actions' are tested below).
NOT_ANSWERS = ["utter_out_of_scope", "utter_please_rephrase"]


def after_crisis(variant: Dict[str, Any]) -> bool:
    return any(c.get("name") == "crisis_mode" and c.get("value") is True
               for c in variant.get("condition") or [])


def payloads(message: Dict[str, Any]) -> List[str]:
    return [b.get("payload") or b.get("url") for b in message.get("buttons") or []]


# ---- the domain's replies ------------------------------------------------------------------

@pytest.mark.parametrize("name", NOT_ANSWERS)
def test_a_reply_that_does_not_answer_offers_booking_and_a_person(name: str) -> None:
    [default] = [v for v in RESPONSES[name] if not v.get("condition")]
    assert BOOK in payloads(default) and PERSON in payloads(default)


@pytest.mark.parametrize("name", NOT_ANSWERS)
def test_after_a_crisis_the_same_reply_offers_no_booking(name: str) -> None:
    crisis_variants = [v for v in RESPONSES[name] if after_crisis(v)]
    assert len(crisis_variants) == 2  # English and Spanish
    for crisis in crisis_variants:
        assert BOOK not in payloads(crisis)
        assert "book" not in crisis["text"].lower() and "agendar" not in crisis["text"]


@pytest.mark.parametrize("name", ["utter_goodbye", "utter_thanks", "utter_anything_else",
                                  "utter_bot_challenge"])
def test_small_talk_keeps_a_button_to_a_person_in_both_languages(name: str) -> None:
    assert len(RESPONSES[name]) == 2
    assert all(PERSON in payloads(variant) for variant in RESPONSES[name])


def test_the_channels_crisis_reminder_is_the_domains() -> None:
    english = [v for v in RESPONSES["utter_crisis_reminder"] if not v.get("condition")]
    assert [english[0]["text"]] == [crisis_reminder()] and "988" in crisis_reminder()


# ---- "did you mean" --------------------------------------------------------------------------

def run(action: Any, tracker: Any) -> List[Dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    assert asyncio.run(action.run(dispatcher, tracker, {})) == []
    return dispatcher.messages


def parse(ranking: List[tuple], topic: Optional[tuple] = None,
          intent: Optional[str] = None) -> Dict[str, Any]:
    result: Dict[str, Any] = {
        "text": "", "entities": [],
        "intent": {"name": intent or ranking[0][0], "confidence": ranking[0][1]},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
    }
    if topic:
        key, confidence = topic
        result["response_selector"] = {"faq": {
            "response": {"intent_response_key": f"faq/{key}", "confidence": confidence},
            "ranking": [{"intent_response_key": f"faq/{key}", "confidence": confidence}],
        }}
    return result


def test_did_you_mean_offers_the_topics_then_booking_and_a_person() -> None:
    tracker = make_tracker(intent="nlu_fallback")
    tracker.latest_message = parse(
        [("nlu_fallback", 0.5), ("faq", 0.45), ("greet", 0.05)], ("speed", 0.41))
    [message] = run(ActionDidYouMean(), tracker)
    assert payloads(message) == ["How fast does it work?", BOOK, PERSON]


# ---- a question behind a preface, after a crisis ---------------------------------------------

# As the model reads them (models/clinic.tar.gz, 2026-12-06).
NEVER_MIND_HOW_MUCH = parse(  # "never mind, how much?"
    [("deny", 0.53), ("faq", 0.38), ("out_of_scope", 0.09)], ("cost_insurance", 0.99))
NO_HOW_MUCH = parse(  # "no, how much does it cost?": the FallbackClassifier's tie
    [("nlu_fallback", 0.5), ("faq", 0.5), ("deny", 0.5)], ("cost_insurance", 0.98))
JUST_NO = parse(  # "never mind"
    [("deny", 0.93), ("out_of_scope", 0.04), ("faq", 0.013)], ("session_experience", 0.3))
DOES_IT_HELP_PTSD = parse(  # "ok thanks, does it help with PTSD?" read as thanks
    [("thanks", 0.55), ("faq", 0.43), ("out_of_scope", 0.01)], ("ptsd", 0.97))


@pytest.mark.parametrize(("message", "key"), [
    (NEVER_MIND_HOW_MUCH, "cost_insurance"), (NO_HOW_MUCH, "cost_insurance"),
    (DOES_IT_HELP_PTSD, "ptsd"), (JUST_NO, None),
    # faq and out_of_scope too close to tell: no guess
    (parse([("nlu_fallback", 0.5), ("faq", 0.48), ("out_of_scope", 0.42)],
           ("cost_insurance", 0.9)), None),
    # the topic itself unsure (FaqTopicFallback's 0.5): no guess
    (parse([("deny", 0.5), ("faq", 0.45)], ("safety", 0.4)), None),
    # a personal medical question ahead of the FAQ: not an FAQ answer
    (parse([("deny", 0.4), ("medical_advice", 0.35), ("faq", 0.2)], ("safety", 0.9)), None),
])
def test_a_question_behind_a_preface_is_found(message: Dict[str, Any], key: Optional[str]) -> None:
    assert prefaced_question(message) == key


def crisis_tracker(message: Dict[str, Any]) -> Any:
    tracker = make_tracker(slots={"crisis_mode": True})
    tracker.latest_message = message
    return tracker


def test_after_a_crisis_never_mind_how_much_gets_the_answer_and_the_phone_not_booking(
    settings: ClinicSettings,
) -> None:
    answer, phone = run(ActionCrisisQuestion(settings, lambda: TUESDAY_MORNING),
                        crisis_tracker(NEVER_MIND_HOW_MUCH))
    assert answer["response"] == "utter_faq/cost_insurance"  # the article is silent on prices
    assert "415-249-2580" in phone["text"] and "book" not in phone["text"].lower()
    assert payloads(phone) == [TEL]


def test_after_a_crisis_a_question_the_article_answers_gets_the_answer_alone(
    settings: ClinicSettings,
) -> None:
    [answer] = run(ActionCrisisQuestion(settings, lambda: TUESDAY_MORNING),
                   crisis_tracker(DOES_IT_HELP_PTSD))
    assert answer["response"] == "utter_faq/ptsd" and not answer.get("buttons")


def test_after_a_crisis_a_plain_no_gets_nothing_more_than_the_rules_reminder(
    settings: ClinicSettings,
) -> None:
    assert run(ActionCrisisQuestion(settings, lambda: TUESDAY_MORNING),
               crisis_tracker(JUST_NO)) == []


def test_after_a_crisis_a_message_not_understood_is_asked_again(
    settings: ClinicSettings,
) -> None:
    message = parse([("nlu_fallback", 0.5), ("out_of_scope", 0.3), ("greet", 0.2)])
    [reply] = run(ActionCrisisQuestion(settings, lambda: TUESDAY_MORNING),
                  crisis_tracker(message))
    assert reply["response"] == "utter_please_rephrase"  # its crisis variant: no booking
    [answer, _] = run(ActionCrisisQuestion(settings, lambda: TUESDAY_MORNING),
                      crisis_tracker(NO_HOW_MUCH))
    assert answer["response"] == "utter_faq/cost_insurance"


# ---- the chat channel's own replies: a message too long, a failed turn ------------------------

DOMAIN = Domain.load(str(PROJECT_DIR / "domain.yml"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MaskingSQLTrackerStore]:
    created = MaskingSQLTrackerStore(DOMAIN, host=f"sqlite:///{tmp_path / 'tracker.db'}")
    yield created
    created.engine.dispose()


@pytest.fixture
def channel(settings: ClinicSettings, tmp_path: Path) -> ClinicRestInput:
    return ClinicRestInput(Limits(max_message_chars=2000), settings,
                           MachineState(tmp_path / "run-state.sqlite"))


def save_conversation(
    store: MaskingSQLTrackerStore, sender: str, crisis: bool, language: str = "en",
) -> None:
    events = [ActionExecuted("action_listen"), UserUttered("hello"), SlotSet("language", language)]
    if crisis:
        events.append(SlotSet("crisis_mode", True))
    tracker = DialogueStateTracker.from_events(sender, events, DOMAIN.slots)
    asyncio.run(store.save(tracker))


def too_long(channel: ClinicRestInput, sender: str) -> Dict[str, Any]:
    return asyncio.run(channel._too_long(ChatRequest(sender, "word " * 500, None), 2000))


def test_a_message_too_long_offers_booking_and_the_phone(
    channel: ClinicRestInput, store: MaskingSQLTrackerStore,
) -> None:
    save_conversation(store, "visitor-1", crisis=False)
    for sender in ("visitor-1", "a-new-visitor"):
        reply = too_long(channel, sender)
        assert "too long" in reply["text"] and "2,000" in reply["text"]
        assert "415-249-2580" in reply["text"]
        assert "988" in reply["text"]  # the model never read it: it may be about a crisis
        assert payloads(reply) == [BOOKING_URL, TEL]


def test_after_a_crisis_a_message_too_long_gets_the_phone_and_988_not_booking(
    channel: ClinicRestInput, store: MaskingSQLTrackerStore,
) -> None:
    save_conversation(store, "visitor-2", crisis=True)
    reply = too_long(channel, "visitor-2")
    assert payloads(reply) == [TEL] and "book" not in reply["text"].lower()
    assert crisis_reminder() in reply["text"] and reply["custom"] == {"crisis": True}


def test_a_failed_turn_offers_the_phone_and_booking_but_not_after_a_crisis(
    channel: ClinicRestInput, store: MaskingSQLTrackerStore,
) -> None:
    save_conversation(store, "visitor-3", crisis=False)
    save_conversation(store, "visitor-4", crisis=True)
    reply = asyncio.run(channel._fallback("visitor-3"))
    assert "something went wrong" in reply["text"] and "415-249-2580" in reply["text"]
    assert payloads(reply) == [TEL, BOOKING_URL]
    for crisis_reply in (asyncio.run(channel._fallback("visitor-4")),
                         # the crisis reply itself was sent in the failed turn
                         asyncio.run(channel._fallback("visitor-3", crisis=True))):
        assert payloads(crisis_reply) == [TEL] and crisis_reminder() in crisis_reply["text"]


def test_in_a_spanish_conversation_the_channels_own_replies_are_in_spanish(
    channel: ClinicRestInput, store: MaskingSQLTrackerStore,
) -> None:
    save_conversation(store, "visitante-1", crisis=False, language="es")
    save_conversation(store, "visitante-2", crisis=True, language="es")
    reply = too_long(channel, "visitante-1")
    assert reply["text"].startswith("Lo siento, tu mensaje es demasiado largo")
    assert "988" in reply["text"] and "415-249-2580" in reply["text"]
    assert [b["title"] for b in reply["buttons"]] == [
        "Agendar una consulta", "Llamar al 415-249-2580"]
    failed = asyncio.run(channel._fallback("visitante-1"))
    assert failed["text"].startswith("Lo siento, algo salió mal")
    assert payloads(failed) == [TEL, BOOKING_URL]
    crisis_reply = asyncio.run(channel._fallback("visitante-2"))
    assert crisis_reminder(language="es") in crisis_reply["text"]
    assert crisis_reminder(language="es").startswith("Si necesitas apoyo")
    assert payloads(crisis_reply) == [TEL] and "agenda" not in crisis_reply["text"]


def test_the_stored_turn_knows_its_message_had_a_weaker_risk_signal(
    store: MaskingSQLTrackerStore,
) -> None:
    message = UserUttered("does it help depression. got a plan if it doesnt", entities=[
        {"entity": "condition", "value": "depression"},
        {"entity": "crisis_kind", "value": "check_in"}])
    opening = [ActionExecuted("action_session_start"), ActionExecuted("action_listen")]
    with answering(AnsweredTurn("visitor-5", "m-1", [])) as turn:
        # Rasa saves a new conversation's opening first, then the turn with the message.
        asyncio.run(store.save(DialogueStateTracker.from_events(
            "visitor-5", opening, DOMAIN.slots)))
        assert turn.saved and turn.crisis_kinds == []
        asyncio.run(store.save(DialogueStateTracker.from_events(
            "visitor-5", [*opening, message], DOMAIN.slots)))
    assert turn.crisis_kinds == ["check_in"]


def test_a_weaker_risk_signal_gets_the_line_with_988_whatever_the_reply(
    channel: ClinicRestInput, store: MaskingSQLTrackerStore,
) -> None:
    """Round 15's "does it help depression. got a plan if it doesnt" got "did you mean"."""
    save_conversation(store, "visitor-6", crisis=False)
    save_conversation(store, "visitante-3", crisis=False, language="es")
    did_you_mean = {"recipient_id": "visitor-6", "text": "Did you mean one of these?"}
    [line] = asyncio.run(channel._check_in_if_missing("visitor-6", ["check_in"], [did_you_mean]))
    assert line["text"] == check_in_text() and "988" in line["text"]
    assert line["custom"] == {"crisis": True}
    [linea] = asyncio.run(channel._check_in_if_missing("visitante-3", ["check_in"], []))
    assert linea["text"] == check_in_text(language="es") and "988" in linea["text"]
    # Not twice (an answer carries it already), and not without the signal.
    with_line = [did_you_mean, {"recipient_id": "visitor-6", "text": check_in_text(),
                                "custom": {"crisis": True}}]
    assert asyncio.run(channel._check_in_if_missing("visitor-6", ["check_in"], with_line)) == []
    assert asyncio.run(channel._check_in_if_missing("visitor-6", [], [did_you_mean])) == []


def test_when_the_conversation_cannot_be_read_no_booking_is_offered(
    channel: ClinicRestInput, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rest_channel, "current_store", lambda: None)
    assert payloads(asyncio.run(channel._fallback("visitor-5"))) == [TEL]
    assert payloads(too_long(channel, "visitor-5")) == [TEL]
