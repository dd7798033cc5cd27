"""Safe retries (issue 17, part 2): a chat message sent again with the same `message_id` is
answered once, from what was stored with the conversation.

The pieces without servers first (the id checks, the row the tracker store writes with a turn,
retention); then the real servers: a repeated id gets the same replies with one turn stored
and the action run once, also when the retry arrives while the first attempt still runs.
The widget's own retries are in tests/test_widget_browser.py."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from benchmark.servers import LogWatch
from clinic.message_ids import MAX_MESSAGE_ID_CHARS, MessageIdError, check_message_id
from clinic_server.rest_channel import BadRequest, Limits, parse_chat_request
from clinic_server.tracker_store import AnsweredTurn, MaskingSQLTrackerStore, answering
from staff_tools.retention import forget_conversation, forget_older_than
from tests.conftest import MODEL_PATH, PROJECT_DIR
from tests.test_end_to_end import TOKEN, Servers, texts, visitor

DOMAIN = Domain.load(str(PROJECT_DIR / "domain.yml"))
GOOD_IDS = [str(uuid.uuid4()), uuid.uuid4().hex, "a", "A_b-9", "x" * MAX_MESSAGE_ID_CHARS]
BAD_IDS = {
    "a number": 42,
    "a float": 1.5,
    "true": True,
    "a list": ["abc"],
    "an object": {"id": "abc"},
    "empty": "",
    "too long": "x" * (MAX_MESSAGE_ID_CHARS + 1),
    "10,000 characters": "x" * 10_000,
    "a space": "a b",
    "a newline at the end": "abc\n",
    "a slash": "../etc",
    "not ASCII": "идентификатор",
    "an emoji": "id-🙂",
}


def body(**fields: Any) -> bytes:
    return json.dumps({"sender": "visitor-1", "message": "hello", **fields}).encode()


# ---- the id checks ----------------------------------------------------------------------

@pytest.mark.parametrize("message_id", GOOD_IDS)
def test_a_uuid_or_a_short_id_of_letters_digits_dashes_and_underscores_is_taken(
    message_id: str,
) -> None:
    assert check_message_id(message_id) == message_id
    assert parse_chat_request(body(message_id=message_id), Limits()).message_id == message_id


def test_a_message_without_an_id_or_with_a_null_one_has_none() -> None:
    assert parse_chat_request(body(), Limits()).message_id is None
    assert parse_chat_request(body(message_id=None), Limits()).message_id is None


@pytest.mark.parametrize("message_id", BAD_IDS.values(), ids=BAD_IDS.keys())
def test_a_malformed_id_is_a_400_that_says_what_an_id_is(message_id: Any) -> None:
    with pytest.raises(MessageIdError):
        check_message_id(message_id)
    with pytest.raises(BadRequest) as refused:
        parse_chat_request(body(message_id=message_id), Limits())
    assert (refused.value.status, refused.value.error) == (400, "invalid_message_id")
    assert f"1 to {MAX_MESSAGE_ID_CHARS} letters, digits" in refused.value.message


# ---- the row stored with the turn -----------------------------------------------------

@pytest.fixture
def store(tmp_path: Path) -> Iterator[MaskingSQLTrackerStore]:
    created = MaskingSQLTrackerStore(DOMAIN, host=f"sqlite:///{tmp_path / 'tracker.db'}")
    yield created
    created.engine.dispose()


def a_turn(sender: str, text: str, reply: str, when: Optional[float] = None
           ) -> DialogueStateTracker:
    events = [UserUttered(text, {"name": "faq"}), BotUttered(reply),
              ActionExecuted("action_listen")]
    if when is not None:
        for event in events:
            event.timestamp = when
    return DialogueStateTracker.from_events(sender, events)


def answered_rows(store: MaskingSQLTrackerStore) -> List[Dict[str, Any]]:
    with store.engine.connect() as connection:
        result = connection.exec_driver_sql("select * from answered_messages order by sender_id")
        return [dict(row._mapping) for row in result]


def test_the_id_and_the_replies_are_stored_with_the_turn_masked_and_without_the_text(
    store: MaskingSQLTrackerStore,
) -> None:
    replies = [{"recipient_id": "v1", "text": "We will call 415-555-0199, thanks."}]
    turn = AnsweredTurn("v1", "id-1", replies)
    with answering(turn):
        asyncio_run(store.save(a_turn("v1", "my number is 415-555-0199", replies[0]["text"])))
    assert turn.saved
    [row] = answered_rows(store)
    assert (row["sender_id"], row["message_id"]) == ("v1", "id-1")
    assert "415-555-0199" not in row["replies"] and "my number" not in row["replies"]
    assert store.answered_replies("v1", "id-1") == [
        {"recipient_id": "v1", "text": "We will call [phone], thanks."}
    ]
    assert store.answered_replies("v1", "id-2") is None
    assert store.answered_replies("v2", "id-1") is None  # an id belongs to its conversation
    # The channel's own reply added after the turn (a failed action) is stored too.
    store.update_answered(turn, [*replies, {"recipient_id": "v1", "text": "Sorry"}])
    assert [reply["text"] for reply in store.answered_replies("v1", "id-1") or []] == [
        "We will call [phone], thanks.", "Sorry"
    ]


def test_a_turn_saved_without_an_id_or_for_another_conversation_stores_no_row(
    store: MaskingSQLTrackerStore,
) -> None:
    store.ensure_answered_table()
    asyncio_run(store.save(a_turn("v1", "hello", "Hi!")))
    with answering(AnsweredTurn("v2", "id-1", [])):
        asyncio_run(store.save(a_turn("v1", "hello again", "Hi!")))
    assert answered_rows(store) == []


def test_the_row_is_written_with_the_events_or_not_at_all(store: MaskingSQLTrackerStore) -> None:
    with answering(AnsweredTurn("v1", "id-1", [{"text": "first"}])):
        asyncio_run(store.save(a_turn("v1", "hello", "Hi!")))
    # The same id stored again (two servers raced): the second turn's events are not stored.
    with pytest.raises(sa.exc.IntegrityError), answering(AnsweredTurn("v1", "id-1", [])):
        tracker = a_turn("v1", "hello", "Hi!")
        tracker.update_with_events([UserUttered("again"), ActionExecuted("action_listen")], None)
        asyncio_run(store.save(tracker))
    stored = asyncio_run(store.retrieve("v1"))
    assert stored is not None
    assert [e.text for e in stored.events if isinstance(e, UserUttered)] == ["hello"]


def test_retention_deletes_a_conversations_ids_with_it(store: MaskingSQLTrackerStore) -> None:
    old, recent = time.time() - 40 * 86400, time.time()
    for sender, when in (("old", old), ("recent", recent), ("asked", recent)):
        with answering(AnsweredTurn(sender, "id-1", [{"text": "Hi!"}])):
            asyncio_run(store.save(a_turn(sender, "hello", "Hi!", when)))
    outcome = forget_older_than(store.engine, time.time() - 30 * 86400)
    assert outcome.conversations == 1
    assert [row["sender_id"] for row in answered_rows(store)] == ["asked", "recent"]
    assert forget_conversation(store.engine, "asked") == 3
    assert [row["sender_id"] for row in answered_rows(store)] == ["recent"]


def asyncio_run(awaitable: Any) -> Any:
    import asyncio

    return asyncio.run(awaitable)


# ---- the real servers -------------------------------------------------------------------

@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    assert MODEL_PATH.exists(), "no trained model: the test command trains one first"
    started = Servers(tmp_path_factory.mktemp("retries"))
    try:
        yield started
    finally:
        started.stop()


def post(servers: Servers, sender: str, text: str, message_id: Any = None,
         **extra: Any) -> requests.Response:
    payload: Dict[str, Any] = {"sender": sender, "message": text, **extra}
    if message_id is not None:
        payload["message_id"] = message_id
    return requests.post(servers.url + "/webhooks/rest/webhook", json=payload, timeout=60)


def stored_events(servers: Servers, sender: str) -> List[Dict[str, Any]]:
    response = requests.get(f"{servers.url}/conversations/{sender}/tracker",
                            params={"token": TOKEN}, timeout=30)
    response.raise_for_status()
    return list(response.json()["events"])


def user_texts(events: List[Dict[str, Any]]) -> List[str]:
    return [event["text"] for event in events if event["event"] == "user"]


def actions_run(events: List[Dict[str, Any]], name: str) -> int:
    return sum(1 for event in events if event["event"] == "action" and event["name"] == name)


@pytest.mark.e2e
def test_a_repeated_id_gets_the_same_replies_and_the_turn_runs_once(servers: Servers) -> None:
    sender, message_id = visitor(), str(uuid.uuid4())
    first = post(servers, sender, "I'd like to book a consultation", message_id)
    assert first.status_code == 200, first.text
    assert "415-249-2580" in texts(first.json())  # the handoff action's reply
    for _ in range(2):
        again = post(servers, sender, "I'd like to book a consultation", message_id)
        assert again.status_code == 200 and again.json() == first.json()
    events = stored_events(servers, sender)
    assert user_texts(events) == ["I'd like to book a consultation"]
    assert actions_run(events, "action_handoff") == 1  # the custom action ran once
    assert [e.get("message_id") for e in events if e["event"] == "user"] == [message_id]
    # Another id is another message: it runs.
    other = post(servers, sender, "I'd like to book a consultation", str(uuid.uuid4()))
    assert other.status_code == 200
    events = stored_events(servers, sender)
    assert len(user_texts(events)) == 2 and actions_run(events, "action_handoff") == 2


@pytest.mark.e2e
def test_a_retry_arriving_while_the_first_attempt_runs_waits_for_it(servers: Servers) -> None:
    sender, message_id = visitor(), str(uuid.uuid4())
    post(servers, sender, "hi")  # the conversation exists; its next turn is the test
    with ThreadPoolExecutor(4) as pool:
        attempts = list(pool.map(
            lambda _: post(servers, sender, "Is ketamine FDA approved?", message_id), range(4)
        ))
    assert [attempt.status_code for attempt in attempts] == [200] * 4
    assert all(attempt.json() == attempts[0].json() for attempt in attempts)
    assert "2019" in texts(attempts[0].json())
    assert user_texts(stored_events(servers, sender)) == ["hi", "Is ketamine FDA approved?"]


@pytest.mark.e2e
def test_messages_without_an_id_work_as_before_and_each_runs(servers: Servers) -> None:
    sender = visitor()
    for _ in range(2):
        response = post(servers, sender, "Is ketamine FDA approved?")
        assert response.status_code == 200 and "2019" in texts(response.json())
    assert len(user_texts(stored_events(servers, sender))) == 2


@pytest.mark.e2e
def test_a_bad_id_gets_a_clear_400_never_a_5xx_and_nothing_is_stored(servers: Servers) -> None:
    watch = LogWatch.of(servers.logs)
    sender = visitor()
    for name, message_id in BAD_IDS.items():
        response = post(servers, sender, "hello", message_id)
        assert response.status_code == 400, name
        refusal = response.json()
        assert refusal["error"] == "invalid_message_id", name
        assert "letters, digits" in refusal["message"]
    assert stored_events(servers, sender) == [] or user_texts(stored_events(servers, sender)) == []
    assert watch.problems() == []
