"""The tracker store's database, opened for the staff commands (review, retention)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Optional

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

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
