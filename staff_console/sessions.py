"""Server-side sessions: a random cookie value, its hash and its CSRF token in the database.

A session ends after `idle_seconds` without a request, and `max_seconds` after signing in
whatever happens; signing out deletes it. The cookie holds a random value; the database keeps
only its SHA-256, so a copy of the database opens no session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Callable, Optional

from staff_console.db import Database

# The last-seen time is written at most this often (not on every request).
TOUCH_SECONDS = 15.0


@dataclass(frozen=True)
class Session:
    """A signed-in staff member's session."""

    account: str
    csrf_token: str
    created: float
    last_seen: float


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class Sessions:
    """The sessions table, with the two time limits."""

    def __init__(self, database: Database, idle_seconds: float, max_seconds: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.database = database
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds
        self.clock = clock

    def create(self, account: str) -> str:
        """A new session for `account`: the cookie's value."""
        value = secrets.token_urlsafe(32)
        now = self.clock()
        with self.database.connect() as connection:
            self._forget_expired(connection, now)
            connection.execute(
                "INSERT INTO sessions (id_hash, account, csrf_token, created, last_seen) "
                "VALUES (?, ?, ?, ?, ?)",
                (_hash(value), account, secrets.token_urlsafe(32), now, now))
        return value

    def get(self, value: Optional[str]) -> Optional[Session]:
        """The session of a cookie's value, still valid (and now seen), or None."""
        if not value or len(value) > 200:
            return None
        now = self.clock()
        with self.database.connect() as connection:
            row = connection.execute(
                "SELECT account, csrf_token, sessions.created, last_seen FROM sessions "
                "JOIN accounts ON accounts.name = sessions.account WHERE id_hash = ?",
                (_hash(value),)).fetchone()
            if row is None:
                return None
            session = Session(*row)
            if (now - session.last_seen > self.idle_seconds
                    or now - session.created > self.max_seconds):
                connection.execute("DELETE FROM sessions WHERE id_hash = ?", (_hash(value),))
                return None
            if now - session.last_seen >= TOUCH_SECONDS:
                connection.execute("UPDATE sessions SET last_seen = ? WHERE id_hash = ?",
                                   (now, _hash(value)))
        return Session(session.account, session.csrf_token, session.created, now)

    def delete(self, value: Optional[str]) -> None:
        """End a session (signing out)."""
        if value:
            with self.database.connect() as connection:
                connection.execute("DELETE FROM sessions WHERE id_hash = ?", (_hash(value),))

    def _forget_expired(self, connection: object, now: float) -> None:
        connection.execute(  # type: ignore[attr-defined]
            "DELETE FROM sessions WHERE last_seen < ? OR created < ?",
            (now - self.idle_seconds, now - self.max_seconds))


def tokens_match(expected: str, given: Optional[str]) -> bool:
    """A CSRF token compared in constant time."""
    return bool(given) and hmac.compare_digest(expected.encode(), str(given).encode())
