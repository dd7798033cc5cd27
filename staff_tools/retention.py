"""Delete the conversations whose last message is older than the retention period.

    python -m staff_tools.retention                       # older than retention_days
    python -m staff_tools.retention --days 7 --dry-run    # count only, delete nothing
    python -m staff_tools.retention --conversation web-1f0c...  # one visitor's, on request

`make forget-old` runs the first form; docs/privacy.md shows how to run it every day. The
database is the Rasa server's tracker store, `$TRACKER_STORE_URL` (SQLite or PostgreSQL).
A conversation is every stored event with one conversation id (the id the widget keeps in
the visitor's browser); it is deleted whole, once its newest event is older than the cutoff.
The same cutoff deletes the recorded clicks on the widget's booking and phone links (table
`link_clicks`, no conversation id) older than it. A conversation's message ids and the
replies stored with them (table `answered_messages`, clinic/message_ids.py) go with it. The
command prints counts only, never message text, and exits 0 on success, 1 on an error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from clinic.link_clicks import CLICKS_TABLE
from clinic.message_ids import REPLIES_TABLE
from clinic.settings import SettingsError, load_settings
from staff_tools.tracker_db import (
    ANSWERED_MESSAGES,
    ANSWERED_SENDER,
    CLICK_TIME,
    LINK_CLICKS,
    URL_ENV_VAR,
    TrackerStoreError,
    open_tracker_store,
    safe_address,
)

# The table and columns Rasa's SQLTrackerStore writes (rasa.core.tracker_store.SQLEvent).
EVENTS = sa.table("events", sa.column("sender_id"), sa.column("timestamp"))
SECONDS_PER_DAY = 86400


class RetentionError(TrackerStoreError):
    """A problem staff can fix (no database, wrong address); shown as one line."""


@dataclass(frozen=True)
class Outcome:
    """What was (or, in a dry run, would be) deleted, and what is kept."""

    conversations: int
    events: int
    kept: int
    clicks: int = 0  # link clicks older than the cutoff


def _connect(engine: Engine) -> Connection:
    try:
        connection = engine.connect()
    except sa.exc.DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        raise RetentionError(
            f"cannot connect to the tracker store at {safe_address(engine.url)}: {reason}"
        ) from error
    if not sa.inspect(connection).has_table("events"):
        connection.close()
        raise RetentionError(
            f"{safe_address(engine.url)} has no 'events' table: is {URL_ENV_VAR} the Rasa "
            "server's tracker store?"
        )
    return connection


def _count(connection: Connection, query: Any) -> int:
    return int(connection.execute(sa.select(sa.func.count()).select_from(query)).scalar() or 0)


def _delete(connection: Connection, where: Any, table: Any = EVENTS) -> int:
    if connection.engine.url.get_backend_name() == "sqlite":
        # Overwrite the deleted rows in the file instead of leaving them in free pages.
        connection.exec_driver_sql("PRAGMA secure_delete = ON")
    return int(connection.execute(sa.delete(table).where(where)).rowcount or 0)


def forget_older_than(engine: Engine, cutoff: float, dry_run: bool = False) -> Outcome:
    """Delete every conversation whose newest event is before `cutoff` (Unix seconds)."""
    old = (
        sa.select(EVENTS.c.sender_id)
        .group_by(EVENTS.c.sender_id)
        .having(sa.func.max(EVENTS.c.timestamp) < cutoff)
    )
    all_ids = sa.select(EVENTS.c.sender_id).distinct()
    with _connect(engine) as connection, connection.begin():
        conversations = _count(connection, old.subquery())
        events = _count(connection, sa.select(EVENTS).where(EVENTS.c.sender_id.in_(old)).subquery())
        kept = _count(connection, all_ids.subquery()) - conversations
        clicks = 0
        old_clicks = CLICK_TIME < cutoff
        if sa.inspect(connection).has_table(CLICKS_TABLE):
            clicks = _count(connection, sa.select(LINK_CLICKS).where(old_clicks).subquery())
        if not dry_run:
            # The message ids first, while `old` still finds their conversations; the ids of a
            # conversation whose events are gone already (deleted by hand) go too.
            if sa.inspect(connection).has_table(REPLIES_TABLE):
                _delete(connection, ANSWERED_SENDER.in_(old) | ANSWERED_SENDER.not_in(all_ids),
                        ANSWERED_MESSAGES)
            # One statement, so a visitor who writes again meanwhile is not deleted.
            events = _delete(connection, EVENTS.c.sender_id.in_(old))
            if clicks:
                clicks = _delete(connection, old_clicks, LINK_CLICKS)
    return Outcome(conversations, events, kept, clicks)


def forget_conversation(engine: Engine, conversation_id: str, dry_run: bool = False) -> int:
    """Delete one conversation's events; return how many there were."""
    where = EVENTS.c.sender_id == conversation_id
    with _connect(engine) as connection, connection.begin():
        events = _count(connection, sa.select(EVENTS).where(where).subquery())
        if events and not dry_run:
            events = _delete(connection, where)
            if sa.inspect(connection).has_table(REPLIES_TABLE):
                _delete(connection, ANSWERED_SENDER == conversation_id, ANSWERED_MESSAGES)
    return events


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = -1
    if days < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days (0 or more)")
    return days


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m staff_tools.retention",
        description="Delete conversations whose last message is older than the retention "
        f"period, from the tracker store at ${URL_ENV_VAR}. Prints counts, never messages.",
    )
    parser.add_argument(
        "--days", type=_days,
        help="keep conversations active in the last DAYS days (default: retention_days from "
        "settings/clinic.yml; 0 deletes every conversation)",
    )
    parser.add_argument(
        "--conversation", metavar="ID",
        help="delete this one conversation whatever its age (a visitor's request)",
    )
    parser.add_argument("--dry-run", action="store_true", help="count only, delete nothing")
    return parser


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def run(argv: Optional[List[str]] = None) -> str:
    """Do what the command line asks; return the report line. Raises `RetentionError`."""
    args = _parser().parse_args(argv)
    engine = open_tracker_store(os.environ.get(URL_ENV_VAR), "make forget-old")
    try:
        if args.conversation:
            events = forget_conversation(engine, args.conversation, args.dry_run)
            if not events:
                raise RetentionError(f"no conversation with id {args.conversation!r} is stored")
            verb = "Would delete" if args.dry_run else "Deleted"
            return f"{verb} conversation {args.conversation!r} ({_plural(events, 'event')})."
        if args.days is None:
            try:
                args.days = load_settings().retention_days
            except SettingsError as error:
                raise RetentionError(str(error)) from error
        cutoff = time.time() - args.days * SECONDS_PER_DAY
        outcome = forget_older_than(engine, cutoff, args.dry_run)
    finally:
        engine.dispose()
    when = dt.datetime.fromtimestamp(cutoff, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    what = (
        f"{_plural(outcome.conversations, 'conversation')} "
        f"({_plural(outcome.events, 'event')}) whose last message is older than "
        f"{_plural(args.days, 'day')} (before {when})"
    )
    kept = f"{_plural(outcome.kept, 'conversation')} kept."
    clicks = (f" and {_plural(outcome.clicks, 'link click')} older than that"
              if outcome.clicks else "")
    if args.dry_run:
        return f"Dry run: would delete {what}{clicks}; nothing was deleted. {kept}"
    return f"Deleted {what}{clicks}. {kept}"


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point: print the report, or one line saying what is wrong."""
    try:
        print(run(argv))
    except TrackerStoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except sa.exc.SQLAlchemyError as error:  # e.g. the database is locked or went away
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        print(f"error: the tracker store did not answer as expected: {reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
