"""Privacy: masking of phone numbers and e-mails before storage, and the retention command."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests

from clinic_server.masking import EMAIL, PHONE, find_sensitive, mask_event, mask_text
from tests.conftest import MODEL_PATH, PROJECT_DIR, SETTINGS_TEXT
from tests.test_end_to_end import TOKEN, Servers, texts, visitor

DAY = 86400

# ---------------------------------------------------------------- masking patterns


@pytest.mark.parametrize(
    "typed",
    [
        "415-249-2580", "(415) 249-2580", "(415)249-2580", "415.249.2580", "415 249 2580",
        "4152492580", "1-800-273-8255", "1 415 249 2580", "+1 415 249 2580", "+14152492580",
        "+1 (415) 249-2580", "+1-415-249-2580", "415–249–2580", "415-249-2580 ext. 12",
        "415-249-2580 x12", "249-2580", "+44 20 7946 0958", "+91 98765 43210",
        "+33 1 23 45 67 89", "+49 (0)30 1234567",
    ],
)
def test_phone_numbers_in_every_common_layout_are_masked(typed: str) -> None:
    assert mask_text(f"please call me at {typed}, thanks") == f"please call me at {PHONE}, thanks"


@pytest.mark.parametrize(
    "typed",
    [
        "jane.doe@example.com", "JANE+clinic@mail.example.co.uk",
        "j_o'neil@sub-domain.example.org", "José.Núñez@correo.es", "jane4152492580@mail.com",
        "jane at gmail dot com", "jane[at]gmail[dot]com", "jane (at) gmail (dot) com",
    ],
)
def test_email_addresses_are_masked(typed: str) -> None:
    assert mask_text(f"write to {typed}. Thanks") == f"write to {EMAIL}. Thanks"


@pytest.mark.parametrize(
    "text",
    [
        "I don't want to live, should I call 988?", "call 911", "text HOME to 741741",
        "approved in 2019", "my infusion is on 03/15/2024", "on 2024-03-15", "11/24/2026 at 10:30",
        "open 09:00-17:00", "I had 3 sessions", "the dose is 0.5 mg/kg",
        "0.5-0.75 mg/kg over 40 minutes", "6 infusions over 2-3 weeks", "is it $400-$800?",
        "$1,200.00 per infusion", "costs 400-800 dollars", "take 100-1000 mg", "I'm 35 years old",
        "zip 94110", "1,000,000", "3.14159265358979", "version 3.6.21", "order #12345",
        "ICD-10 F32.9", "after 5-6 pm", "1-2 times a week", "+5 points", "2024-2025",
        "20240315", "800mg", "I'm at home", "look at this dot", "@clinic on twitter",
    ],
)
def test_numbers_that_are_not_phone_numbers_are_left_alone(text: str) -> None:
    assert mask_text(text) == text


def test_a_message_keeps_everything_but_the_contact_details() -> None:
    typed = "I'm 42, had 3 sessions of 0.5 mg/kg in 2019; reach me at 415.555.0199 or a@b.org"
    assert mask_text(typed) == (
        "I'm 42, had 3 sessions of 0.5 mg/kg in 2019; reach me at [phone] or [email]"
    )
    assert find_sensitive(typed) == ["a@b.org", "415.555.0199"]


def user_event(text: str) -> Dict:
    return {
        "event": "user", "timestamp": 1.0, "text": text, "metadata": {"note": text},
        "parse_data": {
            "text": text, "intent": {"name": "inform", "confidence": 0.9},
            "entities": [{"entity": "phone", "value": "415 555 0199", "start": 12, "end": 24}],
            "response_selector": {"faq": {"response": {"responses": [
                {"text": "Call us on 415-249-2580."}]}}},
        },
    }


def test_a_user_event_is_masked_everywhere_the_typed_text_appears() -> None:
    event = user_event("my phone is 415 555 0199, mail me at jo@mail.com")
    original = json.dumps(event)
    stored = json.dumps(mask_event(event))
    assert "0199" not in stored and "jo@mail.com" not in stored
    assert stored.count(PHONE) == 4 and stored.count(EMAIL) == 3  # text x3, entity value
    assert "Call us on 415-249-2580." in stored  # the clinic's own answer is not the visitor's
    assert json.dumps(event) == original  # the conversation in memory is not changed


def test_a_reply_or_slot_echoing_the_visitor_is_masked_but_the_clinic_phone_is_not() -> None:
    found = find_sensitive("call me on 415 555 0199")
    reply = {"event": "bot", "text": "We'll call 415 555 0199. Or call us: 415-249-2580."}
    slot = {"event": "slot", "name": "contact", "value": "415 555 0199"}
    assert mask_event(reply, found)["text"] == "We'll call [phone]. Or call us: 415-249-2580."
    assert mask_event(slot, found)["value"] == PHONE
    assert mask_event(reply)["text"] == reply["text"]  # nothing typed: nothing masked


# ---------------------------------------------------------------- the retention command


def forget(*args: str, url: str, settings: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR), "TRACKER_STORE_URL": url}
    if settings:
        env["CLINIC_SETTINGS"] = str(settings)
    return subprocess.run(
        [sys.executable, "-m", "staff_tools.retention", *args],
        env=env, capture_output=True, text=True, cwd=PROJECT_DIR, timeout=120,
    )


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("", "TRACKER_STORE_URL is not set"),
        ("not a url", "is not a database address"),
        ("sqlite:////nonexistent/dir/tracker.db", "no tracker store database at"),
        ("postgresql://rasa:hunter2@127.0.0.1:9/rasa", "cannot connect to the tracker store"),
    ],
)
def test_a_missing_or_unreachable_database_is_one_clear_line(url: str, says: str) -> None:
    result = forget(url=url)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and says in result.stderr
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr


def test_a_database_without_rasa_events_is_refused(tmp_path: Path) -> None:
    database = tmp_path / "other.db"
    sqlite3.connect(database).close()
    result = forget(url=f"sqlite:///{database}")
    assert result.returncode == 1 and "no 'events' table" in result.stderr


def test_a_bad_number_of_days_is_refused() -> None:
    result = forget("--days", "-3", url="sqlite:///unused.db")
    assert result.returncode == 2 and "not a whole number of days" in result.stderr


# ---------------------------------------------------------------- against the running server


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    assert MODEL_PATH.exists(), "no trained model: the test command trains one first"
    started = Servers(tmp_path_factory.mktemp("privacy"))
    try:
        yield started
    finally:
        started.stop()


def database(servers: Servers) -> str:
    return servers.env["TRACKER_STORE_URL"].removeprefix("sqlite:///")


def stored_events(servers: Servers, sender: str) -> List[Dict]:
    with sqlite3.connect(database(servers)) as connection:
        rows = connection.execute(
            "select data from events where sender_id = ? order by id", (sender,)
        ).fetchall()
    return [json.loads(data) for (data,) in rows]


def age(servers: Servers, sender: str, days: float) -> None:
    """Move the conversation's events `days` into the past, as if it had happened then."""
    with sqlite3.connect(database(servers)) as connection:
        connection.execute(
            "update events set timestamp = timestamp - ? where sender_id = ?", (days * DAY, sender)
        )


SECRETS = ("(415) 555-0199", "555-0199", "jane.doe@example.com", "+44 20 7946 0958", "7946")


def _stored_texts(value: Any, key: str = "") -> List[str]:
    """Every string in stored events, message ids excepted."""
    if isinstance(value, dict):
        return [text for k, v in value.items() for text in _stored_texts(v, str(k))]
    if isinstance(value, list):
        return [text for item in value for text in _stored_texts(item, key)]
    return [value] if isinstance(value, str) and key != "message_id" else []


@pytest.mark.e2e
def test_contact_details_a_visitor_types_are_masked_in_the_stored_events(
    servers: Servers,
) -> None:
    sender = visitor()
    assert "415-249-2580" in texts(servers.say("I'd like to book", sender))
    assert servers.say("my number is (415) 555-0199", sender)  # every message gets a reply
    assert servers.say("or email me at jane.doe@example.com", sender)
    assert servers.say("my UK number is +44 20 7946 0958, 3 sessions of 0.5 mg/kg?", sender)

    events = stored_events(servers, sender)
    user_texts = [event["text"] for event in events if event["event"] == "user"]
    assert user_texts == [
        "I'd like to book",
        "my number is [phone]",
        "or email me at [email]",
        "my UK number is [phone], 3 sessions of 0.5 mg/kg?",
    ]
    # Every text stored, but not numbers or message ids: "7946" can turn up by chance in a
    # timestamp's or a confidence's digits or in a hex id (it failed once, not reproduced).
    everything = json.dumps(_stored_texts(events))
    assert not [secret for secret in SECRETS if secret in everything]
    assert "415-249-2580" in everything  # the clinic's number in the replies is kept

    # The HTTP API reads the same store: it gets the masked conversation too.
    tracker = requests.get(
        f"{servers.url}/conversations/{sender}/tracker", params={"token": TOKEN}, timeout=30
    ).json()
    assert tracker["latest_message"]["text"] == user_texts[-1]


@pytest.mark.e2e
def test_the_servers_logs_never_contain_what_visitors_typed(servers: Servers) -> None:
    sender = visitor()
    servers.say("my number is (415) 555-0199, does ketamine help with PTSD?", sender)
    for log in servers.logs:
        log.flush()
        written = Path(log.name).read_text()
        assert "(415) 555-0199" not in written and "PTSD?" not in written, log.name


@pytest.mark.e2e
def test_retention_deletes_exactly_the_conversations_idle_longer_than_the_limit(
    servers: Servers, tmp_path: Path
) -> None:
    settings = tmp_path / "clinic.yml"
    settings.write_text(SETTINGS_TEXT + "retention_days: 7\n")
    url = servers.env["TRACKER_STORE_URL"]
    old, older, recent, resumed = visitor(), visitor(), visitor(), visitor()
    for sender in (old, older, recent, resumed):
        servers.say("is ketamine FDA approved?", sender)
    age(servers, old, 8)
    age(servers, older, 400)
    age(servers, recent, 5)
    age(servers, resumed, 30)
    servers.say("and does it help with OCD?", resumed)  # back today: its last event is new
    old_events = len(stored_events(servers, old)) + len(stored_events(servers, older))
    with sqlite3.connect(database(servers)) as connection:
        conversations = connection.execute(
            "select count(distinct sender_id) from events").fetchone()[0]

    dry = forget("--dry-run", url=url, settings=settings)
    assert dry.returncode == 0, dry.stderr
    assert f"would delete 2 conversations ({old_events} events)" in dry.stdout
    assert "older than 7 days" in dry.stdout and "nothing was deleted" in dry.stdout
    assert stored_events(servers, old) and stored_events(servers, older)

    done = forget(url=url, settings=settings)
    assert done.returncode == 0, done.stderr
    assert f"Deleted 2 conversations ({old_events} events)" in done.stdout
    assert f"{conversations - 2} conversations kept" in done.stdout
    assert "FDA" not in done.stdout + dry.stdout  # counts only, never what was said
    assert stored_events(servers, old) == [] and stored_events(servers, older) == []
    assert stored_events(servers, recent) and stored_events(servers, resumed)

    # A deleted visitor who comes back starts afresh, and the server carries on.
    assert "2019" in texts(servers.say("is ketamine FDA approved?", old))
    assert [e["text"] for e in stored_events(servers, old) if e["event"] == "user"] == [
        "is ketamine FDA approved?"
    ]
    again = forget("--days", "7", url=url)
    assert again.returncode == 0 and "Deleted 0 conversations (0 events)" in again.stdout


@pytest.mark.e2e
def test_one_visitors_conversation_can_be_deleted_on_request(servers: Servers) -> None:
    sender, other = visitor(), visitor()
    servers.say("hello", sender)
    servers.say("hello", other)
    url = servers.env["TRACKER_STORE_URL"]
    count = len(stored_events(servers, sender))

    result = forget("--conversation", sender, url=url)
    assert result.returncode == 0, result.stderr
    assert f"Deleted conversation '{sender}' ({count} events)." in result.stdout
    assert stored_events(servers, sender) == [] and stored_events(servers, other)

    missing = forget("--conversation", sender, url=url)
    assert missing.returncode == 1 and "no conversation with id" in missing.stderr


def test_retention_counts_events_by_their_newest_timestamp(tmp_path: Path) -> None:
    """Without a server: rows shaped like Rasa's, one conversation straddling the cutoff."""
    path = tmp_path / "tracker.db"
    now = time.time()
    with sqlite3.connect(path) as connection:
        connection.execute(
            "create table events (id integer primary key, sender_id varchar(255) not null, "
            "type_name varchar(255) not null, timestamp float, intent_name varchar(255), "
            "action_name varchar(255), data text)"
        )
        rows = [("gone", now - 40 * DAY), ("gone", now - 39 * DAY),
                ("straddles", now - 50 * DAY), ("straddles", now - 1 * DAY), ("fresh", now)]
        connection.executemany(
            "insert into events (sender_id, type_name, timestamp, data) "
            "values (?, 'user', ?, ?)",
            [(sender, when, f'{{"text": "{sender} needs help"}}') for sender, when in rows],
        )
    result = forget("--days", "30", url=f"sqlite:///{path}")
    assert result.returncode == 0, result.stderr
    assert "Deleted 1 conversation (2 events)" in result.stdout
    with sqlite3.connect(path) as connection:
        left = connection.execute("select sender_id, count(*) from events group by 1").fetchall()
    assert sorted(left) == [("fresh", 1), ("straddles", 2)]
    assert b"gone needs help" not in path.read_bytes()  # overwritten, not just unlinked
