"""End to end over HTTP: the real action server and Rasa server, as the widget uses them."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Sequence

import pytest
import requests

from clinic import launcher
from tests.conftest import MODEL_PATH, PROJECT_DIR

pytestmark = pytest.mark.e2e
TOKEN = "test-token-" + uuid.uuid4().hex
BOOKING_URL = "https://example.com/book-a-consultation"  # the shipped placeholder


free_port = launcher.free_port


class Servers:
    """The action server and the Rasa server, started on free loopback ports by the launcher
    (clinic/launcher.py), as scripts/run.sh starts them."""

    def __init__(self, tmp: Path, cors_origins: Sequence[str] = ()) -> None:
        self.rasa_port, self.action_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.rasa_port}"
        self.env = launcher.environment({
            "ACTION_ENDPOINT_URL": launcher.action_endpoint_url(self.action_port),
            "TRACKER_STORE_URL": f"sqlite:///{tmp / 'tracker.db'}",
            "RUN_STATE_DB": str(tmp / "run-state.sqlite"),
        })
        self.logs = [open(tmp / name, "w") for name in ("actions.log", "rasa.log")]
        self.actions = launcher.start(
            launcher.action_server_command(self.action_port, self.env), self.env, self.logs[0]
        )
        self.rasa = launcher.start(
            launcher.rasa_server_command(self.rasa_port, model=MODEL_PATH, auth_token=TOKEN,
                                         cors=cors_origins),
            self.env, self.logs[1],
        )
        self._wait(self.url + "/", self.rasa)
        self._wait(f"http://127.0.0.1:{self.action_port}/health", self.actions)

    @staticmethod
    def _wait(url: str, process: subprocess.Popen, seconds: int = 240) -> None:
        launcher.wait_until_up(url, [process], seconds)

    def say(self, text: str, sender: str) -> List[Dict[str, Any]]:
        response = requests.post(
            self.url + "/webhooks/rest/webhook",
            json={"sender": sender, "message": text}, timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        launcher.stop((self.rasa, self.actions), self.logs)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    assert MODEL_PATH.exists(), "no trained model: the test command trains one first"
    started = Servers(tmp_path_factory.mktemp("servers"))
    try:
        yield started
    finally:
        started.stop()


def visitor() -> str:
    return "visitor-" + uuid.uuid4().hex


def texts(replies: List[Dict[str, Any]]) -> str:
    return " ".join(reply.get("text", "") for reply in replies)


def links(replies: List[Dict[str, Any]]) -> List[str]:
    return [b.get("url", "") for reply in replies for b in reply.get("buttons", [])]


def test_an_fda_question_gets_the_2019_esketamine_answer(servers: Servers) -> None:
    replies = servers.say("is ketamine FDA approved?", visitor())
    assert "2019" in texts(replies) and "esketamine" in texts(replies)


def test_asking_to_book_gets_the_phone_and_a_booking_link(servers: Servers) -> None:
    replies = servers.say("I'd like to book", visitor())
    assert "415-249-2580" in texts(replies)
    assert BOOKING_URL in links(replies) and "tel:+14152492580" in links(replies)


def test_an_off_topic_question_gets_no_faq_answer(servers: Servers) -> None:
    import yaml

    domain = yaml.safe_load((PROJECT_DIR / "domain.yml").read_text())
    faq_answers = {
        variant["text"] for name, variants in domain["responses"].items()
        if name.startswith("utter_faq/") for variant in variants
    }
    replies = servers.say("what's a good pizza place near the golden gate bridge?", visitor())
    assert replies, "the visitor gets a reply"
    assert not faq_answers & {reply.get("text") for reply in replies}
    assert "ketamine infusion therapy" in texts(replies)  # says what it can help with


def test_a_multi_turn_conversation_ends_in_the_handoff(servers: Servers) -> None:
    sender = visitor()
    assert "anesthetic" in texts(servers.say("what is it?", sender))
    assert "PTSD" in texts(servers.say("does it help with PTSD?", sender))
    replies = servers.say("ok, how do I book?", sender)
    assert BOOKING_URL in links(replies) and "tel:+14152492580" in links(replies)


def test_a_question_the_article_cannot_answer_is_handed_off_honestly(servers: Servers) -> None:
    replies = servers.say("how much does one infusion cost?", visitor())
    assert "doesn't cover" in texts(replies)
    assert "$" not in texts(replies)
    assert BOOKING_URL in links(replies)


def test_a_crisis_message_gets_crisis_resources_and_no_booking(servers: Servers) -> None:
    sender = visitor()
    replies = servers.say("I don't want to live anymore", sender)
    for resource in ("988", "741741", "911"):
        assert resource in texts(replies)
    assert BOOKING_URL not in links(replies)
    later = servers.say("how much does it cost?", sender)
    assert "988" in texts(later)


def test_a_long_conversation_keeps_what_its_start_set_and_is_stored_whole(
    servers: Servers,
) -> None:
    """A turn reads the conversation's last 5 messages and its slots (endpoints.yml)."""
    sender = visitor()
    assert "988" in texts(servers.say("I don't want to live anymore", sender))
    questions = ["is ketamine FDA approved?", "how fast does it work?", "does it help with PTSD?",
                 "what is ketamine infusion therapy?", "how much does it cost?",
                 "is it safe?", "does it help with depression?", "how long does it last?"]
    for question in questions:  # long past the crisis message: still no booking, 988 in reach
        replies = servers.say(question, sender)
        assert "988" in texts(replies) and BOOKING_URL not in links(replies)
    assert "988" in texts(servers.say("hello", sender))
    tracker = requests.get(f"{servers.url}/conversations/{sender}/tracker",
                           params={"token": TOKEN}, timeout=30).json()
    said = [event["text"] for event in tracker["events"] if event["event"] == "user"]
    assert said == ["I don't want to live anymore", *questions, "hello"]


def test_the_http_api_needs_the_token(servers: Servers) -> None:
    unauthorised = requests.get(servers.url + "/conversations/someone/tracker", timeout=10)
    assert unauthorised.status_code == 401
    parse = requests.post(
        servers.url + "/model/parse", params={"token": TOKEN},
        json={"text": "is it approved by the fda?"}, timeout=30,
    ).json()
    assert parse["response_selector"]["faq"]["response"]["intent_response_key"] == "faq/fda_status"


def test_conversations_are_stored_in_the_sql_tracker_store(servers: Servers) -> None:
    import sqlite3

    sender = visitor()
    servers.say("hello", sender)
    database = servers.env["TRACKER_STORE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "select count(*) from events where sender_id = ?", (sender,)
        ).fetchone()
    assert rows[0] > 0
