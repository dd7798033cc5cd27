"""Visitor feedback, the review of unanswered questions, and loading a new model: against the
real Rasa server and action server, with a real SQLite tracker store filled through the chat."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
import requests

from clinic.settings import load_settings
from staff_tools import review
from tests.conftest import MODEL_PATH, PROJECT_DIR
from tests.test_end_to_end import TOKEN, Servers, free_port, links, texts

pytestmark = pytest.mark.e2e
UP, DOWN = '/feedback{"rating":"up"}', '/feedback{"rating":"down"}'
THANKS = "Thanks for telling us."
WEATHER = ["what's the weather like in paris today?", "what is the weather in paris tomorrow"]
GIBBERISH = "asdfgh qwerty zxcvbn"
ANSWERED = ["is ketamine FDA approved?", "does it help with PTSD?"]
CRISIS = "I don't want to live anymore"


def visitor() -> str:
    return "review-" + uuid.uuid4().hex


def today() -> dt.date:
    return dt.datetime.now(load_settings().time_zone).date()


class Store:
    """The servers, and what was said to them before the tests look at the tracker store."""

    def __init__(self, servers: Servers, tmp: Path) -> None:
        self.servers, self.tmp = servers, tmp
        self.database = servers.env["TRACKER_STORE_URL"].removeprefix("sqlite:///")
        self.replies: Dict[str, List[dict]] = {}
        self.rated = visitor()
        self.say("fda", ANSWERED[0], self.rated)
        self.say("up", UP, self.rated)
        self.say("yes", "yes", self.rated)  # the answer's offer to book, after the rating
        self.say("ptsd", ANSWERED[1], self.rated)
        self.say("down", DOWN, self.rated)
        for text in (WEATHER[0], WEATHER[1], WEATHER[0], GIBBERISH):
            self.servers.say(text, visitor())  # WEATHER[0] twice, by two visitors
        self.say("crisis", CRISIS, visitor())

    def say(self, name: str, text: str, sender: str) -> None:
        self.replies[name] = self.servers.say(text, sender)

    def review(self, *options: str) -> subprocess.CompletedProcess:
        day = today()
        return subprocess.run(
            [sys.executable, "-m", "staff_tools.review",
             "--from", (day - dt.timedelta(days=1)).isoformat(),
             "--to", (day + dt.timedelta(days=1)).isoformat(), *options],
            cwd=PROJECT_DIR, env=self.servers.env, capture_output=True, text=True, timeout=120,
        )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    assert MODEL_PATH.exists(), "no trained model: the test command trains one first"
    tmp = tmp_path_factory.mktemp("review")
    servers = Servers(tmp)
    try:
        yield Store(servers, tmp)
    finally:
        servers.stop()


@pytest.fixture(scope="module")
def report(store: Store) -> Dict[str, object]:
    out = store.tmp / "report"
    finished = store.review("--out", str(out))
    assert finished.returncode == 0, finished.stderr
    with open(out / "unanswered.csv", newline="", encoding="utf-8") as csv_file:
        rows = list(csv.DictReader(csv_file))
    return {"stdout": finished.stdout, "stderr": finished.stderr, "rows": rows,
            "markdown": (out / "unanswered.md").read_text(encoding="utf-8"), "out": out}


# ---- feedback ----------------------------------------------------------------------------

def test_a_rating_is_thanked_and_the_conversation_goes_on(store: Store) -> None:
    assert "2019" in texts(store.replies["fda"])
    assert texts(store.replies["up"]).strip() == THANKS
    # The rating did not lose the answer's offer to book: "yes" still books.
    assert "https://example.com/book-a-consultation" in links(store.replies["yes"])
    assert "PTSD" in texts(store.replies["ptsd"])
    assert texts(store.replies["down"]).strip() == THANKS


def test_a_rating_is_stored_with_the_conversation_as_intent_and_entity(store: Store) -> None:
    with sqlite3.connect(store.database) as connection:
        rows = connection.execute(
            "select data from events where sender_id = ? and type_name = 'user' "
            "and intent_name = 'feedback' order by id", (store.rated,),
        ).fetchall()
    ratings = [
        [(e["entity"], e["value"]) for e in json.loads(data)["parse_data"]["entities"]]
        for (data,) in rows
    ]
    assert ratings == [[("rating", "up")], [("rating", "down")]]


def test_replies_tell_the_widget_when_not_to_ask_for_a_rating(store: Store) -> None:
    # The crisis resources carry a marker: the widget then never asks this visitor to rate.
    assert {"crisis": True} in [reply.get("custom") for reply in store.replies["crisis"]]
    assert {"ask_rating": False} in [reply.get("custom") for reply in store.replies["up"]]
    assert not [reply for reply in store.replies["fda"] if "custom" in reply]


# ---- review ------------------------------------------------------------------------------

def test_off_topic_and_unclear_messages_are_listed_with_counts_and_grouped(
    report: Dict[str, object],
) -> None:
    rows: List[Dict[str, str]] = report["rows"]  # type: ignore[assignment]
    by_text = {row["text"]: row for row in rows}
    assert set(WEATHER) | {GIBBERISH} <= set(by_text), rows
    assert by_text[WEATHER[0]]["count"] == "2" and by_text[WEATHER[1]]["count"] == "1"
    assert by_text[WEATHER[0]]["group"] == by_text[WEATHER[1]]["group"]
    assert by_text[GIBBERISH]["group"] != by_text[WEATHER[0]]["group"]
    for text in (*WEATHER, GIBBERISH):
        assert by_text[text]["likeliest_topic"], "the model's likeliest topic is named"
        assert by_text[text]["reason"] in ("off-topic", "not understood", "low confidence")


def test_answered_questions_crisis_messages_and_buttons_are_not_listed(
    report: Dict[str, object],
) -> None:
    listed = {row["text"] for row in report["rows"]}  # type: ignore[attr-defined]
    assert not listed & {*ANSWERED, CRISIS, "yes", UP, DOWN}
    markdown = str(report["markdown"])
    assert "Crisis messages (1 in this period) are never listed" in markdown
    assert CRISIS not in markdown and CRISIS not in str(report["stdout"])


def test_the_csv_has_columns_to_paste_back_as_training_data(report: Dict[str, object]) -> None:
    out = report["out"]
    assert isinstance(out, Path)
    with open(out / "unanswered.csv", newline="", encoding="utf-8") as csv_file:
        header = next(csv.reader(csv_file))
    assert header[:5] == ["text", "likeliest_topic", "suggested_intent", "count", "group"]
    assert oct((out / "unanswered.csv").stat().st_mode & 0o777) == "0o600"


def test_the_table_is_printed_and_written_as_markdown(report: Dict[str, object]) -> None:
    stdout, markdown = str(report["stdout"]), str(report["markdown"])
    assert "likeliest topic" in stdout and "unanswered.csv" in stdout
    assert "| Group | Count | Likeliest topic | Why listed | Examples |" in markdown
    assert f"{WEATHER[0]} (x2)" in markdown
    assert report["stderr"] == ""  # nothing logged, message texts least of all


def test_ratings_are_counted_per_topic(report: Dict[str, object]) -> None:
    markdown = str(report["markdown"])
    assert "| faq/fda_status | 1 | 0 |" in markdown
    assert "| faq/ptsd | 0 | 1 |" in markdown


def test_a_period_without_conversations_is_an_empty_report(store: Store, tmp_path: Path) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "staff_tools.review", "--from", "2020-01-01", "--to",
         "2020-01-31", "--out", str(tmp_path)],
        cwd=PROJECT_DIR, env=store.servers.env, capture_output=True, text=True, timeout=120,
    )
    assert finished.returncode == 0, finished.stderr
    assert "No unanswered messages" in (tmp_path / "unanswered.md").read_text()
    assert "No ratings in this period." in finished.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "2026-13-01", "--to", "2026-12-31"], "'2026-13-01' is not a date"),
        (["--from", "2026-12-02", "--to", "2026-12-01"], "is after --to"),
    ],
)
def test_a_bad_date_is_a_one_line_message(
    argv: List[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        review.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("sqlite:////nonexistent/tracker.db", "no tracker store database at /nonexistent"),
        ("postgresql://rasa:s3cret@127.0.0.1:{port}/rasa",
         "cannot read the tracker store at postgresql://rasa:***@127.0.0.1:"),
        ("not a url", "is not a database address"),
    ],
)
def test_an_unreachable_database_is_a_one_line_message(
    address: str, message: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    monkeypatch.setenv("TRACKER_STORE_URL", address.format(port=free_port()))
    code = review.main(["--from", "2026-11-01", "--to", "2026-11-02", "--out", str(tmp_path)])
    error = capsys.readouterr().err
    assert code == 1 and message in error, error
    assert error.count("\n") == 1 and "s3cret" not in error


# ---- loading a new model -------------------------------------------------------------------

def reload(url: str, token: str = TOKEN, state: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "staff_tools.reload", "--url", url],
        cwd=PROJECT_DIR, env={**os.environ, "RASA_AUTH_TOKEN": token, "RUN_STATE_DB": state},
        capture_output=True, text=True, timeout=600,
    )


def test_reloading_the_model_keeps_conversations_and_answers(store: Store) -> None:
    servers, sender = store.servers, visitor()
    assert "anesthetic" in texts(servers.say("what is it?", sender))
    during: Dict[str, object] = {}

    def ask_while_loading() -> None:
        during["replies"] = servers.say("does it help with anxiety?", visitor())

    finished: Dict[str, subprocess.CompletedProcess] = {}
    loader = threading.Thread(target=lambda: finished.update(
        run=reload(servers.url, state=servers.env["RUN_STATE_DB"])))
    loader.start()
    asker = threading.Timer(1.0, ask_while_loading)
    asker.start()
    loader.join()
    asker.join()
    assert finished["run"].returncode == 0, finished["run"].stderr
    assert "Conversations are kept" in finished["run"].stdout
    assert "anxiety" in texts(during["replies"])  # type: ignore[arg-type]
    # The conversation started before the reload goes on, its earlier events still there.
    assert "PTSD" in texts(servers.say("does it help with PTSD?", sender))
    tracker = requests.get(
        f"{servers.url}/conversations/{sender}/tracker", params={"token": TOKEN}, timeout=30,
    ).json()
    said = [event.get("text") for event in tracker["events"] if event["event"] == "user"]
    assert said == ["what is it?", "does it help with PTSD?"]


def test_reloading_without_a_server_or_with_a_wrong_token_says_so(store: Store) -> None:
    nobody = reload(f"http://127.0.0.1:{free_port()}")
    assert nobody.returncode == 1
    assert "no Rasa server is running" in nobody.stderr and "make run" in nobody.stderr
    refused = reload(store.servers.url, token="wrong")
    assert refused.returncode == 1 and "refused the token" in refused.stderr


# ---- how a message is judged, on the parse data Rasa stores -------------------------------

def faq_parse(intent_confidence: float, topic_confidence: float) -> dict:
    return {
        "intent": {"name": "faq", "confidence": intent_confidence},
        "intent_ranking": [{"name": "faq", "confidence": intent_confidence}],
        "response_selector": {"faq": {"response": {
            "intent_response_key": "faq/speed", "confidence": topic_confidence}}},
    }


def test_an_answer_given_while_unsure_of_the_topic_is_listed_as_low_confidence() -> None:
    assert review.why_unanswered(faq_parse(0.99, 0.65), 0.7) == "low confidence"
    assert review.why_unanswered(faq_parse(0.99, 0.95), 0.7) is None
    assert review.likeliest_topic(faq_parse(0.99, 0.65)) == ("faq/speed", 0.65)


def test_a_fallback_names_the_topic_the_model_thought_likeliest() -> None:
    parse = faq_parse(0.8, 0.4)
    parse["intent"] = {"name": "nlu_fallback", "confidence": 0.6}
    parse["intent_ranking"].insert(0, {"name": "nlu_fallback", "confidence": 0.6})
    assert review.why_unanswered(parse, 0.7) == "not understood"
    assert review.likeliest_topic(parse) == ("faq/speed", 0.4)
