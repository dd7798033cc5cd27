"""clinic_speedups: the Rasa server's speed-ups keep its behaviour."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Iterator, List, Optional

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from clinic_speedups import install, uninstall


@pytest.fixture(autouse=True)
def speedups() -> Iterator[None]:
    install()
    try:
        yield
    finally:
        uninstall()

VALID_REPLIES = [
    {"events": [{"event": "slot", "name": "crisis_mode", "value": True}],
     "responses": [{"text": "Call us", "buttons": [{"title": "Call", "url": "tel:+1"}]}]},
    {"events": [], "responses": []},
    {},
]
INVALID_REPLIES = [
    {"events": "not a list"},
    {"events": [{"event": "slot", "name": 3}]},
    {"responses": 5},
]


@pytest.mark.parametrize("reply", VALID_REPLIES)
def test_valid_action_server_replies_are_accepted(reply: dict) -> None:
    assert RemoteAction("action_handoff", None)._validate_action_result(reply)


@pytest.mark.parametrize("reply", INVALID_REPLIES)
def test_invalid_action_server_replies_are_refused_with_rasas_own_message(reply: dict) -> None:
    with pytest.raises(jsonschema.ValidationError) as refused:
        RemoteAction("action_handoff", None)._validate_action_result(reply)
    with pytest.raises(jsonschema.ValidationError) as stock:
        jsonschema.validate(reply, RemoteAction.action_response_format_spec())
    assert refused.value.message.startswith(stock.value.message)
    assert "Failed to validate Action server response" in refused.value.message


def test_the_sqlite_tracker_store_writes_ahead_and_keeps_conversations(tmp_path: Path) -> None:
    database = tmp_path / "tracker.db"
    domain = Domain.from_yaml("slots:\n  crisis_mode:\n    type: bool\n    mappings: []\n")
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(database))
    tracker = DialogueStateTracker.from_events("visitor", [
        ActionExecuted("action_listen"), UserUttered("hello"), SlotSet("crisis_mode", True),
    ], slots=domain.slots)
    asyncio.run(store.save(tracker))
    tracker.update(UserUttered("and again"))
    asyncio.run(store.save(tracker))

    again = asyncio.run(store.retrieve("visitor"))
    assert again is not None
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["hello", "and again"]
    assert again.get_slot("crisis_mode") is True
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("select count(*) from events").fetchone()[0] == 4
    assert type(store.engine.pool).__name__ == "QueuePool"  # one connection, kept open


def test_uninstall_puts_rasas_own_functions_back() -> None:
    import rasa.core.tracker_store as tracker_store
    from rasa.shared.core.events import Event

    uninstall()
    assert RemoteAction._validate_action_result.__module__ == "rasa.core.actions.action"
    assert tracker_store.create_engine_kwargs("sqlite:///x.db") == {}
    assert Event.resolve_by_type.__module__ == "rasa.shared.core.events"
    install()


def test_events_are_read_as_rasa_reads_them() -> None:
    from rasa.shared.core.events import (
        ActionExecuted,
        BotUttered,
        Event,
        SessionStarted,
        deserialise_events,
    )

    events = [ActionExecuted("action_listen"), UserUttered("hi", {"name": "greet"}),
              SlotSet("crisis_mode", True), BotUttered("hello"), SessionStarted()]
    read = deserialise_events([event.as_dict() for event in events] * 2)
    assert read == events * 2 and [type(e) for e in read] == [type(e) for e in events] * 2
    assert Event.resolve_by_type("nonsense", SlotSet) is SlotSet
    with pytest.raises(ValueError):
        Event.resolve_by_type("nonsense")
    with pytest.raises(ValueError):  # asked again: still refused, not remembered as None
        Event.resolve_by_type("nonsense")


def test_the_sqlite_settings_apply_to_the_tracker_stores_engine_only(tmp_path: Path) -> None:
    import sqlalchemy

    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    other = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        with other.connect() as connection:  # SQLite's defaults
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "delete"
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        store.engine.dispose()
        other.dispose()


def test_the_sequential_graph_runner_gives_the_models_own_results() -> None:
    """The served model's parses and predictions, run with dask and without: the same."""
    import copy

    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage

    from clinic.paths import MODEL_PATH
    from clinic_server.rasa_internals import SequentialGraphRunner

    agent = Agent.load(str(MODEL_PATH))
    processor = agent.processor
    assert processor is not None
    assert type(processor.graph_runner) is SequentialGraphRunner  # installed by the fixture
    dask_runner = copy.copy(processor.graph_runner)
    dask_runner.__class__ = SequentialGraphRunner.__bases__[0]
    metadata = processor.model_metadata
    tracker = DialogueStateTracker.from_events("visitor", [ActionExecuted("action_listen")],
                                               processor.domain.slots)
    for text in ("is ketamine FDA approved?", "I want to kill myself", "hola, ¿cuánto cuesta?",
                 "can I talk to a person", "thanks", "asdf qwerty"):
        parses = []
        for runner in (dask_runner, processor.graph_runner):
            result = runner.run(inputs={"__message__": [UserMessage(text, message_id="m")],
                                        "__tracker__": tracker},
                                targets=[metadata.nlu_target])
            parses.append([m.as_dict() for m in result[metadata.nlu_target]])
        assert parses[0] == parses[1]
        parse = parses[0][0]
        tracker.update(UserUttered(text, parse.get("intent"), parse.get("entities"),
                                   parse_data=parse))
        predictions = [
            runner.run(inputs={"__tracker__": tracker}, targets=[metadata.core_target])[
                metadata.core_target] for runner in (dask_runner, processor.graph_runner)
        ]
        assert predictions[0] == predictions[1]
        tracker.update(ActionExecuted("action_listen"))


@pytest.mark.parametrize(("raised", "status"), [
    (None, 0), (SystemExit(0), 0), (SystemExit(None), 0), (SystemExit(2), 2),
    (SystemExit("error: no data"), 1),
])
def test_a_training_ends_with_rasas_exit_status(
    raised: Optional[SystemExit], status: int, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    # `python -m clinic_speedups train` skips Python's teardown (os._exit), so the status
    # Rasa ends with must be passed on by hand: make train and the staff console's publish
    # read it to tell a failed training.
    import clinic_server.rasa_internals
    import clinic_speedups.__main__ as entry

    ran: List[List[str]] = []

    def rasa(arguments: List[str]) -> None:
        ran.append(list(arguments))
        if raised is not None:
            raise raised

    exits: List[int] = []
    monkeypatch.setattr(clinic_server.rasa_internals, "run_rasa_command_line", rasa)
    monkeypatch.setattr(entry, "end_process", exits.append)
    entry.train(["train", "--out", "models"])
    assert ran == [["train", "--out", "models"]] and exits == [status]
    if isinstance(raised, SystemExit) and isinstance(raised.code, str):
        assert "error: no data" in capsys.readouterr().err


def test_tensorflow_still_imports_without_jax() -> None:
    # The server and `make train` leave JAX out (clinic_speedups.leave_out_jax): TensorFlow
    # imports it only for an optional TF Lite feature. If an upgrade of TensorFlow needs it,
    # this fails, and leave_out_jax must go.
    import subprocess
    import sys

    check = (
        "import sys; from clinic_speedups import leave_out_jax; leave_out_jax(); "
        "import tensorflow, rasa.model_training; "
        "from tensorflow.lite.python import util; "
        "assert util._xla_computation is None and sys.modules['jax'] is None"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
