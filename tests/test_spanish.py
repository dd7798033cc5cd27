"""Visitors who write in Spanish get every reply in Spanish; other languages a short reply.

What a visitor sees: the tagger's reading of a message's language, the domain's Spanish
variant of each reply (one variant for each state of the conversation, never a coin toss
between two), the actions' Spanish words, and the reply to a message in French or Chinese.
The conversation itself, over HTTP and in a browser: test_end_to_end.py, test_widget_browser.py.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any, Dict, List

import pytest
import yaml
from rasa.core.nlg.generator import ResponseVariationFilter
from rasa_sdk.executor import CollectingDispatcher

from actions.did_you_mean import ActionDidYouMean
from actions.faq_follow_up import ActionFaqFollowUp
from actions.handoff import ActionHandoff
from actions.other_language import ActionOtherLanguage, ActionOtherLanguagePhoneOnly
from clinic.paths import DOMAIN_FILE
from clinic.settings import ClinicSettings
from clinic.topics import load_topics
from clinic.wording import current_languages, language_problems
from clinic_nlp.language import message_language
from tests.conftest import SATURDAY, TUESDAY_MORNING, make_tracker

RESPONSES: Dict[str, List[Dict[str, Any]]] = yaml.safe_load(DOMAIN_FILE.read_text())["responses"]
TEL = "tel:+14152492580"
BOOKING = "https://booking.clinic.test/consultation"


def run(action: Any, tracker: Any) -> List[Dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    assert asyncio.run(action.run(dispatcher, tracker, {})) == []
    return dispatcher.messages


def is_spanish_variant(variant: Dict[str, Any]) -> bool:
    return {"type": "slot", "name": "language", "value": "es"} in (variant.get("condition") or [])


# ---- which language a message is in ---------------------------------------------------------

@pytest.mark.parametrize("text", [
    "hola", "¿Cuánto cuesta la infusión?", "que es la ketamina?", "gracias",
    "mi mama tiene depresion, does it help?", "quiero hablar con alguien que hable español",
])
def test_spanish_messages_are_tagged_spanish(text: str) -> None:
    assert message_language(text) == "es"


@pytest.mark.parametrize("text", [
    "Is ketamine FDA approved?", "how much is the copay for one session",
    "is ketamine legal to buy in mexico", "recipe for bánh mì", "contraindications?",
    "r u chatgpt lol",
])
def test_english_messages_are_tagged_english(text: str) -> None:
    assert message_language(text) == "en"


@pytest.mark.parametrize("text", ["ok", "si", "hi", "no", "👍"])
def test_a_message_too_short_to_judge_keeps_the_conversations_language(text: str) -> None:
    assert message_language(text) is None


@pytest.mark.parametrize("text, code", [
    ("Bonjour, combien coûte une séance ?", "fr"), ("Olá, quanto custa o tratamento?", "pt"),
    ("治療費はいくらですか？", "ja"), ("Сколько стоит лечение?", "ru"),
])
def test_a_message_surely_in_another_language_is_tagged_with_it(text: str, code: str) -> None:
    assert message_language(text) == code


# ---- the domain's replies -------------------------------------------------------------------

def test_every_reply_but_the_crisis_reply_has_a_spanish_variant() -> None:
    missing = [name for name, variants in RESPONSES.items()
               if name != "utter_crisis" and not any(map(is_spanish_variant, variants))]
    assert missing == []


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_each_state_of_the_conversation_picks_one_variant_in_its_language(name: str) -> None:
    chooser = ResponseVariationFilter(RESPONSES)
    kinds = [None, "crisis", "crisis_es", "emergency", "emergency_es", "check_in"]
    for language, crisis_mode, kind in itertools.product(["en", "es"], [None, True], kinds):
        slots = {"language": language, "crisis_mode": crisis_mode, "crisis_kind": kind}
        variants = chooser.responses_for_utter_action(name, "rest", slots)
        assert len(variants) == 1, (slots, variants)
        if name != "utter_crisis":
            assert is_spanish_variant(variants[0]) == (language == "es"), slots


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_a_spanish_variant_has_the_english_ones_buttons(name: str) -> None:
    english = [v for v in RESPONSES[name] if not is_spanish_variant(v)]
    spanish = [v for v in RESPONSES[name] if is_spanish_variant(v)]
    for variant in spanish:
        conditions = [c for c in variant["condition"] if c["name"] != "language"]
        [twin] = [v for v in english
                  if [c for c in v.get("condition") or [] if c["name"] != "language"]
                  == [c for c in conditions if c.get("value") is not None]]
        payloads = [b["payload"] for b in variant.get("buttons") or []]
        english_payloads = [b["payload"] for b in twin.get("buttons") or []]
        assert [p for p in payloads if p.startswith("/")] == [
            p for p in english_payloads if p.startswith("/")]
        assert len(payloads) == len(english_payloads)


def test_the_spanish_greeting_buttons_send_spanish_questions_of_their_topics() -> None:
    [spanish] = [v for v in RESPONSES["utter_greet"] if is_spanish_variant(v)]
    titles = {topic.title_es for topic in load_topics().values()}
    questions = [b["payload"] for b in spanish["buttons"] if not b["payload"].startswith("/")]
    assert questions and set(questions) <= titles


# ---- the actions' words ---------------------------------------------------------------------

def test_the_handoff_in_spanish_gives_the_phone_and_the_calendar(settings: ClinicSettings) -> None:
    tracker = make_tracker(intent="contact_human", slots={"language": "es"})
    [message] = run(ActionHandoff(settings, lambda: TUESDAY_MORNING), tracker)
    assert message["text"].startswith("Para hablar con alguien de la clínica")
    assert "415-249-2580" in message["text"]
    assert [b["url"] for b in message["buttons"]] == [TEL, BOOKING]
    assert [b["title"] for b in message["buttons"]] == [
        "Llamar al 415-249-2580", "Agendar una consulta"]


def test_the_closed_line_is_said_in_spanish(settings: ClinicSettings) -> None:
    tracker = make_tracker(intent="contact_human", slots={"language": "es"})
    [message] = run(ActionHandoff(settings, lambda: SATURDAY), tracker)
    assert message["text"].startswith("Nuestra línea telefónica está cerrada")
    assert "el lunes a las 09:00" in message["text"] and "Monday" not in message["text"]
    assert "{" not in message["text"]


def test_after_an_answer_the_related_topics_and_booking_are_offered_in_spanish(
    settings: ClinicSettings,
) -> None:
    tracker = make_tracker(intent="faq", faq_key="speed", slots={"language": "es"})
    [message] = run(ActionFaqFollowUp(settings), tracker)
    assert message["text"].startswith("¿Te gustaría agendar una consulta")
    titles = [b["title"] for b in message["buttons"]]
    topics = load_topics()
    assert titles == [*(topics[k].title_es for k in topics["speed"].related),
                      "Agendar una consulta"]
    assert all(b["payload"] == b["title"] or b["payload"].startswith("/")
               for b in message["buttons"])


def test_did_you_mean_offers_spanish_topics() -> None:
    tracker = make_tracker(intent="nlu_fallback", slots={"language": "es"})
    tracker.latest_message.update({
        "intent_ranking": [{"name": "faq", "confidence": 0.6}],
        "response_selector": {"faq": {"ranking": [
            {"intent_response_key": "faq/speed", "confidence": 0.4},
            {"intent_response_key": "faq/depression", "confidence": 0.3}]}},
    })
    [message] = run(ActionDidYouMean(), tracker)
    assert message["text"].startswith("No estoy seguro de haber entendido")
    assert [b["title"] for b in message["buttons"]] == [
        "¿Qué tan rápido funciona?", "¿Ayuda con la depresión?", "Agendar una consulta",
        "Otra cosa: hablar con una persona"]


# ---- another language -----------------------------------------------------------------------

def test_a_french_message_gets_a_french_reply_with_the_phone_and_booking(
    settings: ClinicSettings,
) -> None:
    tracker = make_tracker(intent="out_of_scope", entities={"other_language": "fr"})
    [message] = run(ActionOtherLanguage(settings), tracker)
    assert message["text"].startswith("Je peux répondre en anglais et en espagnol")
    assert "415-249-2580" in message["text"]
    assert [b["url"] for b in message["buttons"]] == [TEL, BOOKING]


def test_after_a_crisis_the_reply_in_another_language_offers_no_booking(
    settings: ClinicSettings,
) -> None:
    tracker = make_tracker(intent="out_of_scope", entities={"other_language": "zh"})
    [message] = run(ActionOtherLanguagePhoneOnly(settings), tracker)
    assert "415-249-2580" in message["text"]
    assert [b["url"] for b in message["buttons"]] == [TEL]


def test_every_other_language_reply_names_the_phone() -> None:
    assert all("{phone}" in text for text in current_languages().other_languages.values())


def test_i_want_to_die_in_korean_gets_911_and_988_in_korean(settings: ClinicSettings) -> None:
    """The crisis detector reads English and Spanish; the reply in another language still
    tells a visitor in crisis where to call (round 16's blind set: "죽고 싶어요")."""
    assert message_language("죽고 싶어요") == "ko"
    tracker = make_tracker(intent="out_of_scope", entities={"other_language": "ko"})
    [message] = run(ActionOtherLanguage(settings), tracker)
    assert "911" in message["text"] and "988" in message["text"]
    assert "위험하거나 위기 상황이라면" in message["text"]


def test_an_other_language_reply_without_the_crisis_numbers_is_a_problem() -> None:
    raw = yaml.safe_load((DOMAIN_FILE.parent / "settings" / "languages.yml").read_text())
    raw["other_languages"]["fr"] = "Je peux répondre en anglais. Appelez le {phone}."
    assert language_problems(raw) == [
        "other_languages: 'fr' must name 911 and 988 in one sentence (a visitor in crisis who "
        "writes in that language reads that sentence after the crisis reply)"]


def test_a_spanish_text_that_lost_its_placeholder_is_a_problem() -> None:
    raw = yaml.safe_load((DOMAIN_FILE.parent / "settings" / "languages.yml").read_text())
    assert language_problems(raw) == []
    raw["spanish"]["team_can_answer"] = "El equipo de la clínica puede responderte eso."
    assert language_problems(raw) == [
        "spanish: 'team_can_answer' must contain exactly {phone}"]


def test_the_spanish_weekdays_must_be_seven() -> None:
    raw = yaml.safe_load((DOMAIN_FILE.parent / "settings" / "languages.yml").read_text())
    raw["spanish"]["weekdays"] = "el lunes, el martes"
    assert language_problems(raw) == [
        "spanish: 'weekdays' must name the seven days, Monday first, separated by commas"]
