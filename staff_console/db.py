"""The console's own SQLite database (CONSOLE_DB, var/console.sqlite by default).

It holds the staff accounts, the sessions, the failed sign-in tries and the log of what
each staff member did; helper modules (staff_tools.inbox's HandledStore) add their own tables
to the same file. It is created readable by its owner only, like the tracker store.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY,       -- SHA-256 of the cookie's value, never the value itself
    account TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created REAL NOT NULL,
    last_seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sign_in_failures (
    key TEXT NOT NULL,              -- 'account:<name>' or 'address:<ip>'
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sign_in_failures_key ON sign_in_failures (key, at);
CREATE TABLE IF NOT EXISTS activity (
    at REAL NOT NULL,
    account TEXT NOT NULL,
    what TEXT NOT NULL              -- e.g. "signed in", "published", "restored the previous model"
);
"""


class Database:
    """The console's database file: created with its tables once, then one connection per use.

    So the server's threads never share a connection.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        with self.connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(SCHEMA)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode, closed afterwards."""
        connection = sqlite3.connect(str(self.path), timeout=10, isolation_level=None)
        try:
            yield connection
        finally:
            connection.close()
