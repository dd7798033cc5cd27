"""The conversations' ticket locks in the machine's run-state file (clinic/run_state.py).

endpoints.yml selects it (`lock_store: type: clinic_server.lock_store.MachineLockStore`), so
that the Rasa server's processes (SANIC_WORKERS) take one conversation's messages one after the
other whichever process gets them; Rasa allows several workers with any lock store but its
in-memory one.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Optional

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from clinic.run_state import MachineState


class MachineLockStore(LockStore):
    """Rasa's ticket locks in the machine's run-state file (endpoints.yml: `lock_store`).

    Rasa's `LockStore` reads a lock, changes it and saves it; here every such change is one
    transaction, so that two processes never lose each other's tickets.
    """

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None,
                 path: Optional[Path] = None) -> None:
        """Built by Rasa from endpoints.yml (`path:`, else $RUN_STATE_DB), or with `path`."""
        if path is None and endpoint_config is not None:
            configured = endpoint_config.kwargs.get("path") or endpoint_config.url
            path = Path(configured) if configured else None
        self.state = MachineState(path)

    @staticmethod
    def _lock_in(connection: sqlite3.Connection, conversation_id: str) -> Optional[TicketLock]:
        row = connection.execute("SELECT lock FROM ticket_locks WHERE conversation_id = ?",
                                 (conversation_id,)).fetchone()
        return TicketLock.from_dict(json.loads(row[0])) if row else None

    @staticmethod
    def _save_in(connection: sqlite3.Connection, lock: TicketLock) -> None:
        connection.execute("INSERT OR REPLACE INTO ticket_locks VALUES (?, ?)",
                           (lock.conversation_id, lock.dumps()))

    def get_lock(self, conversation_id: str) -> Optional[TicketLock]:
        """The conversation's lock, None if there is none."""
        return self._lock_in(self.state.connection(), conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        """Store `lock`."""
        with self.state.transaction() as connection:
            self._save_in(connection, lock)

    def delete_lock(self, conversation_id: str) -> None:
        """Remove the conversation's lock."""
        with self.state.transaction() as connection:
            connection.execute("DELETE FROM ticket_locks WHERE conversation_id = ?",
                               (conversation_id,))

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """A new ticket in the conversation's lock (created if need be), in one transaction."""
        try:
            with self.state.transaction() as connection:
                lock = self._lock_in(connection, conversation_id) or self.create_lock(
                    conversation_id)
                ticket = lock.issue_ticket(lock_lifetime)
                self._save_in(connection, lock)
                return ticket
        except sqlite3.Error as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        """Drop the lock's expired tickets."""
        with self.state.transaction() as connection:
            lock = self._lock_in(connection, conversation_id)
            if lock:
                lock.remove_expired_tickets()
                self._save_in(connection, lock)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Remove the ticket served."""
        with self.state.transaction() as connection:
            lock = self._lock_in(connection, conversation_id)
            if lock:
                lock.remove_ticket_for(ticket_number)
                self._save_in(connection, lock)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Remove the ticket served, and the lock if no one else waits on it."""
        with self.state.transaction() as connection:
            lock = self._lock_in(connection, conversation_id)
            if lock is None:
                return
            lock.remove_ticket_for(ticket_number)
            if lock.is_someone_waiting():
                self._save_in(connection, lock)
            else:
                connection.execute("DELETE FROM ticket_locks WHERE conversation_id = ?",
                                   (conversation_id,))
