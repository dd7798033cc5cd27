"""Rasa's SQL tracker store, masking visitors' phone numbers and e-mails before they are written.

endpoints.yml selects it:

    tracker_store:
      type: clinic_server.tracker_store.MaskingSQLTrackerStore
      url: ${TRACKER_STORE_URL}   # sqlite:///var/tracker.db or postgresql://user:pw@host/db

Rasa passes `url` as `host`; like `type: SQL`, a full database address there is used as is.
The conversation in the server's memory is not changed (the assistant still answers the
message as typed); only what is written to the database, or sent to an event broker if one is
configured, is masked. See docs/privacy.md.

A turn reads only the recent part of a long conversation (`recent_turns`, set in endpoints.yml):
the session's opening events, the last value of each slot, and everything from the visitor's
`recent_turns`-th last message on. The rules look at the last turn or two and the slots, and the
actions at the latest message and the slots, so the replies are the same; but a turn's cost no
longer grows with the conversation's length (loading, replaying and featurising the events, and
sending them to the action server). Anything less ordinary in the skipped part (a restart, a
pause, a form, a rewind...) and the whole session is read, as Rasa reads it. The whole
conversation is still what is stored, and what `retrieve_full_tracker` (the HTTP API's
`/conversations/<id>/tracker`) returns. See docs/performance.md.

The same database holds the table `link_clicks`: one row per click on the booking link or the
clinic's phone number in the chat widget, with the time (to the minute) and which link, nothing
else (no conversation id, no address). The chat channel records them through the store the Rasa
server created last (`current_store`); the staff console's dashboard counts them.

And the table `answered_messages` (clinic/message_ids.py): for each chat message the widget
sent with a `message_id`, that id and the replies the webhook answered, so that a retry of the
message is answered from there instead of running the turn again. The row is written by `save`
in the same transaction as the turn's events (`answering` tells `save` which message the turn
answers), so a server that dies mid-turn leaves both or neither; the replies are masked as the
events are. The retention command deletes the rows with their conversation.
"""

from __future__ import annotations

import fcntl
import hashlib
import inspect
import itertools
import json
import tempfile
import time
import weakref
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Set

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from clinic.link_clicks import (
    CLICK_SECONDS,
    CLICKS_TABLE,
    LINK_COLUMN,
    LINKS,
    TIMESTAMP_COLUMN,
)
from clinic.message_ids import (
    MESSAGE_ID_COLUMN,
    REPLIES_COLUMN,
    REPLIES_TABLE,
    SENDER_COLUMN,
)
from clinic.message_ids import TIMESTAMP_COLUMN as ANSWERED_AT_COLUMN
from clinic.replies import CRISIS_KIND_ENTITY
from clinic_server.masking import mask_event, replace_found, sensitive_in_user_events
from clinic_server.rasa_internals import event_values, events_table, unsaved_events

# The clicks on the ways to the clinic (clinic/link_clicks.py; staff_tools.tracker_db reads
# them): when, to the minute (Unix seconds), and which link.
LINK_CLICKS = sa.Table(
    CLICKS_TABLE, sa.MetaData(),
    sa.Column(TIMESTAMP_COLUMN, sa.Float, nullable=False, index=True),
    sa.Column(LINK_COLUMN, sa.String(16), nullable=False),
)

# The chat messages answered with a message id (clinic/message_ids.py): the conversation, the
# widget's id for the message, when, and the replies (JSON, masked as the events are).
ANSWERED_MESSAGES = sa.Table(
    REPLIES_TABLE, sa.MetaData(),
    sa.Column(SENDER_COLUMN, sa.String(255), primary_key=True),
    sa.Column(MESSAGE_ID_COLUMN, sa.String(64), primary_key=True),
    sa.Column(ANSWERED_AT_COLUMN, sa.Float, nullable=False, index=True),
    sa.Column(REPLIES_COLUMN, sa.Text, nullable=False),
)

_current: Optional[weakref.ReferenceType[MaskingSQLTrackerStore]] = None

# The visitor's last messages a turn's tracker holds (with everything after the oldest of them);
# 0: the whole session, as Rasa reads it. More than any rule's length (one or two turns).
DEFAULT_RECENT_TURNS = 5
# Event types a skipped middle part may hold: messages, replies, actions, slots and the NLU's
# additions to a message. Any other (restart, slots reset, pause, resume, a form's loop,
# follow-up, undo, rewind, reminders) and the whole session is read.
SKIPPABLE_TYPES = ("user", "bot", "action", "slot", "user_featurization", "entities")
# How many events of the tracker object are in the database: set by `retrieve` and `save`.
_STORED_COUNT = "_clinic_stored_event_count"


@dataclass
class AnsweredTurn:
    """The chat message a turn answers: the row `save` writes with the turn's events.

    `replies` is the list the channel collects the turn's replies in (the processor adds to it
    before it saves the tracker); `saved`, `found` and `crisis_kinds` are set by `save`
    (`crisis_kinds`: the crisis detector's `crisis_kind` entities of the turn's message).
    """

    sender_id: str
    message_id: str
    replies: List[Dict[str, Any]]
    saved: bool = False
    stored_replies: List[Dict[str, Any]] = field(default_factory=list)
    found: Set[str] = field(default_factory=set)
    crisis_kinds: List[str] = field(default_factory=list)


# The turn the current webhook request runs (None outside one); set by `answering`.
_answering: ContextVar[Optional[AnsweredTurn]] = ContextVar("answering", default=None)


@contextmanager
def answering(turn: AnsweredTurn) -> Iterator[AnsweredTurn]:
    """While in this block, the tracker saved for `turn.sender_id` stores `turn`'s row too."""
    token = _answering.set(turn)
    try:
        yield turn
    finally:
        _answering.reset(token)


def current_store() -> Optional[MaskingSQLTrackerStore]:
    """The masking tracker store this process created last (None: none, or it is gone)."""
    return _current() if _current is not None else None


@contextmanager
def _creating_tables(database: str) -> Iterator[None]:
    """Held while Rasa's `SQLTrackerStore` creates its tables, by one process at a time.

    The Rasa processes of one machine (`make run` starts two) would otherwise race to create
    the tables of a new database, and the loser logs an ERROR ("Could not create tables")
    although nothing is lost. The lock is a file in the temporary directory named after the
    store's settings (hashed: they may hold a password); the second process finds the tables
    made and creates nothing.
    """
    digest = hashlib.sha256(database.encode()).hexdigest()[:16]
    lock_file = Path(tempfile.gettempdir()) / f"clinic-tracker-tables-{digest}.lock"
    with open(lock_file, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _database_settings(store: SQLTrackerStore, *args: Any, **kwargs: Any) -> str:
    """Which database `SQLTrackerStore(*args, **kwargs)` opens, as a string (defaults filled)."""
    bound = inspect.signature(SQLTrackerStore.__init__).bind(store, *args, **kwargs)
    bound.apply_defaults()
    return repr([bound.arguments[name] for name in ("dialect", "host", "port", "db", "login_db")])


def _found_in(tracker: DialogueStateTracker) -> Set[str]:
    """What the visitor typed in the conversation held in memory (masked once stored)."""
    return sensitive_in_user_events(event.as_dict() for event in tracker.events)


class MaskingSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` whose stored events have phone numbers and e-mails masked.

    It also records clicks on the widget's booking and phone links (`record_link_click`).
    """

    def __init__(self, *args: Any, recent_turns: Any = DEFAULT_RECENT_TURNS,
                 **kwargs: Any) -> None:
        """As `SQLTrackerStore`; the store becomes the one link clicks are recorded in.

        `recent_turns` (endpoints.yml): how many of the visitor's last messages a turn reads,
        with the session's opening events and the slots' last values; 0 reads the whole session.
        """
        global _current
        with _creating_tables(_database_settings(self, *args, **kwargs)):
            super().__init__(*args, **kwargs)
        self._tables_ready: Set[str] = set()
        self.recent_turns = int(recent_turns or 0)
        if self.recent_turns < 0:
            raise ValueError("recent_turns must be 0 (the whole session) or more")
        self._events = events_table(self)
        self._window = _WindowQueries(self._events)
        _current = weakref.ref(self)

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """The tracker of the latest session, its middle skipped when it is long (see above)."""
        if not self.recent_turns:
            tracker = await super().retrieve(sender_id)
            if tracker is not None:
                setattr(tracker, _STORED_COUNT, len(tracker.events))
            return tracker
        with self.engine.connect() as connection:
            rows = self._window.rows(connection, sender_id, self.recent_turns)
        if not rows or not self.domain:
            return None
        tracker = DialogueStateTracker.from_dict(
            sender_id, [json.loads(data) for data in rows], self.domain.slots
        )
        setattr(tracker, _STORED_COUNT, len(tracker.events))
        return tracker

    def _new_events(self, session: Any, tracker: DialogueStateTracker) -> Iterable[Event]:
        """The events of `tracker` not yet stored."""
        stored = getattr(tracker, _STORED_COUNT, None)
        if isinstance(stored, int) and 0 <= stored <= len(tracker.events):
            return itertools.islice(tracker.events, stored, None)
        return unsaved_events(self, session, tracker)  # a tracker this store did not read

    def _ensure_table(self, table: sa.Table) -> None:
        """Create `table` if it is missing (several servers may race to create it)."""
        if table.name in self._tables_ready:
            return
        try:
            table.create(self.engine, checkfirst=True)
        except sa.exc.SQLAlchemyError:
            # Another Rasa server created it between the check and the CREATE.
            with self.engine.connect() as connection:
                if not sa.inspect(connection).has_table(table.name):
                    raise
        self._tables_ready.add(table.name)

    def ensure_answered_table(self) -> None:
        """Create the `answered_messages` table if it is missing."""
        self._ensure_table(ANSWERED_MESSAGES)

    def answered_replies(self, sender_id: str, message_id: str) -> Optional[List[Dict[str, Any]]]:
        """The replies stored for message `message_id` of `sender_id`; None if none are."""
        self.ensure_answered_table()
        table = ANSWERED_MESSAGES
        query = sa.select(table.c[REPLIES_COLUMN]).where(
            table.c[SENDER_COLUMN] == sender_id, table.c[MESSAGE_ID_COLUMN] == message_id
        )
        with self.engine.connect() as connection:
            stored = connection.execute(query).scalar()
        if stored is None:
            return None
        replies = json.loads(stored)
        return replies if isinstance(replies, list) else None

    def update_answered(self, turn: AnsweredTurn, replies: List[Dict[str, Any]]) -> None:
        """Store `replies` as what `turn` answered, if `save` stored other ones for it.

        The channel adds a reply of its own when part of a turn failed, after `save`.
        """
        masked = replace_found(replies, turn.found)
        if not turn.saved or masked == turn.stored_replies:
            return
        table = ANSWERED_MESSAGES
        with self.engine.begin() as connection:
            connection.execute(
                table.update()
                .where(table.c[SENDER_COLUMN] == turn.sender_id,
                       table.c[MESSAGE_ID_COLUMN] == turn.message_id)
                .values({REPLIES_COLUMN: json.dumps(masked)})
            )
        turn.stored_replies = masked

    def ensure_link_clicks_table(self) -> None:
        """Create the `link_clicks` table if it is missing."""
        self._ensure_table(LINK_CLICKS)

    def record_link_click(self, link: str, when: float) -> None:
        """Store one click on `link` ("booking" or "phone") at `when` (Unix seconds)."""
        if link not in LINKS:
            raise ValueError(f"not a link whose clicks are counted: {link!r}")
        self.ensure_link_clicks_table()
        minute = when - when % CLICK_SECONDS
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    LINK_CLICKS.insert().values({TIMESTAMP_COLUMN: minute, LINK_COLUMN: link})
                )
        except sa.exc.SQLAlchemyError:
            self._tables_ready.discard(LINK_CLICKS.name)  # dropped meanwhile? check next time
            raise

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Write the events not yet stored, masked (same rows as `SQLTrackerStore.save`).

        They are published masked to the event broker first, if one is configured.
        """
        found = _found_in(tracker)
        current = _answering.get()
        if current is not None and current.sender_id != tracker.sender_id:
            current = None
        # Rasa saves a new session's opening first, then the whole turn: the row once.
        turn = current if current is not None and not current.saved else None
        if turn is not None:
            self.ensure_answered_table()
        with self.session_scope() as session:
            new_events = list(self._new_events(session, tracker))
            if self.event_broker is not None:
                self._publish_masked(self.event_broker, new_events, tracker.sender_id, found)
            rows = [event_values(tracker.sender_id, event.type_name,
                                 mask_event(event.as_dict(), found))
                    for event in new_events]
            if rows:
                session.execute(self._events.insert(), rows)
            if turn is not None:
                # With the events, in one transaction: both are stored or neither.
                replies = replace_found(list(turn.replies), found)
                session.execute(ANSWERED_MESSAGES.insert().values({
                    SENDER_COLUMN: turn.sender_id, MESSAGE_ID_COLUMN: turn.message_id,
                    ANSWERED_AT_COLUMN: time.time(), REPLIES_COLUMN: json.dumps(replies),
                }))
            session.commit()
        setattr(tracker, _STORED_COUNT, len(tracker.events))
        if turn is not None:
            turn.saved, turn.stored_replies, turn.found = True, replies, found
        kinds = _crisis_kinds(new_events)
        if current is not None and kinds is not None:
            current.crisis_kinds = kinds

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Publish new events to the event broker, if one is configured, masked."""
        if self.event_broker is None:
            return
        with self.session_scope() as session:
            new_events = list(self._new_events(session, tracker))
        self._publish_masked(self.event_broker, new_events, tracker.sender_id, _found_in(tracker))

    @staticmethod
    def _publish_masked(
        broker: EventBroker, events: List[Event], sender_id: str, found: Set[str]
    ) -> None:
        for event in events:
            body: Dict[str, Any] = {"sender_id": sender_id}
            body.update(mask_event(event.as_dict(), found))
            broker.publish(body)


def _crisis_kinds(events: List[Event]) -> Optional[List[str]]:
    """The `crisis_kind` entities of the last visitor message among `events` (None: none)."""
    for event in reversed(events):
        if isinstance(event, UserUttered):
            return [str(entity.get("value")) for entity in event.entities
                    if entity.get("entity") == CRISIS_KIND_ENTITY]
    return None


class _WindowQueries:
    """The SQL a windowed `retrieve` runs, built once per store (bound parameters only)."""

    def __init__(self, events: sa.Table) -> None:
        sender = sa.bindparam("sender_id")
        # The latest session, as Rasa's SQLTrackerStore._event_query finds it: the events from
        # the newest `session_started` on (by timestamp), or all if there is none.
        session_start = (
            sa.select(sa.func.max(events.c.timestamp))
            .where(events.c.sender_id == sender, events.c.type_name == "session_started")
            .scalar_subquery()
        )
        in_session = sa.and_(
            events.c.sender_id == sender,
            sa.or_(events.c.timestamp >= session_start, session_start.is_(None)),
        )
        users = sa.and_(in_session, events.c.type_name == "user")
        # The id of the visitor's `offset`+1-th last message (None: fewer messages).
        self.cut = (
            sa.select(events.c.id).where(users).order_by(events.c.id.desc())
            .limit(1).offset(sa.bindparam("offset"))
        )
        self.first_user = sa.select(sa.func.min(events.c.id)).where(users)
        cut, first = sa.bindparam("cut"), sa.bindparam("first")
        middle = sa.and_(in_session, events.c.id >= first, events.c.id < cut)
        self.unusual = (
            sa.select(events.c.id)
            .where(middle, events.c.type_name.not_in(SKIPPABLE_TYPES)).limit(1)
        )
        last_slot_values = (
            sa.select(sa.func.max(events.c.id))
            .where(middle, events.c.type_name == "slot")
            .group_by(events.c.action_name)  # the slot's name (event_values)
        )
        self.window = (
            sa.select(events.c.data)
            .where(in_session, sa.or_(events.c.id < first, events.c.id >= cut,
                                      events.c.id.in_(last_slot_values)))
            .order_by(events.c.id)
        )
        self.whole = sa.select(events.c.data).where(in_session).order_by(events.c.id)

    def rows(self, connection: Any, sender_id: str, recent_turns: int) -> List[str]:
        """The events' JSON, in order: the window if the session is long, else all of it."""
        cut = connection.execute(
            self.cut, {"sender_id": sender_id, "offset": recent_turns - 1}).scalar()
        if cut is not None:
            first = connection.execute(self.first_user, {"sender_id": sender_id}).scalar()
            bounds = {"sender_id": sender_id, "cut": cut, "first": first}
            if first < cut and connection.execute(self.unusual, bounds).first() is None:
                return list(connection.execute(self.window, bounds).scalars())
        return list(connection.execute(self.whole, {"sender_id": sender_id}).scalars())
