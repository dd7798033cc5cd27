"""Rasa's SQL tracker store, masking visitors' phone numbers and e-mails before they are written.

endpoints.yml selects it:

    tracker_store:
      type: clinic_server.tracker_store.MaskingSQLTrackerStore
      url: ${TRACKER_STORE_URL}   # sqlite:///var/tracker.db or postgresql://user:pw@host/db

Rasa passes `url` as `host`; like `type: SQL`, a full database address there is used as is.
The conversation in the server's memory is not changed (the assistant still answers the
message as typed); only what is written to the database, or sent to an event broker if one is
configured, is masked. See docs/privacy.md.

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

import json
import time
import weakref
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Set

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker, TrackerEventDiffEngine

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
from clinic_server.masking import mask_event, replace_found, sensitive_in_user_events
from clinic_server.rasa_internals import event_row, unsaved_events

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


@dataclass
class AnsweredTurn:
    """The chat message a turn answers: the row `save` writes with the turn's events.

    `replies` is the list the channel collects the turn's replies in (the processor adds to it
    before it saves the tracker); `saved` and `found` are set by `save`.
    """

    sender_id: str
    message_id: str
    replies: List[Dict[str, Any]]
    saved: bool = False
    stored_replies: List[Dict[str, Any]] = field(default_factory=list)
    found: Set[str] = field(default_factory=set)


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


def _found_in(tracker: DialogueStateTracker) -> Set[str]:
    """What the visitor typed in the conversation held in memory (masked once stored)."""
    return sensitive_in_user_events(event.as_dict() for event in tracker.events)


class MaskingSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` whose stored events have phone numbers and e-mails masked.

    It also records clicks on the widget's booking and phone links (`record_link_click`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """As `SQLTrackerStore`; the store becomes the one link clicks are recorded in."""
        global _current
        super().__init__(*args, **kwargs)
        self._tables_ready: Set[str] = set()
        _current = weakref.ref(self)

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
        """Write the events not yet stored, masked (same rows as `SQLTrackerStore.save`)."""
        await self.stream_events(tracker)
        found = _found_in(tracker)
        turn = _answering.get()
        if turn is not None and (turn.saved or turn.sender_id != tracker.sender_id):
            turn = None
        if turn is not None:
            self.ensure_answered_table()
        with self.session_scope() as session:
            for event in unsaved_events(self, session, tracker):
                data = mask_event(event.as_dict(), found)
                session.add(event_row(self, tracker.sender_id, event.type_name, data))
            if turn is not None:
                # With the events, in one transaction: both are stored or neither.
                replies = replace_found(list(turn.replies), found)
                session.execute(ANSWERED_MESSAGES.insert().values({
                    SENDER_COLUMN: turn.sender_id, MESSAGE_ID_COLUMN: turn.message_id,
                    ANSWERED_AT_COLUMN: time.time(), REPLIES_COLUMN: json.dumps(replies),
                }))
            session.commit()
        if turn is not None:
            turn.saved, turn.stored_replies, turn.found = True, replies, found

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Publish new events to the event broker, if one is configured, masked."""
        if self.event_broker is None:
            return
        stored = await self.retrieve(tracker.sender_id)
        new_events = TrackerEventDiffEngine.event_difference(stored, tracker)
        self._publish_masked(self.event_broker, new_events, tracker.sender_id, _found_in(tracker))

    @staticmethod
    def _publish_masked(
        broker: EventBroker, events: List[Event], sender_id: str, found: Set[str]
    ) -> None:
        for event in events:
            body: Dict[str, Any] = {"sender_id": sender_id}
            body.update(mask_event(event.as_dict(), found))
            broker.publish(body)
