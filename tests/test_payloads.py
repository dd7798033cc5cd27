"""Only the assistant's own buttons send intents (issue 17, item 1).

Rasa reads a message starting with `/` as `/intent{entities}` and skips the NLU. The chat
channel passes such a message on unchanged only if it is one of clinic/buttons.py's
`BUTTON_PAYLOADS` (what the assistant's buttons and the widget's thumbs send); any other is
the visitor's text, its `/` made `／`. These tests need no server: tests/test_robustness.py
sends the same payloads to the real one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from actions.did_you_mean import INTENT_BUTTONS, SOMETHING_ELSE
from clinic.buttons import (
    BUTTON_INTENTS,
    BUTTON_PAYLOADS,
    FEEDBACK_INTENT,
    RATING_ENTITY,
    RATINGS,
    booking_quick_reply,
    feedback_payload,
    intent_payload,
    person_quick_reply,
)
from clinic.paths import DOMAIN_FILE, PROJECT_DIR
from clinic_server.rest_channel import (
    TYPED_SLASH,
    BadRequest,
    Limits,
    as_visitor_text,
    parse_chat_request,
)
from staff_tools.check_data import check_project
from tests.test_check_data import MINIMAL, broken_project

WIDGET = PROJECT_DIR / "webchat" / "clinic-chat.js"
DOMAIN = Domain.load(str(DOMAIN_FILE))

# What a visitor may type that Rasa would otherwise read as an intent, steering the dialogue
# or breaking the turn (issue 17): built-in intents and actions, intents no button sends,
# entities no button carries, values out of range, Rasa's `@confidence`, broken JSON.
FORBIDDEN = [
    "/faq",
    "/faq/what_is",
    '/faq{"condition":"OCD"}',
    "/restart",
    "/crisis",
    '/crisis{"crisis_kind":"emergency"}',
    "/session_start",
    "/nlu_fallback",
    "/back",
    "/greet",
    '/greet{"x":"y"}',
    "/out_of_scope",
    "/medical_advice",
    "/feedback",
    "/feedback{}",
    '/feedback{"rating":"sideways"}',
    '/feedback{"rating":"UP"}',
    '/feedback{"rating":["up","down"]}',
    '/feedback{"rating":"up","crisis_kind":"crisis"}',
    '/feedback{"rating":"up"',
    '/feedback{"rating":"up"}}',
    '/feedback{"rating":"up"}{"rating":"down"}',
    '/feedback{"rating": "up"}',  # not as the widget writes it
    '/feedback{"rating":"up"}@0.1',
    "/feedback@1.0",
    '/book_consultation{"condition":"OCD"}',
    "/book_consultation{}",
    "/book_consultation@0.2",
    "/book_consultation please",
    "/contact_human/",
    '/contact_human{"crisis_kind":"crisis"}',
    "/BOOK_CONSULTATION",
    "//book_consultation",
    "/ book_consultation",
    "/",
    "/{}",
    "/ I'm not sure what to ask",
]


def rasa_reads(text: str) -> Tuple[Optional[str], List[Tuple[str, Any]]]:
    """The intent and entities Rasa's `/` syntax gives `text` (None: the NLU decides)."""
    message = YAMLStoryReader.unpack_regex_message(Message({TEXT: text}), DOMAIN)
    intent = (message.get(INTENT) or {}).get("name")
    return intent, [(e["entity"], e["value"]) for e in message.get(ENTITIES) or []]


def chat_text(message: str) -> str:
    body = json.dumps({"sender": "visitor-1", "message": message}).encode()
    return parse_chat_request(body, Limits()).text


def domain_payloads() -> Iterator[Tuple[str, str]]:
    """(response, payload) of every button in domain.yml that sends a payload."""
    responses: Dict[str, Any] = yaml.safe_load(DOMAIN_FILE.read_text())["responses"]
    for name, variants in responses.items():
        for variant in variants:
            for button in variant.get("buttons") or []:
                if "payload" in button:
                    yield name, button["payload"]


# ---- what the buttons send is taken as it is ------------------------------------------------

def test_the_payloads_are_the_buttons_and_the_thumbs() -> None:
    assert BUTTON_PAYLOADS == {
        "/book_consultation", "/contact_human",
        '/feedback{"rating":"up"}', '/feedback{"rating":"down"}',
    }
    assert booking_quick_reply()["payload"] in BUTTON_PAYLOADS
    assert person_quick_reply()["payload"] in BUTTON_PAYLOADS
    assert SOMETHING_ELSE["payload"] in BUTTON_PAYLOADS
    assert {button["payload"] for button in INTENT_BUTTONS.values()} <= BUTTON_PAYLOADS
    assert {feedback_payload(rating) for rating in RATINGS} <= BUTTON_PAYLOADS
    with pytest.raises(ValueError):
        feedback_payload("sideways")


@pytest.mark.parametrize("payload", sorted(BUTTON_PAYLOADS))
def test_a_buttons_payload_is_passed_on_unchanged_and_rasa_reads_it_as_meant(
    payload: str,
) -> None:
    assert as_visitor_text(payload) == payload
    assert chat_text(payload) == payload
    assert chat_text(f"  {payload}\n") == payload  # as the channel cleans any text
    intent, entities = rasa_reads(payload)
    assert intent in BUTTON_INTENTS and intent in DOMAIN.intents
    allowed = BUTTON_INTENTS[intent]
    assert sorted(name for name, _ in entities) == sorted(allowed)
    for name, value in entities:
        assert value in allowed[name] and name in DOMAIN.entities


def test_every_payload_a_domain_answer_sends_is_one_of_them() -> None:
    payloads = [payload for _, payload in domain_payloads() if payload.startswith("/")]
    assert payloads, "the greeting and the rephrase answers have payload buttons"
    for payload in payloads:
        assert payload in BUTTON_PAYLOADS
    # Topic buttons send a question, as text: never touched.
    for _, payload in domain_payloads():
        if not payload.startswith("/"):
            assert as_visitor_text(payload) == payload


def test_the_widget_sends_the_feedback_payloads_of_clinic_buttons() -> None:
    script = WIDGET.read_text(encoding="utf-8")
    ratings = re.search(r"var RATINGS = \[(.*?)\n  \];", script, re.DOTALL)
    assert ratings, "webchat/clinic-chat.js defines RATINGS"
    assert tuple(re.findall(r'value: "(\w+)"', ratings.group(1))) == RATINGS
    # JSON.stringify({ rating: value }) writes what intent_payload writes.
    sent = re.findall(r'"/(\w+)" \+ JSON\.stringify\(\{ (\w+): value \}\)', script)
    assert sent == [(FEEDBACK_INTENT, RATING_ENTITY)]
    assert intent_payload(FEEDBACK_INTENT, {RATING_ENTITY: "up"}) == (
        "/feedback" + json.dumps({"rating": "up"}, separators=(",", ":")))


# ---- anything else is the visitor's text --------------------------------------------------

@pytest.mark.parametrize("typed", FORBIDDEN)
def test_any_other_payload_is_the_visitors_text_for_the_nlu(typed: str) -> None:
    text = chat_text(typed)
    assert text == TYPED_SLASH + typed[1:]  # readable: only the first character changes
    assert not text.strip().startswith("/")
    assert rasa_reads(text) == (None, [])  # Rasa leaves it to the NLU


def test_the_forbidden_payloads_would_steer_rasa_without_the_channel() -> None:
    # Why the channel must change them: Rasa itself takes these as intents, entities and all.
    assert rasa_reads("/restart") == ("restart", [])
    assert rasa_reads("/crisis") == ("crisis", [])
    assert rasa_reads("/faq") == ("faq", [])
    assert rasa_reads('/feedback{"rating":"sideways"}') == (
        "feedback", [("rating", "sideways")])
    assert rasa_reads('/crisis{"crisis_kind":"emergency"}') == (
        "crisis", [("crisis_kind", "emergency")])


def test_text_that_does_not_start_with_a_slash_is_untouched() -> None:
    for text in ("what is ketamine?", "is it 1/2 price?", "／restart", "\u200b/restart",
                 "What is ketamine infusion therapy?", "hi"):
        assert as_visitor_text(text) == text


@settings(max_examples=500, deadline=None, database=None)
@given(text=st.text(min_size=1, max_size=80) | st.text(min_size=1, max_size=80).map(
    lambda rest: "/" + rest) | st.sampled_from(sorted(BUTTON_PAYLOADS)).flatmap(
    lambda payload: st.text(max_size=8).map(lambda tail: payload + tail)))
def test_no_text_but_a_buttons_payload_reaches_rasa_as_an_intent(text: str) -> None:
    body = json.dumps({"sender": "visitor-1", "message": text}).encode()
    try:
        passed_on = parse_chat_request(body, Limits()).text
    except BadRequest as refusal:  # nothing left once cleaned: nothing reaches Rasa
        assert refusal.error == "empty_message"
        return
    intent, entities = rasa_reads(passed_on)
    if intent is not None:
        assert passed_on in BUTTON_PAYLOADS
        assert all(value in BUTTON_INTENTS[intent][name] for name, value in entities)


# ---- the data checker refuses a domain.yml button with another payload ----------------------

def test_a_domain_button_with_a_payload_no_button_may_send_is_reported(tmp_path: Path) -> None:
    assert check_project(MINIMAL).problems == []
    root = broken_project(tmp_path, {"domain.yml": [(
        "  utter_out_of_scope:\n    - text: Sorry, I can't help with that.\n",
        "  utter_out_of_scope:\n    - text: Sorry, I can't help with that.\n"
        "      buttons:\n"
        "        - title: What is it?\n"
        "          payload: What is ketamine infusion therapy?\n"
        "        - title: Book\n"
        "          payload: /book_consultation\n"
        "        - title: Start again\n"
        "          payload: /restart\n",
    )]})
    [problem] = check_project(root).problems
    line = next(i for i, text in enumerate((root / "domain.yml").read_text().splitlines(), 1)
                if "/restart" in text)
    assert str(problem).startswith(f"domain.yml:{line}: ")
    assert "'/restart'" in str(problem) and "/book_consultation" in problem.fix
