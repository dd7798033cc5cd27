"""Rasa's Redis lock store, fixed for a Rasa server that dies while others wait.

deploy/endpoints.yml selects it (`lock_store: type: deploy.lock_store.RefreshingRedisLockStore`).

Rasa 3.6's `RedisLockStore` gives each message a ticket valid for TICKET_LOCK_LIFETIME seconds
from when it was issued, waiting time included. When a server dies holding a ticket, the
conversation waits for that ticket to expire; a message that has waited about as long expires
too, and Rasa then loops on it forever (`now_serving` never equals a removed ticket) until the
client gives up, or raises `LockError`. Here a waiting message renews its own ticket at every
poll, so only the tickets of a server that stopped polling (a dead one) expire; a waiting ticket
that has vanished anyway ends in `LockError` (the webhook answers with the clinic's phone
number) instead of a hang. Everything else is Rasa's own code.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Optional

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig


class RefreshingRedisLockStore(RedisLockStore):
    """`RedisLockStore` whose waiting tickets stay valid while their server is alive."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        """Built by Rasa from the endpoints file (`endpoint_config`), or from keywords."""
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs}
            kwargs.pop("type", None)
        super().__init__(**kwargs)

    async def _acquire_lock(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        while True:
            lock = self.get_lock(conversation_id)
            if lock is None or not any(t.number == ticket for t in lock.tickets):
                raise LockError(f"the lock ticket of conversation '{conversation_id}' vanished")
            if not lock.is_locked(ticket):
                return lock
            # Still waiting: renew this ticket (the read and the write run without an await
            # in between, so no other message of this server interleaves).
            for waiting in lock.tickets:
                if waiting.number == ticket:
                    waiting.expires = time.time() + LOCK_LIFETIME
            self.save_lock(lock)
            await asyncio.sleep(wait_time_in_seconds)
