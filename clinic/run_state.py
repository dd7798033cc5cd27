"""What the Rasa server processes of one machine share: one small SQLite file (RUN_STATE_DB).

With `SANIC_WORKERS=2` (clinic/launcher.py) `make run` starts two Rasa server processes on one
port, one per core; the kernel hands each new connection to either. Three things then have to
be the machine's, not a process's:

- the conversations' ticket locks (`clinic_server.lock_store.MachineLockStore`, Rasa's
  `LockStore` on this file, selected by endpoints.yml), so that two messages of one
  conversation are still handled one after the other whichever process gets them;
- `SharedWindowLimiter`: the chat webhook's rate limits (clinic_server/rest_channel.py), so
  that a sender gets 20 messages in 10 s from the machine, not 20 from each process. Keys are
  stored as salted hashes, never as the sender id or address itself, and only for one window;
- `ModelFollower`: `make reload` and the staff console's publish load a model with Rasa's
  `PUT /model`, which reaches one process; that process notes the model it now serves here
  (a new generation) and every other process loads the same file within a second or two. The
  reload tool waits until every live process serves it (`wait_for_generation`).

The file holds nothing a restart needs: locks expire within their lifetime, rate counts within
their window. One connection per process and thread (opened after Sanic forks its workers), WAL
mode, no fsync (a power cut loses only these), and a busy timeout so that processes wait for
each other instead of failing. Standard library only (staff_tools/reload.py reads it too).
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from clinic.paths import PROJECT_DIR

logger = logging.getLogger(__name__)

DEFAULT_PATH = PROJECT_DIR / "var" / "run-state.sqlite"
ENV_VAR = "RUN_STATE_DB"
# A process that has not looked at the model generation for this long is taken as gone.
WORKER_GONE_AFTER_SECONDS = 15.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ticket_locks (conversation_id TEXT PRIMARY KEY, lock TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rate_hits (
    scope TEXT NOT NULL, key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS rate_hits_by_key ON rate_hits (scope, key, at);
CREATE TABLE IF NOT EXISTS model_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1), generation INTEGER NOT NULL, model_path TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS workers (
    pid INTEGER PRIMARY KEY, generation INTEGER NOT NULL, seen REAL NOT NULL);
CREATE TABLE IF NOT EXISTS salt (id INTEGER PRIMARY KEY CHECK (id = 1), value TEXT NOT NULL);
"""


def state_path() -> Path:
    """The machine's run-state file: $RUN_STATE_DB, else var/run-state.sqlite."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_PATH)


class MachineState:
    """The run-state file, with one connection per process and thread."""

    def __init__(self, path: Optional[Path] = None) -> None:
        self.path = Path(path) if path is not None else state_path()
        self._local = threading.local()

    def connection(self) -> sqlite3.Connection:
        """The connection of this process and thread (opened, and the tables made, once)."""
        connection: Optional[sqlite3.Connection] = getattr(self._local, "connection", None)
        if connection is None or getattr(self._local, "pid", None) != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")
            connection.executescript(_SCHEMA)
            connection.execute("INSERT OR IGNORE INTO salt VALUES (1, ?)",
                               (secrets.token_hex(16),))
            self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    def hashed(self, text: str) -> str:
        """`text` as stored: a salted hash (the salt is the file's, made at random once)."""
        salt = getattr(self, "_salt", None)
        if salt is None:
            salt = self._salt = str(self.read("SELECT value FROM salt WHERE id = 1")[0][0])
        return hashlib.sha256(f"{salt}\0{text}".encode()).hexdigest()[:32]

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: no other process writes until it ends."""
        connection = self.connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def read(self, sql: str, parameters: Tuple[Any, ...] = ()) -> List[Tuple[Any, ...]]:
        """The rows of one query."""
        return list(self.connection().execute(sql, parameters))


# ---- rate limits -------------------------------------------------------------------------------


class SharedWindowLimiter:
    """At most `limit` hits per key in any `window` seconds over all the machine's processes.

    The same interface as `rest_channel.SlidingWindowLimiter`. `scope` keeps limiters apart
    (messages per sender, per address, link clicks per address). A key is stored as a hash
    and only while it is inside the window (a salted hash: not an address that could be
    looked up). 0: no limit (and nothing stored).
    """

    def __init__(self, limit: int, window: float, scope: str,
                 state: Optional[MachineState] = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.limit, self.window, self.scope, self._clock = limit, window, scope, clock
        self.state = state or MachineState()
        self._next_sweep = 0.0

    def _key(self, key: str) -> str:
        return self.state.hashed(key)

    def wait_seconds(self, key: str) -> float:
        """0 if `key` may go ahead now, else how long until it may."""
        if not self.limit:
            return 0.0
        now = self._clock()
        rows = self.state.read(
            "SELECT at FROM rate_hits WHERE scope = ? AND key = ? AND at > ? ORDER BY at",
            (self.scope, self._key(key), now - self.window))
        if len(rows) < self.limit:
            return 0.0
        return float(rows[-self.limit][0]) + self.window - now

    def record(self, key: str) -> None:
        """Count a hit for `key` now."""
        if not self.limit:
            return
        now = self._clock()
        with self.state.transaction() as connection:
            connection.execute("INSERT INTO rate_hits VALUES (?, ?, ?)",
                               (self.scope, self._key(key), now))
            if now >= self._next_sweep:  # forget every key's hits older than the window
                self._next_sweep = now + self.window
                connection.execute("DELETE FROM rate_hits WHERE scope = ? AND at <= ?",
                                   (self.scope, now - self.window))


# ---- the model every process serves ----------------------------------------------------------


@dataclass
class Generation:
    """The model `PUT /model` last loaded on this machine, numbered."""

    number: int
    model_path: str


def current_generation(state: MachineState) -> Optional[Generation]:
    """The machine's model generation, None before the first reload."""
    rows = state.read("SELECT generation, model_path FROM model_generation WHERE id = 1")
    return Generation(int(rows[0][0]), str(rows[0][1])) if rows else None


def live_workers(state: MachineState, now: Optional[float] = None) -> Dict[int, int]:
    """The processes that looked in the last WORKER_GONE_AFTER_SECONDS: pid -> generation."""
    since = (time.time() if now is None else now) - WORKER_GONE_AFTER_SECONDS
    return {int(pid): int(generation) for pid, generation in state.read(
        "SELECT pid, generation FROM workers WHERE seen > ?", (since,))}


class ModelFollower:
    """One process's part in serving the same model as the machine's other processes.

    `check(served)` is called every POLL_SECONDS with the model file the process serves now
    (None while it has none). It returns the model file the process should load, or None:
    - a model the process did not load through the follower (Rasa's `PUT /model` reached this
      process) becomes the machine's new generation, for the others to load;
    - a newer generation than the process serves is returned, to be loaded
      (then `loaded(generation)`).
    """

    POLL_SECONDS = 1.0

    def __init__(self, state: Optional[MachineState] = None, pid: Optional[int] = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.state = state or MachineState()
        self.pid = os.getpid() if pid is None else pid
        self._clock = clock
        self.generation: Optional[int] = None  # what this process serves
        self._served: Optional[Any] = None  # the agent object of the last check

    def check(self, served: Any, model_path: Optional[str]) -> Optional[Generation]:
        """See the class; `served` is the agent object, `model_path` its model file."""
        with self.state.transaction() as connection:
            row = connection.execute(
                "SELECT generation, model_path FROM model_generation WHERE id = 1").fetchone()
            machine = Generation(int(row[0]), str(row[1])) if row else None
            wanted: Optional[Generation] = None
            if self.generation is None:  # the model the process started with
                self.generation = machine.number if machine else 0
            elif served is not self._served and model_path:  # PUT /model reached this process
                number = (machine.number if machine else 0) + 1
                connection.execute(
                    "INSERT OR REPLACE INTO model_generation VALUES (1, ?, ?)",
                    (number, model_path))
                self.generation = number
                logger.info("model: generation %d, loaded by this process", number)
            elif machine is not None and machine.number > self.generation:
                wanted = machine
            self._served = served
            connection.execute("INSERT OR REPLACE INTO workers VALUES (?, ?, ?)",
                               (self.pid, self.generation, self._clock()))
            connection.execute("DELETE FROM workers WHERE seen < ?",
                               (self._clock() - 10 * WORKER_GONE_AFTER_SECONDS,))
        return wanted

    def loaded(self, generation: Generation, served: Any) -> None:
        """Note that this process now serves `generation` (the agent object `served`)."""
        self.generation, self._served = generation.number, served
        with self.state.transaction() as connection:
            connection.execute("INSERT OR REPLACE INTO workers VALUES (?, ?, ?)",
                               (self.pid, self.generation, self._clock()))
        logger.info("model: generation %d loaded, as another process did", generation.number)


def wait_for_generation(state: MachineState, after: int, timeout: float,
                        poll: float = 0.5, every_process: bool = True) -> Optional[int]:
    """Wait until a generation newer than `after` is served by every live process.

    Returns that generation, or None if none appeared within `timeout` (no process follows
    this file's model: a server elsewhere) or not every process loaded it in time. With
    `every_process` False, only until the new generation appears.
    """
    deadline = time.monotonic() + timeout
    while True:
        generation = current_generation(state)
        if generation is not None and generation.number > after:
            workers = live_workers(state)
            if not every_process or all(
                    served >= generation.number for served in workers.values()):
                return generation.number
        if time.monotonic() >= deadline:
            return None
        time.sleep(poll)
