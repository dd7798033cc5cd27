"""Rasa's SQL tracker store, masking visitors' phone numbers and e-mails before they are written.

endpoints.yml selects it:

    tracker_store:
      type: clinic_server.tracker_store.MaskingSQLTrackerStore
      url: ${TRACKER_STORE_URL}   # sqlite:///var/tracker.db or postgresql://user:pw@host/db

Rasa passes `url` as `host`; like `type: SQL`, a full database address there is used as is.
The conversation in the server's memory is not changed (the assistant still answers the
message as typed); only what is written to the database, or sent to an event broker if one is
configured, is masked. See docs/privacy.md.
"""

from __future__ import annotations

from typing import Any, Dict, List, Set

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker, TrackerEventDiffEngine

from clinic_server.masking import mask_event, sensitive_in_user_events
from clinic_server.rasa_internals import event_row, unsaved_events


def _found_in(tracker: DialogueStateTracker) -> Set[str]:
    """What the visitor typed in the conversation held in memory (masked once stored)."""
    return sensitive_in_user_events(event.as_dict() for event in tracker.events)


class MaskingSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` whose stored events have phone numbers and e-mails masked."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Write the events not yet stored, masked (same rows as `SQLTrackerStore.save`)."""
        await self.stream_events(tracker)
        found = _found_in(tracker)
        with self.session_scope() as session:
            for event in unsaved_events(self, session, tracker):
                data = mask_event(event.as_dict(), found)
                session.add(event_row(self, tracker.sender_id, event.type_name, data))
            session.commit()

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
