"""Bad input and faults are harmless: the real servers, driven with what a careless client,
an attacker or a broken action server would produce (issue 7, "Hard to break")."""

from __future__ import annotations

import itertools
import json
import logging
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from benchmark import fuzz
from benchmark.servers import LogWatch
from clinic import launcher
from clinic.buttons import BUTTON_PAYLOADS, booking_quick_reply, feedback_payload
from clinic.replies import TURN_FAILED
from clinic.settings import load_settings
from clinic.wording import wording
from clinic_server.rest_channel import (
    SANIC_ERROR_LOGGER,
    TYPED_SLASH,
    ChannelConfigError,
    Limits,
    _BodylessRequestBodyIsNotAnError,
    clean_text,
)
from tests.conftest import MODEL_PATH
from tests.test_end_to_end import BOOKING_URL, TOKEN, Servers, texts, visitor

pytestmark = pytest.mark.e2e

# The limits the servers run with. The window is long so that a slow machine cannot spread a
# burst over two windows; the rates are small to keep the tests short.
LIMITS = {
    "CHAT_MAX_BODY_BYTES": "65536",
    "CHAT_MAX_MESSAGE_CHARS": "2000",
    "CHAT_RATE_WINDOW_SECONDS": "60",
    "CHAT_RATE_LIMIT_PER_SENDER": "8",
    "CHAT_RATE_LIMIT_PER_IP": "20",
    "SANIC_REQUEST_MAX_SIZE": "2097152",
    # As behind a proxy: the client's IP is the X-Forwarded-For header's last address, so each
    # test can be a different client.
    "SANIC_PROXIES_COUNT": "1",
}
PHONE = load_settings().phone  # the number visitors are told to call, from settings/clinic.yml
PHONE_LINK = load_settings().phone_link
APOLOGY = TURN_FAILED
OFFER_TO_BOOK = wording(None).offer_to_book
_addresses = (f"10.{a}.{b}.{c}" for a, b, c in itertools.product(range(256), repeat=3))
# Words sent in messages that must never reach the log.
SECRET_WORDS: List[str] = []
# What the servers' logs hold from their start on (`LogWatch`, set by the `servers` fixture).
SINCE_START: List[LogWatch] = []


def new_client() -> Dict[str, str]:
    """Headers that make the next requests come from a client IP no other request used."""
    return {"X-Forwarded-For": next(_addresses)}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    assert MODEL_PATH.exists(), "no trained model: the test command trains one first"
    with pytest.MonkeyPatch.context() as environment:
        for name, value in LIMITS.items():
            environment.setenv(name, value)
        started = Servers(tmp_path_factory.mktemp("robustness"))
    SINCE_START.append(LogWatch.of(started.logs))
    try:
        yield started
    finally:
        started.stop()


def post(servers: Servers, body: Any = None, *, data: Any = None,
         headers: Optional[Dict[str, str]] = None) -> requests.Response:
    return requests.post(
        servers.url + "/webhooks/rest/webhook", json=body, data=data,
        headers=headers or new_client(), timeout=60,
    )


def chat(servers: Servers, text: str, sender: str,
         headers: Optional[Dict[str, str]] = None) -> List[Dict[str, Any]]:
    response = post(servers, {"sender": sender, "message": text}, headers=headers)
    assert response.status_code == 200, response.text
    replies = response.json()
    assert isinstance(replies, list)
    return replies


def assert_refused(response: requests.Response, status: int) -> None:
    """A 4xx JSON refusal whose message says what to do."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    refusal = response.json()
    assert isinstance(refusal["error"], str) and refusal["message"].strip()


def assert_still_answers(servers: Servers) -> None:
    replies = chat(servers, "is ketamine FDA approved?", visitor())
    assert "2019" in texts(replies) and APOLOGY not in texts(replies)


def stored_user_events(servers: Servers, sender: str) -> List[Dict[str, Any]]:
    tracker = requests.get(
        f"{servers.url}/conversations/{sender}/tracker", params={"token": TOKEN}, timeout=30,
    ).json()
    return [event for event in tracker["events"] if event["event"] == "user"]


def stored_user_texts(servers: Servers, sender: str) -> List[str]:
    return [event["text"] for event in stored_user_events(servers, sender)]


# ---- the pieces, without servers ------------------------------------------------------------

def test_a_malformed_limit_names_its_variable() -> None:
    with pytest.raises(ChannelConfigError, match="CHAT_RATE_LIMIT_PER_IP"):
        Limits.from_environment({"CHAT_RATE_LIMIT_PER_IP": "lots"})
    assert Limits.from_environment({"CHAT_MAX_MESSAGE_CHARS": "500"}).max_message_chars == 500


def test_clean_text_keeps_scripts_emoji_and_joiners_and_drops_control_characters() -> None:
    assert clean_text("a\x00b\x1bc\td\ne\ud800f") == "abc d ef"
    for text in ("مرحبا", "👩\u200d⚕️", "氯胺酮", "\u200fשלום"):
        assert clean_text(text) == text
    assert clean_text("e\u0301") == "\u00e9"  # NFC: one code point for é


@pytest.mark.parametrize(("message", "level"), [
    ("<Request: OPTIONS /webhooks/rest/webhook> body not consumed.", logging.INFO),
    ("<Request: GET /> body not consumed.", logging.INFO),
    ("<Request: POST /webhooks/rest/webhook> body not consumed.", logging.ERROR),
    ("Exception occurred while handling uri: 'http://x/'", logging.ERROR),
])
def test_only_a_body_sent_with_a_method_that_takes_none_is_demoted(message: str,
                                                                    level: int) -> None:
    record = logging.LogRecord(SANIC_ERROR_LOGGER, logging.ERROR, __file__, 1, message, None,
                               None)
    assert _BodylessRequestBodyIsNotAnError().filter(record)
    assert record.levelno == level and record.levelname == logging.getLevelName(level)


# ---- malformed requests ----------------------------------------------------------------

MALFORMED = {
    "not JSON": "hello, is ketamine approved?",
    "empty body": "",
    "truncated JSON": '{"sender": "x", "message": "hi"',
    "invalid UTF-8": b'{"sender": "x", "message": "\xff\xfe"}',
    "a JSON list": "[1, 2, 3]",
    "a JSON string": '"hello"',
    "deeply nested JSON": "[" * 50_000,
    "no sender": json.dumps({"message": "hello"}),
    "no message": json.dumps({"sender": "x"}),
    "message is a number": json.dumps({"sender": "x", "message": 42}),
    "message is a list": json.dumps({"sender": "x", "message": ["hello"]}),
    "message is null": json.dumps({"sender": "x", "message": None}),
    "message is an object": json.dumps({"sender": "x", "message": {"text": "hi"}}),
    "sender is an object": json.dumps({"sender": {"id": 1}, "message": "hello"}),
    "sender is a number": json.dumps({"sender": 7, "message": "hello"}),
    "sender is empty": json.dumps({"sender": "  ", "message": "hello"}),
    "sender is 1,000 characters": json.dumps({"sender": "s" * 1000, "message": "hello"}),
    "message is only control characters": json.dumps({"sender": "x", "message": "\x00\x07"}),
    "metadata is a string": json.dumps({"sender": "x", "message": "hi", "metadata": "m"}),
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_request_gets_a_400_that_says_what_to_send(
    servers: Servers, body: Any
) -> None:
    assert_refused(post(servers, data=body), 400)
    assert_still_answers(servers)


def test_the_readme_curl_without_a_content_type_still_works(servers: Servers) -> None:
    response = post(servers, data=json.dumps({"sender": visitor(), "message": "hello"}))
    assert response.status_code == 200 and "automated assistant" in texts(response.json())


# ---- sizes -------------------------------------------------------------------------------

def test_a_100_kb_message_is_refused_with_413(servers: Servers) -> None:
    assert_refused(post(servers, {"sender": visitor(), "message": "a" * 100_000}), 413)
    assert_still_answers(servers)


def test_a_1_mb_body_is_refused_with_413_even_without_a_declared_length(
    servers: Servers,
) -> None:
    body = json.dumps({"sender": visitor(), "message": "b" * 1_000_000}).encode()
    assert_refused(post(servers, data=body), 413)
    chunks = (body[i:i + 16_384] for i in range(0, len(body), 16_384))  # chunked, no length
    assert_refused(post(servers, data=chunks), 413)
    assert_still_answers(servers)


def test_the_server_wide_body_limit_applies_to_the_api_too(servers: Servers) -> None:
    response = requests.post(servers.url + "/model/parse", data=b"x" * 3_000_000, timeout=60)
    assert response.status_code == 413
    assert_still_answers(servers)


def test_a_message_over_the_length_limit_gets_a_polite_reply_and_skips_the_model(
    servers: Servers,
) -> None:
    sender = visitor()
    SECRET_WORDS.append("quokka")
    replies = chat(servers, "quokka " * 400, sender)  # 2,799 characters, a 3 KB body
    assert len(replies) == 1 and "too long" in replies[0]["text"]
    assert "2,000" in replies[0]["text"]
    # Not a dead end: the booking link and the clinic's phone (issue 18).
    assert [b.get("url") for b in replies[0]["buttons"]] == [BOOKING_URL, PHONE_LINK]
    assert stored_user_texts(servers, sender) == []
    assert "ketamine" in texts(chat(servers, "what is ketamine?", sender))  # goes on normally


# ---- text ----------------------------------------------------------------------------------

def test_control_characters_are_removed_before_the_model_sees_the_text(servers: Servers) -> None:
    sender = visitor()
    SECRET_WORDS.append("wombat")
    replies = chat(servers, "hello\x00 wombat\x1b[31m\x07\nthere\r\n", sender)
    assert replies and APOLOGY not in texts(replies)
    assert stored_user_texts(servers, sender) == ["hello wombat[31m there"]


def test_a_lone_surrogate_escape_does_not_break_the_turn(servers: Servers) -> None:
    response = post(servers, data=b'{"sender": "s-%s", "message": "\\ud800 hello"}'
                    % uuid.uuid4().hex.encode())
    assert response.status_code == 200 and "automated assistant" in texts(response.json())


@pytest.mark.parametrize("text", [
    "هل الكيتامين معتمد من إدارة الغذاء والدواء؟",  # Arabic, right to left
    "האם קטמין מאושר?",  # Hebrew
    "氯胺酮疗法获得FDA批准了吗？",  # Chinese
    "ケタミンは安全ですか",  # Japanese
    "👩‍⚕️🙏 can I book? 😊🇺🇸",  # emoji with joiners and flags
    "Ｉ ｗａｎｔ ｔｏ ｂｏｏｋ",  # full-width Latin
    "\u202eevil\u202c is it FDA approved",  # a right-to-left override
])
def test_other_scripts_and_emoji_get_a_reply_and_are_stored_intact(
    servers: Servers, text: str
) -> None:
    sender = visitor()
    replies = chat(servers, text, sender)
    assert texts(replies).strip()
    assert APOLOGY not in texts(replies)
    assert stored_user_texts(servers, sender) == [text]


# ---- intents typed by a visitor (issue 17) ------------------------------------------------

# Rasa would take each as an intent, skipping the NLU: a built-in intent or action, the
# retrieval intent without its answer, entities no button carries, a value no thumb sends.
TYPED_INTENTS = [
    "/restart", "/faq", "/crisis", "/nlu_fallback", "/session_start", '/greet{"x":"y"}',
    '/feedback{"rating":"sideways"}', '/book_consultation{"condition":"OCD"}',
    '/contact_human{"crisis_kind":"emergency"}', '/feedback{"rating":"up"',
]
OFF_TOPIC = "Sorry, I can't help with that"
# did-you-mean, and the rephrase answer, in English or Spanish ("/crisis" reads as Spanish)
NOT_UNDERSTOOD = ("I'm not sure I understood", "No estoy seguro de haber entendido",
                  "Lo siento, no puedo ayudarte")
CRISIS_REPLY = "741741"


def nlu_intent(servers: Servers, text: str) -> str:
    parse = requests.post(servers.url + "/model/parse", params={"token": TOKEN},
                          json={"text": text}, timeout=30)
    assert parse.status_code == 200, parse.text
    return parse.json()["intent"]["name"]


@pytest.mark.parametrize("typed", TYPED_INTENTS)
def test_an_intent_typed_by_a_visitor_is_read_by_the_nlu_as_text(
    servers: Servers, typed: str
) -> None:
    watch, sender = LogWatch.of(servers.logs), visitor()
    replies = chat(servers, typed, sender)
    assert texts(replies).strip() and APOLOGY not in texts(replies)
    [event] = stored_user_events(servers, sender)
    assert event["text"] == TYPED_SLASH + typed[1:]  # stored as typed, but for the slash
    parse = event["parse_data"]
    assert len(parse["intent_ranking"]) > 1, "the NLU's ranking, not Rasa's `/` syntax"
    assert parse["intent"]["name"] == nlu_intent(servers, event["text"])
    # Entities only from the NLU's extractors (a crisis check-in, a condition it recognises),
    # none from the typed JSON, which Rasa's `/` syntax would mark as its RegexMessageHandler's.
    assert all(entity.get("extractor") != "RegexMessageHandler" for entity in parse["entities"])
    assert all(entity["entity"] != "rating" for entity in parse["entities"])
    # The crisis reply only if the NLU found a crisis in the text.
    assert (CRISIS_REPLY in texts(replies)) == (parse["intent"]["name"] == "crisis")
    if parse["intent"]["name"] in ("out_of_scope", "nlu_fallback"):
        assert OFF_TOPIC in texts(replies) or any(
            words in texts(replies) for words in NOT_UNDERSTOOD), texts(replies)
    assert watch.problems() == []


def test_the_assistants_buttons_and_thumbs_still_send_their_intents(servers: Servers) -> None:
    watch, sender = LogWatch.of(servers.logs), visitor()
    answer = chat(servers, "is ketamine FDA approved?", sender)
    offered = [b.get("payload") for reply in answer for b in reply.get("buttons", [])]
    assert booking_quick_reply()["payload"] in offered
    assert "Thanks for telling us" in texts(chat(servers, feedback_payload("up"), sender))
    person = chat(servers, "/contact_human", sender)  # the handoff (phone first while open)
    assert any(b.get("url", "").startswith("tel:") for reply in person
               for b in reply.get("buttons", []))
    booking = chat(servers, booking_quick_reply()["payload"], sender)
    assert BOOKING_URL in [b.get("url") for reply in booking for b in reply.get("buttons", [])]
    events = stored_user_events(servers, sender)
    assert [event["text"] for event in events][1:] == [
        '/feedback{"rating":"up"}', "/contact_human", "/book_consultation"]
    assert all(event["text"] in BUTTON_PAYLOADS for event in events[1:])
    assert [(event["parse_data"]["intent"]["name"], event["parse_data"]["intent"]["confidence"],
             [(e["entity"], e["value"]) for e in event["parse_data"]["entities"]])
            for event in events[1:]] == [
        ("feedback", 1.0, [("rating", "up")]), ("contact_human", 1.0, []),
        ("book_consultation", 1.0, []),
    ]
    assert watch.problems() == []


# ---- fuzzing -------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
CHAT_LIKE = st.fixed_dictionaries(
    {"sender": st.text(max_size=40) | JSON_VALUES,
     "message": st.text(max_size=300) | JSON_VALUES},
    optional={"metadata": JSON_VALUES, "input_channel": JSON_VALUES},
)
BODIES = st.one_of(
    CHAT_LIKE.map(json.dumps).map(str.encode),  # lone surrogates arrive as \ud800 escapes
    CHAT_LIKE.map(lambda body: json.dumps(body, ensure_ascii=False).encode("utf-8", "replace")),
    JSON_VALUES.map(json.dumps).map(str.encode),
    st.text(max_size=400).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.binary(max_size=400),
)


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(body=BODIES)
def test_any_body_gets_a_well_formed_json_answer_and_never_a_500(
    servers: Servers, body: bytes
) -> None:
    response = post(servers, data=body)
    event(f"HTTP {response.status_code}")
    assert response.status_code < 500, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    answer = response.json()
    if response.status_code == 200:
        assert isinstance(answer, list) and answer, "a processed message gets a reply"
        # Rasa sends a response's `custom` data (read by the widget) as a message of its own.
        assert all(isinstance(reply, dict) and {"text", "buttons", "custom"} & set(reply)
                   for reply in answer)
        assert texts(answer).strip(), "at least one reply says something"
    else:
        assert response.status_code in (400, 413, 429)
        assert isinstance(answer["error"], str) and answer["message"]


@settings(max_examples=120, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(min_size=1, max_size=300))
def test_any_text_in_a_well_formed_request_gets_a_reply_without_a_failure(
    servers: Servers, text: str
) -> None:
    response = post(servers, {"sender": visitor(), "message": text})
    event(f"HTTP {response.status_code}")
    if response.status_code == 400:  # nothing left once control characters are removed
        assert response.json()["error"] == "empty_message"
        return
    assert response.status_code == 200, response.text
    replies = response.json()
    assert replies and APOLOGY not in texts(replies)


def test_a_1000_request_fuzz_gets_no_5xx_breaks_no_turn_and_leaves_no_error_in_the_logs(
    servers: Servers,
) -> None:
    # `make fuzz` (benchmark/fuzz.py), seeded: the same 1,000 requests every run.
    watch = LogWatch.of(servers.logs)
    outcome = fuzz.run(servers.url, requests=1000, seed=17)
    assert outcome.requests == 1000
    assert (outcome.server_errors, outcome.connection_errors, outcome.broken_turns) == (0, 0, 0), \
        outcome.failures[:10]
    assert watch.problems() == []
    # It went past the checks as well as into each refusal.
    assert {"200", "204", "400", "404", "405", "413", "429"} <= set(outcome.statuses), \
        outcome.statuses
    assert_still_answers(servers)



@pytest.mark.parametrize("method", ["OPTIONS", "GET", "DELETE"])
@pytest.mark.parametrize("path", ["/webhooks/rest/webhook", "/webhooks/rest/link-click",
                                  "/webhooks/rest/", "/"])
def test_a_body_sent_with_a_method_that_takes_none_leaves_no_error_in_the_log(
    servers: Servers, method: str, path: str
) -> None:
    # Found by fuzzing the webhook: a CORS preflight (or a GET) with a body was answered 200
    # and Sanic logged "<Request: OPTIONS ...> body not consumed." as an ERROR.
    watch = LogWatch.of(servers.logs)
    response = requests.request(method, servers.url + path, data=b'{"sender": "x"}',
                                headers={**new_client(), "Origin": "https://evil.example"},
                                timeout=30)
    assert response.status_code in (200, 405)
    time.sleep(0.2)  # the log line follows the answer
    assert watch.problems() == []
    assert_still_answers(servers)


def test_the_server_still_answers_after_the_fuzzing(servers: Servers) -> None:
    assert_still_answers(servers)


# ---- rate limits ---------------------------------------------------------------------------

def test_a_sender_over_its_rate_gets_429_and_another_sender_still_gets_answers(
    servers: Servers,
) -> None:
    sender, limit = visitor(), int(LIMITS["CHAT_RATE_LIMIT_PER_SENDER"])
    for _ in range(limit):  # each from its own IP: only the sender's own limit counts
        chat(servers, "hello", sender)
    refused = post(servers, {"sender": sender, "message": "hello"})
    assert_refused(refused, 429)
    assert "wait" in refused.json()["message"] and int(refused.headers["Retry-After"]) >= 1
    assert "automated assistant" in texts(chat(servers, "hello", visitor()))


def test_a_client_ip_over_its_rate_gets_429_and_another_client_still_gets_answers(
    servers: Servers,
) -> None:
    client, limit = new_client(), int(LIMITS["CHAT_RATE_LIMIT_PER_IP"])
    for _ in range(limit):  # a new conversation each time: only the IP's limit counts
        chat(servers, "hello", visitor(), headers=client)
    assert_refused(post(servers, {"sender": visitor(), "message": "hello"}, headers=client), 429)
    assert "automated assistant" in texts(chat(servers, "hello", visitor()))


# ---- the count of clicks on the widget's booking and phone links ---------------------------

def click(servers: Servers, body: Any, headers: Optional[Dict[str, str]] = None
          ) -> requests.Response:
    # As navigator.sendBeacon sends a string: text/plain, no CORS preflight.
    return requests.post(
        servers.url + "/webhooks/rest/link-click", data=body, timeout=30,
        headers={"Content-Type": "text/plain;charset=UTF-8", **(headers or new_client())},
    )


def stored_clicks(servers: Servers) -> List[tuple]:
    database = servers.env["TRACKER_STORE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:  # the table is made when the server starts
        columns = [row[1] for row in connection.execute("pragma table_info(link_clicks)")]
        assert columns == ["timestamp", "link"]  # no conversation id, no address
        rows = connection.execute("select timestamp, link from link_clicks order by rowid")
        return rows.fetchall()


def test_a_link_click_is_stored_as_one_row_of_its_minute_and_link(servers: Servers) -> None:
    before = stored_clicks(servers)
    response = click(servers, json.dumps({"link": "booking"}))
    assert response.status_code == 204, response.text
    after = stored_clicks(servers)
    assert len(after) == len(before) + 1
    when, link = after[-1]
    assert link == "booking" and when % 60 == 0 and time.time() - when < 120
    assert click(servers, json.dumps({"link": "phone"})).status_code == 204
    assert stored_clicks(servers)[-1][1] == "phone"


BAD_CLICKS = {
    "not JSON": "link=booking",
    "another link": json.dumps({"link": "tel:988"}),
    "a conversation id too": json.dumps({"link": "booking", "sender": "web-1"}),
    "text too": json.dumps({"link": "phone", "message": "numbat"}),
}


@pytest.mark.parametrize("body", BAD_CLICKS.values(), ids=BAD_CLICKS.keys())
def test_a_link_click_with_a_bad_body_is_refused_with_a_400(servers: Servers, body: str) -> None:
    SECRET_WORDS.append("numbat")
    before = len(stored_clicks(servers))
    assert_refused(click(servers, body), 400)
    assert len(stored_clicks(servers)) == before


def test_a_link_click_has_the_webhooks_body_and_per_ip_limits(servers: Servers) -> None:
    assert_refused(click(servers, json.dumps({"link": "booking", "x": "a" * 100_000})), 413)
    client, limit = new_client(), int(LIMITS["CHAT_RATE_LIMIT_PER_IP"])
    for _ in range(limit):
        assert click(servers, json.dumps({"link": "phone"}), headers=client).status_code == 204
    refused = click(servers, json.dumps({"link": "phone"}), headers=client)
    assert_refused(refused, 429)
    assert int(refused.headers["Retry-After"]) >= 1
    # Counted apart from the chat: the same client may still send messages.
    assert "automated assistant" in texts(chat(servers, "hello", visitor(), headers=client))


# ---- nothing a visitor sent left an error ----------------------------------------------------

def test_no_visitor_input_left_an_error_or_a_traceback_in_the_logs(servers: Servers) -> None:
    # The requests above are what a visitor can send through the public side (nginx passes
    # only /webhooks/), and one oversized API call: malformed, oversized, other scripts, typed
    # intents, fuzzed, over the rate limits, bad link clicks. Below come the HTTP API (private;
    # Rasa logs its refusals as errors) and the faults (the action server stopped).
    [watch] = SINCE_START
    assert watch.problems() == []


# ---- the Rasa HTTP API needs the token -----------------------------------------------------

API = [
    ("GET", "/conversations/{id}/tracker", None),
    ("GET", "/conversations/{id}/story", None),
    ("POST", "/conversations/{id}/messages", {"text": "hello", "sender": "user"}),
    ("POST", "/conversations/{id}/tracker/events", {"event": "slot", "name": "x", "value": 1}),
    ("PUT", "/conversations/{id}/tracker/events", []),
    ("POST", "/conversations/{id}/execute", {"name": "utter_greet"}),
    ("POST", "/conversations/{id}/trigger_intent", {"name": "greet"}),
    ("POST", "/conversations/{id}/predict", None),
    ("POST", "/model/parse", {"text": "hello"}),
    ("PUT", "/model", {"model_file": "/tmp/elsewhere.tar.gz"}),
    ("DELETE", "/model", None),
    ("POST", "/model/train", None),
    ("POST", "/model/test/stories", None),
    ("POST", "/model/test/intents", None),
    ("POST", "/model/predict", []),
    ("GET", "/status", None),
    ("GET", "/domain", None),
]


@pytest.mark.parametrize("token", [None, "wrong-token"], ids=["no token", "wrong token"])
@pytest.mark.parametrize(("method", "path", "body"), API, ids=[f"{m} {p}" for m, p, _ in API])
def test_the_http_api_refuses_requests_without_the_right_token(
    servers: Servers, method: str, path: str, body: Any, token: Optional[str]
) -> None:
    url = servers.url + path.format(id="visitor-" + uuid.uuid4().hex)
    params = {"token": token} if token else {}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.request(method, url, params=params, headers=headers, json=body,
                                timeout=30)
    assert response.status_code in (401, 403), (response.status_code, response.text[:200])
    assert "events" not in response.text and "model_file" not in response.text


def test_the_right_token_opens_the_api(servers: Servers) -> None:
    status = requests.get(servers.url + "/status", params={"token": TOKEN}, timeout=30)
    assert status.status_code == 200 and "model_id" in status.json()


# ---- the action server goes down and comes back --------------------------------------------

def restart_action_server(servers: Servers) -> None:
    """Start the action server again on its old port, as Servers first started it."""
    servers.actions = launcher.start(
        launcher.action_server_command(servers.action_port, servers.env), servers.env,
        servers.logs[0],
    )
    Servers._wait(f"http://127.0.0.1:{servers.action_port}/health", servers.actions)


def test_with_the_action_server_down_visitors_get_the_phone_then_the_conversation_goes_on(
    servers: Servers,
) -> None:
    sender = visitor()
    assert "2019" in texts(chat(servers, "is ketamine FDA approved?", sender))
    servers.actions.kill()
    servers.actions.wait(timeout=30)
    try:
        for question in ("can I talk to a person", "I want to book a consultation"):
            replies = chat(servers, question, sender)
            assert PHONE in texts(replies) and APOLOGY in texts(replies)
            assert any(button.get("type") == "phone"
                       for reply in replies for button in reply.get("buttons", []))
            assert BOOKING_URL in [button.get("url")
                                   for reply in replies for button in reply.get("buttons", [])]
        # After a crisis message the apology offers the phone and 988, never booking.
        in_crisis = visitor()
        replies = chat(servers, "I want to kill myself", in_crisis)
        assert "741741" in texts(replies) and APOLOGY in texts(replies)
        urls = [button.get("url") for reply in replies for button in reply.get("buttons", [])]
        assert PHONE_LINK in urls and BOOKING_URL not in urls
        replies = chat(servers, "what's the weather in paris", in_crisis)  # no action needed
        assert "988" in texts(replies) and APOLOGY not in texts(replies)
        assert not any(reply.get("buttons") for reply in replies)
        # An FAQ answer is given as usual meanwhile, with its follow-up: that action runs in
        # the Rasa server's process (endpoints.yml, run_in_process), not on the action server.
        replies = chat(servers, "does it help with PTSD?", sender)
        assert "PTSD" in texts(replies) and APOLOGY not in texts(replies)
        assert OFFER_TO_BOOK in texts(replies)
    finally:
        restart_action_server(servers)
    replies = chat(servers, "I want to book a consultation", sender)
    assert APOLOGY not in texts(replies)
    buttons = [button.get("url") for reply in replies for button in reply.get("buttons", [])]
    assert BOOKING_URL in buttons and any(url.startswith("tel:") for url in buttons)


def test_no_message_text_is_logged(servers: Servers) -> None:
    log = Path(servers.logs[1].name).read_text(encoding="utf-8")
    assert "Rasa server is up and running" in log  # the log is the right one
    for text in [*SECRET_WORDS, "talk to a person", "book a consultation", "FDA approved"]:
        assert text not in log
