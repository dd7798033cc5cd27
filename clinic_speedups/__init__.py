"""Speed-ups for `rasa run` that change no behaviour, found by profiling (docs/performance.md).

`python -m clinic_speedups run ...` is `rasa run ...` with these installed first:

- Rasa validates every action server reply with `jsonschema.validate`, which checks Rasa's
  own constant schema against the JSON Schema meta-schema on every call (about 30 ms of CPU
  per custom action, half of a turn's time under load). The reply is validated against the
  same schema with a validator built once, so invalid replies are still refused.
- The SQLite tracker store writes in WAL mode with synchronous=NORMAL: one sync per
  checkpoint instead of a journal file created, synced and deleted on every turn (17 ms of
  a blocked server per turn on this project's disk). SQLite stays consistent after a crash;
  a power cut may lose the last turns written. It also keeps its connections open (SQLAlchemy
  1.4 opens and closes a file database's connection for every query). Other databases
  (PostgreSQL) are left as they are.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any, Callable, Dict, Optional, Tuple

logger = logging.getLogger(__name__)
# Rasa's own functions while the speed-ups are installed, to put them back.
_installed: Optional[Tuple[Any, Any]] = None
_action_reply_validator: Optional[Any] = None


def action_reply_validator() -> Any:
    """A validator for action server replies, built (and its schema checked) once."""
    global _action_reply_validator
    if _action_reply_validator is None:
        from jsonschema.validators import validator_for
        from rasa.core.actions.action import RemoteAction

        schema = RemoteAction.action_response_format_spec()
        validator_class = validator_for(schema)
        validator_class.check_schema(schema)
        _action_reply_validator = validator_class(schema)
    return _action_reply_validator


def validate_action_reply(_action: Any, result: Dict[str, Any]) -> bool:
    """Drop-in for RemoteAction._validate_action_result: same checks, same error."""
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    validator = action_reply_validator()
    error: Optional[ValidationError] = best_match(validator.iter_errors(result))
    if error is not None:
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _is_sqlite_file(url: Any) -> bool:
    from sqlalchemy.engine import make_url

    parsed = make_url(str(url)) if not hasattr(url, "get_backend_name") else url
    return bool(parsed.get_backend_name() == "sqlite"
                and parsed.database not in (None, "", ":memory:"))


def _pooled_sqlite(original: Callable[[Any], Dict[str, Any]]) -> Callable[[Any], Dict[str, Any]]:
    """Wrap Rasa's create_engine_kwargs: keep SQLite file connections in a pool."""

    def create_engine_kwargs(url: Any) -> Dict[str, Any]:
        kwargs = original(url)
        if _is_sqlite_file(url):
            from sqlalchemy.pool import QueuePool

            kwargs.setdefault("poolclass", QueuePool)
            # Rasa's tracker store uses its sessions one at a time; the pool hands a
            # connection to one session at a time, whichever thread that is.
            kwargs.setdefault("connect_args", {})["check_same_thread"] = False
        return kwargs

    return create_engine_kwargs


def install() -> None:
    """Install the speed-ups into this process (idempotent)."""
    global _installed
    if _installed is not None:
        return
    import rasa.core.tracker_store as tracker_store
    from rasa.core.actions.action import RemoteAction
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    _installed = (RemoteAction._validate_action_result, tracker_store.create_engine_kwargs)
    RemoteAction._validate_action_result = validate_action_reply
    event.listen(Engine, "connect", _sqlite_pragmas)
    tracker_store.create_engine_kwargs = _pooled_sqlite(tracker_store.create_engine_kwargs)
    logger.debug("clinic_speedups installed")


def uninstall() -> None:
    """Put Rasa back as it was (for tests that share a process with other tests)."""
    global _installed
    if _installed is None:
        return
    import rasa.core.tracker_store as tracker_store
    from rasa.core.actions.action import RemoteAction
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    RemoteAction._validate_action_result, tracker_store.create_engine_kwargs = _installed
    event.remove(Engine, "connect", _sqlite_pragmas)
    _installed = None
