"""A turn reads the recent part of a long conversation; what is stored stays the whole of it."""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterator, List, Optional

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from clinic.paths import PROJECT_DIR
from clinic_server.tracker_store import MaskingSQLTrackerStore

DOMAIN = Domain.load(str(PROJECT_DIR / "domain.yml"))


def conversation(turns: int, start: float) -> List[Event]:
    """A session start, then `turns` FAQ questions answered; crisis_mode set at turn 3."""
    events: List[Event] = [
        ActionExecuted("action_session_start", timestamp=start),
        SessionStarted(timestamp=start),
        SlotSet("language", "en", timestamp=start),
        ActionExecuted("action_listen", timestamp=start),
    ]
    for turn in range(turns):
        at = start + 1 + turn
        intent = "crisis" if turn == 3 else "faq"
        events += [
            UserUttered(f"question {turn}", {"name": intent, "confidence": 1.0}, timestamp=at),
            SlotSet("language", "es" if turn % 2 else "en", timestamp=at),
        ]
        if turn == 3:
            events.append(SlotSet("crisis_mode", True, timestamp=at))
        events += [
            ActionExecuted("utter_faq", timestamp=at),
            BotUttered(f"answer {turn}", timestamp=at),
            ActionExecuted("action_faq_follow_up", timestamp=at),
            ActionExecuted("action_listen", timestamp=at),
        ]
    return events


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tracker.db'}"


@pytest.fixture
def windowed(database: str) -> Iterator[MaskingSQLTrackerStore]:
    store = MaskingSQLTrackerStore(DOMAIN, host=database, recent_turns=5)
    yield store
    store.engine.dispose()


def saved(store: MaskingSQLTrackerStore, sender: str, events: List[Event]) -> None:
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events, DOMAIN.slots)))


def retrieve(store: MaskingSQLTrackerStore, sender: str) -> Optional[DialogueStateTracker]:
    return asyncio.run(store.retrieve(sender))


def rasas_retrieve(database: str, sender: str) -> DialogueStateTracker:
    store = SQLTrackerStore(DOMAIN, host=database)
    try:
        tracker = asyncio.run(store.retrieve(sender))
    finally:
        store.engine.dispose()
    assert tracker is not None
    return tracker


def user_texts(tracker: DialogueStateTracker) -> List[str]:
    return [e.text for e in tracker.events if isinstance(e, UserUttered) and e.text]


def test_a_long_conversation_is_read_from_its_recent_turns_with_every_slot(
    windowed: MaskingSQLTrackerStore, database: str
) -> None:
    saved(windowed, "v", conversation(30, time.time() - 100))
    tracker = retrieve(windowed, "v")
    full = rasas_retrieve(database, "v")
    assert tracker is not None
    assert user_texts(tracker) == [f"question {n}" for n in range(25, 30)]
    assert tracker.current_slot_values() == full.current_slot_values()
    assert tracker.get_slot("crisis_mode") is True and tracker.get_slot("language") == "es"
    assert tracker.latest_message.text == full.latest_message.text  # type: ignore[union-attr]
    # What the rules see of the last turns is the same.
    assert tracker.past_states(DOMAIN)[-12:] == full.past_states(DOMAIN)[-12:]
    assert len(tracker.events) < len(full.events) / 3


def test_a_turn_on_the_window_stores_its_events_once_after_the_others(
    windowed: MaskingSQLTrackerStore, database: str
) -> None:
    saved(windowed, "v", conversation(30, time.time() - 100))
    tracker = retrieve(windowed, "v")
    assert tracker is not None
    tracker.update(UserUttered("one more", {"name": "faq", "confidence": 1.0}))
    tracker.update(ActionExecuted("utter_faq"))
    asyncio.run(windowed.save(tracker))
    tracker.update(ActionExecuted("action_listen"))
    asyncio.run(windowed.save(tracker))  # a second save in the same turn writes only what is new
    full = rasas_retrieve(database, "v")
    assert user_texts(full) == [f"question {n}" for n in range(30)] + ["one more"]
    assert len(full.events) == len(conversation(30, 0)) + 3
    with sqlite3.connect(database.removeprefix("sqlite:///")) as connection:
        last = connection.execute("select data from events order by id desc limit 1").fetchone()
    assert json.loads(last[0])["name"] == "action_listen"


def test_short_or_unusual_conversations_are_read_whole(
    windowed: MaskingSQLTrackerStore, database: str
) -> None:
    saved(windowed, "short", conversation(4, time.time() - 100))
    tracker = retrieve(windowed, "short")
    assert tracker is not None and len(tracker.events) == len(conversation(4, 0))
    paused = conversation(20, time.time() - 100)
    paused[30:30] = [ConversationPaused(), ConversationResumed()]
    saved(windowed, "paused", paused)
    tracker = retrieve(windowed, "paused")
    assert tracker is not None and len(tracker.events) == len(paused)
    assert retrieve(windowed, "nobody") is None


def test_only_the_latest_session_is_read_and_zero_turns_reads_it_whole(
    windowed: MaskingSQLTrackerStore, database: str
) -> None:
    now = time.time()
    saved(windowed, "v", conversation(10, now - 1000) + conversation(12, now - 100))
    tracker = retrieve(windowed, "v")
    assert tracker is not None and user_texts(tracker) == [f"question {n}" for n in range(7, 12)]
    rasas = [e.as_dict() for e in rasas_retrieve(database, "v").events]
    whole = MaskingSQLTrackerStore(DOMAIN, host=database, recent_turns=0)
    wide = MaskingSQLTrackerStore(DOMAIN, host=database, recent_turns=50)
    try:
        for store in (whole, wide):  # Rasa's way, and the window's SQL for a short session
            tracker = retrieve(store, "v")
            assert tracker is not None and [e.as_dict() for e in tracker.events] == rasas
        full = asyncio.run(whole.retrieve_full_tracker("v"))
        assert full is not None and len(user_texts(full)) == 22
    finally:
        whole.engine.dispose()
        wide.engine.dispose()


def _start_store(url: str, ready: Any, logs: Any) -> None:
    """In a new process: wait for the others, then open the store as a Rasa server does."""
    handler = _Collect()
    logging.getLogger("rasa.core.tracker_store").addHandler(handler)
    ready.wait()
    MaskingSQLTrackerStore(domain=Domain.from_dict(DOMAIN.as_dict()), event_broker=None, host=url)
    logs.put(handler.lines)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_servers_starting_together_on_a_new_database_log_no_error(tmp_path: Path) -> None:
    """`make run` starts two Rasa processes: neither may log "Could not create tables".

    They used to race to create the tables of a new database (about one start in fifteen).
    """
    context = multiprocessing.get_context("fork")
    for attempt in range(25):
        url = f"sqlite:///{tmp_path / f'tracker-{attempt}.db'}"
        ready, logs = context.Barrier(4), context.Queue()
        processes = [context.Process(target=_start_store, args=(url, ready, logs))
                     for _ in range(4)]
        for process in processes:
            process.start()
        lines = [line for _ in processes for line in logs.get(timeout=60)]
        for process in processes:
            process.join(timeout=60)
        assert all(process.exitcode == 0 for process in processes)
        assert lines == [], f"start {attempt}: {lines}"
