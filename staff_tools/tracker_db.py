"""The tracker store's database, opened and read for the staff tools.

Used by the review and retention commands and by the staff console's inbox and dashboard.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from clinic.link_clicks import CLICKS_TABLE, LINK_COLUMN, TIMESTAMP_COLUMN
from clinic.message_ids import MESSAGE_ID_COLUMN, REPLIES_TABLE, SENDER_COLUMN

URL_ENV_VAR = "TRACKER_STORE_URL"


class TrackerStoreError(Exception):
    """A problem staff can fix (no address, no database); shown as one line."""


def safe_address(url: URL) -> str:
    """The database address without its password, for messages."""
    return url.render_as_string(hide_password=True)


def open_tracker_store(address: Optional[str], command: str) -> Engine:
    """An engine for the tracker store at `address`; `command` is named in the hints."""
    if not address:
        raise TrackerStoreError(
            f"{URL_ENV_VAR} is not set: use `{command}`, or `source scripts/env.sh` first"
        )
    try:
        url = make_url(address)
    except sa.exc.ArgumentError as error:
        raise TrackerStoreError(
            f"{URL_ENV_VAR} is not a database address (like sqlite:///var/tracker.db or "
            "postgresql://user:password@host:5432/rasa)"
        ) from error
    options: Dict[str, Any] = {}
    backend = url.get_backend_name()
    if backend == "sqlite":
        # Connecting would create an empty file: a wrong path must be an error instead.
        if not url.database or not Path(url.database).is_file():
            raise TrackerStoreError(
                f"no tracker store database at {url.database or '(no path)'}: check "
                f"{URL_ENV_VAR}, or start the assistant (make run) once so that it creates it"
            )
    elif backend == "postgresql":
        connect_args: Dict[str, Any] = {"connect_timeout": 10}
        # The schema Rasa uses when POSTGRESQL_SCHEMA is set (see Rasa's SQLTrackerStore).
        if os.environ.get("POSTGRESQL_SCHEMA"):
            connect_args["options"] = f"-csearch_path={os.environ['POSTGRESQL_SCHEMA']}"
        options["connect_args"] = connect_args
    try:
        return sa.create_engine(url, **options)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as error:
        raise TrackerStoreError(
            f"cannot open {backend} databases here ({safe_address(url)}): {error}"
        ) from error


# The clicks on the widget's booking link and the clinic's phone number, written by the chat
# channel (clinic_server/tracker_store.py; the names are clinic/link_clicks.py's): when (Unix
# seconds, to the minute) and which link, nothing else. Missing until the Rasa server has run
# with the channel.
LINK_CLICKS = sa.table(CLICKS_TABLE, sa.column(TIMESTAMP_COLUMN), sa.column(LINK_COLUMN))
CLICK_TIME, CLICK_LINK = LINK_CLICKS.c[TIMESTAMP_COLUMN], LINK_CLICKS.c[LINK_COLUMN]

# The chat messages answered with a message id (clinic/message_ids.py), written by the chat
# channel's tracker store with each turn: kept, and deleted, with their conversation. Missing
# until a message with an id was answered.
ANSWERED_MESSAGES = sa.table(REPLIES_TABLE, sa.column(SENDER_COLUMN), sa.column(MESSAGE_ID_COLUMN))
ANSWERED_SENDER = ANSWERED_MESSAGES.c[SENDER_COLUMN]

# ---- reading Rasa's `events` table -------------------------------------------------------

# Rasa's SQLTrackerStore table (rasa.core.tracker_store.SQLTrackerStore.SQLEvent): one row per
# event, `data` the whole event as JSON (docs/privacy.md describes the columns).
EVENTS = sa.table(
    "events", sa.column("id"), sa.column("sender_id"), sa.column("type_name"),
    sa.column("timestamp"), sa.column("intent_name"), sa.column("action_name"),
    sa.column("data"),
)
# The events that make up what was said and done: messages, replies and actions.
CONVERSATION_TYPES = ("user", "bot", "action")


@dataclass(frozen=True)
class StoredEvent:
    """One row of Rasa's `events` table."""

    sender_id: str
    type_name: str
    timestamp: float
    data: Dict[str, Any]


def _reason(error: sa.exc.SQLAlchemyError) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def fetch_rows(engine: Engine, query: Any, missing_ok: bool = False) -> List[Any]:
    """The rows of `query` on the `events` table; `TrackerStoreError` if it cannot be read.

    Without an `events` table (the assistant never ran against this database) that is an
    error, or no rows if `missing_ok`.
    """
    address = safe_address(engine.url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("events"):
                if missing_ok:
                    return []
                raise TrackerStoreError(
                    f"the database at {address} has no conversations yet (no 'events' table): "
                    "is it the assistant's tracker store?"
                )
            return list(connection.execute(query).fetchall())
    except sa.exc.SQLAlchemyError as error:
        raise TrackerStoreError(
            f"cannot read the tracker store at {address}: {_reason(error)}"
        ) from error


def _stored(rows: Sequence[Any]) -> List[StoredEvent]:
    stored = []
    for sender_id, type_name, timestamp, raw in rows:
        try:
            data = json.loads(raw or "{}")
        except ValueError:
            continue  # a damaged row: skip it rather than stop the page or report
        if isinstance(data, dict):
            stored.append(StoredEvent(str(sender_id), str(type_name), float(timestamp or 0), data))
    return stored


def read_events(
    engine: Engine,
    start: float,
    end: float,
    types: Sequence[str] = CONVERSATION_TYPES,
    missing_ok: bool = False,
) -> List[StoredEvent]:
    """The events of `types` from `start` to `end` (Unix time), by conversation, oldest first."""
    query = (
        sa.select(EVENTS.c.sender_id, EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.data)
        .where(EVENTS.c.timestamp >= start, EVENTS.c.timestamp < end)
        .where(EVENTS.c.type_name.in_(list(types)))
        .order_by(EVENTS.c.sender_id, EVENTS.c.id)
    )
    return _stored(fetch_rows(engine, query, missing_ok))


def read_conversation(
    engine: Engine, sender_id: str, types: Sequence[str] = CONVERSATION_TYPES
) -> List[StoredEvent]:
    """Every stored event of `types` of one conversation, oldest first."""
    query = (
        sa.select(EVENTS.c.sender_id, EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.data)
        .where(EVENTS.c.sender_id == sender_id, EVENTS.c.type_name.in_(list(types)))
        .order_by(EVENTS.c.id)
    )
    return _stored(fetch_rows(engine, query, missing_ok=True))
