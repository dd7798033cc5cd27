"""Slowing down password guessing: failed sign-ins counted per account and per address.

After `free_tries` failures within `window_seconds` for one account name or one address,
each further try must wait: 30 s after the fifth failure, then twice as long after each more,
up to 15 minutes. While it must wait, the console does not even check the password, and
says how long to wait. A successful sign-in clears the account's failures.
"""

from __future__ import annotations

import time
from typing import Callable, Iterable

from staff_console.db import Database

FREE_TRIES = 5
WINDOW_SECONDS = 15 * 60
FIRST_WAIT_SECONDS = 30.0
MAX_WAIT_SECONDS = 15 * 60.0


def keys(account: str, address: str) -> list[str]:
    """The counters one sign-in try counts against."""
    return [f"account:{account.strip().lower()}", f"address:{address}"]


class SignInThrottle:
    """Failed sign-in tries in the console's database, and how long the next must wait."""

    def __init__(self, database: Database, clock: Callable[[], float] = time.time,
                 free_tries: int = FREE_TRIES, window_seconds: float = WINDOW_SECONDS) -> None:
        self.database = database
        self.clock = clock
        self.free_tries = free_tries
        self.window_seconds = window_seconds

    def wait_seconds(self, counters: Iterable[str]) -> float:
        """How long before another try is allowed (0: now)."""
        now = self.clock()
        longest = 0.0
        with self.database.connect() as connection:
            for key in counters:
                times = [row[0] for row in connection.execute(
                    "SELECT at FROM sign_in_failures WHERE key = ? AND at > ? ORDER BY at",
                    (key, now - self.window_seconds))]
                extra = len(times) - self.free_tries
                if extra >= 0:
                    wait = min(FIRST_WAIT_SECONDS * 2 ** extra, MAX_WAIT_SECONDS)
                    longest = max(longest, times[-1] + wait - now)
        return max(longest, 0.0)

    def failed(self, counters: Iterable[str]) -> None:
        """Count a failed try."""
        now = self.clock()
        with self.database.connect() as connection:
            connection.execute("DELETE FROM sign_in_failures WHERE at < ?",
                               (now - self.window_seconds - MAX_WAIT_SECONDS,))
            connection.executemany("INSERT INTO sign_in_failures (key, at) VALUES (?, ?)",
                                   [(key, now) for key in counters])

    def succeeded(self, account: str) -> None:
        """Forget an account's failures once its password was given right."""
        with self.database.connect() as connection:
            connection.execute("DELETE FROM sign_in_failures WHERE key = ?",
                               (f"account:{account.strip().lower()}",))
