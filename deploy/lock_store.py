"""Rasa's Redis lock store, fixed for a Rasa server that dies while others wait.

deploy/endpoints.yml selects it (`lock_store: type: deploy.lock_store.RefreshingRedisLockStore`).

Rasa 3.6's `RedisLockStore` gives each message a ticket valid for TICKET_LOCK_LIFETIME seconds
from when it was issued, waiting time included. When a server dies holding a ticket, the
conversation waits for that ticket to expire; a message that has waited about as long expires
too, and Rasa then loops on it forever (`now_serving` never equals a removed ticket) until the
client gives up, or raises `LockError`.

Here every ticket of a live server stays valid, and only a dead server's expire, within
TICKET_LOCK_LIFETIME (3 s in deploy/): a waiting message renews its own ticket at every poll
(every `POLL_SECONDS`), and the server renews every ticket it holds or waits with every
`renew_every` seconds (a third of the lifetime) for as long as it lives, however long the turn
takes. Before it looks at whose turn it is, a waiting message also renews the tickets of its own
server, which are alive since that server is. So a conversation whose server was killed goes on
a few seconds later on another server, instead of after a lifetime long enough for the slowest
turn. A waiting ticket that has vanished anyway ends in `LockError` (the webhook answers with the
clinic's phone number) instead of a hang. Everything else is Rasa's own code; the wait for a
ticket's turn is reached through `clinic_server.rasa_internals` (Rasa's private `_acquire_lock`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Dict, Optional, Set

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError
from rasa.utils.endpoints import EndpointConfig

from clinic_server.rasa_internals import TurnWaitingRedisLockStore, find_ticket, renew_tickets

logger = logging.getLogger(__name__)
POLL_SECONDS = 0.25  # how often a waiting message looks whether its turn came


class RefreshingRedisLockStore(TurnWaitingRedisLockStore):
    """`RedisLockStore` whose tickets stay valid while their server is alive, and only then."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        """Built by Rasa from the endpoints file (`endpoint_config`), or from keywords."""
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs}
            kwargs.pop("type", None)
        super().__init__(**kwargs)
        self.lifetime = float(LOCK_LIFETIME)
        self.renew_every = max(0.2, self.lifetime / 3)
        # The tickets this process holds or waits with, by conversation.
        self.mine: Dict[str, Set[int]] = {}
        self._renewer: Optional[asyncio.Task] = None

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Rasa's ticket, remembered as this process's until it is served."""
        number = super().issue_ticket(conversation_id, lock_lifetime)
        self.mine.setdefault(conversation_id, set()).add(number)
        self._keep_renewing()
        return number

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Rasa's, and the ticket is no longer this process's to renew."""
        numbers = self.mine.get(conversation_id)
        if numbers is not None:
            numbers.discard(ticket_number)
            if not numbers:
                del self.mine[conversation_id]
        super().finish_serving(conversation_id, ticket_number)

    def renew(self, conversation_id: str) -> None:
        """Extend the tickets of this process in the conversation's lock by a lifetime.

        A Redis transaction (WATCH): if another server changed the lock meanwhile, read again,
        so that a renewal never overwrites another server's ticket.
        """
        numbers = self.mine.get(conversation_id)
        if not numbers:
            return
        key = self.key_prefix + conversation_id
        for _ in range(5):
            with self.red.pipeline() as pipe:
                try:
                    pipe.watch(key)
                    serialised = pipe.get(key)
                    if not serialised:
                        return
                    lock = TicketLock.from_dict(_loads(serialised))
                    if not renew_tickets(lock, numbers, time.time() + self.lifetime):
                        return
                    pipe.multi()
                    pipe.set(key, lock.dumps())
                    pipe.execute()
                    return
                except redis.WatchError:
                    continue

    def _keep_renewing(self) -> None:
        if self._renewer is not None and not self._renewer.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a script): the waits renew their own tickets
            return
        self._renewer = loop.create_task(self._renew_forever())

    async def _renew_forever(self) -> None:
        while self.mine:
            for conversation_id in list(self.mine):
                try:
                    self.renew(conversation_id)
                except redis.RedisError as error:
                    logger.warning("lock store: tickets not renewed (%s)", type(error).__name__)
            await asyncio.sleep(self.renew_every)

    async def wait_for_turn(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        """The lock once `ticket` is served; this process's tickets are renewed meanwhile."""
        while True:
            # This server's tickets first (its own, and one it is serving: alive, as it is),
            # so that only tickets of a server that stopped renewing can have expired.
            self.renew(conversation_id)
            lock = self.get_lock(conversation_id)
            waiting = None if lock is None else find_ticket(lock, ticket)
            if lock is None or waiting is None:
                raise LockError(f"the lock ticket of conversation '{conversation_id}' vanished")
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(min(wait_time_in_seconds, POLL_SECONDS))


def _loads(serialised: Any) -> Dict[str, Any]:
    import json

    data = json.loads(serialised)
    return data if isinstance(data, dict) else {}
