"""Rasa's Redis lock store, fixed for a Rasa server that dies while others wait.

deploy/endpoints.yml selects it (`lock_store: type: deploy.lock_store.RefreshingRedisLockStore`).

Rasa 3.6's `RedisLockStore` gives each message a ticket valid for TICKET_LOCK_LIFETIME seconds
from when it was issued, waiting time included. When a server dies holding a ticket, the
conversation waits for that ticket to expire; a message that has waited about as long expires
too, and Rasa then loops on it forever (`now_serving` never equals a removed ticket) until the
client gives up, or raises `LockError`. Here a waiting message renews its own ticket at every
poll, so only the tickets of a server that stopped polling (a dead one) expire; a waiting ticket
that has vanished anyway ends in `LockError` (the webhook answers with the clinic's phone
number) instead of a hang. Everything else is Rasa's own code; the wait for a ticket's turn is
reached through `clinic_server.rasa_internals` (Rasa's private `_acquire_lock`).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Optional

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError
from rasa.utils.endpoints import EndpointConfig

from clinic_server.rasa_internals import TurnWaitingRedisLockStore, find_ticket


class RefreshingRedisLockStore(TurnWaitingRedisLockStore):
    """`RedisLockStore` whose waiting tickets stay valid while their server is alive."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        """Built by Rasa from the endpoints file (`endpoint_config`), or from keywords."""
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs}
            kwargs.pop("type", None)
        super().__init__(**kwargs)

    async def wait_for_turn(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        """The lock once `ticket` is served; the ticket is renewed while it waits."""
        while True:
            lock = self.get_lock(conversation_id)
            waiting = None if lock is None else find_ticket(lock, ticket)
            if lock is None or waiting is None:
                raise LockError(f"the lock ticket of conversation '{conversation_id}' vanished")
            if not lock.is_locked(ticket):
                return lock
            # Still waiting: renew this ticket (the read and the write run without an await
            # in between, so no other message of this server interleaves).
            waiting.expires = time.time() + LOCK_LIFETIME
            self.save_lock(lock)
            await asyncio.sleep(wait_time_in_seconds)
