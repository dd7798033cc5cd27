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
  1.4 opens and closes a file database's connection for every query). These settings apply to
  the tracker store's own engine only: other databases (PostgreSQL) and other SQLAlchemy
  engines in the process are left as they are.

- Rasa finds an event's class from its type name by walking every subclass of `Event` for
  every event it reads (from the tracker store, from the action server's reply): the class found
  for each type name is remembered (the subclasses are all defined when Rasa is imported).

- The model's graph runs without dask: for every parse and every prediction (three or four a
  turn) Rasa's `DaskGraphRunner` built a dask graph, had dask order and run it, and formatted a
  debug line with the whole graph schema's repr, which is thrown away at INFO. The same nodes
  run one after another in the order of their needs (`SequentialGraphRunner`).

- With several Rasa server processes (`SANIC_WORKERS`), each listens on its own socket of the
  port (SO_REUSEPORT) and the kernel spreads new connections over them; Sanic's own way (one
  socket, whichever process wakes first accepts) gave all 10 visitors connecting at once to
  one process, leaving the other core idle.

- The actions endpoints.yml names under `action_endpoint: run_in_process` (the follow-up after
  every FAQ answer) run in the Rasa server's process, with the action server's own executor
  (rasa-sdk's `ActionExecutor`), the same action call and the same checks of the reply: no HTTP
  round trip, no new connection, no JSON both ways (`clinic_speedups.in_process_actions`). Every
  other action still goes to the action server. The one difference a visitor can see: those
  actions still answer when the action server is down.

- TensorFlow's optional import of JAX is left out (`leave_out_jax`, before Rasa is imported):
  0.4-0.7 s of every start, for a TF Lite feature nothing here uses. The same goes for
  `python -m clinic_speedups train` (`rasa train`, ending the process without Python's
  teardown; see __main__.py), which installs none of the server's speed-ups.

Rasa's internals are reached only through `clinic_server.rasa_internals`, which checks the
Rasa version.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from typing import Any, Callable, Dict, List, Optional

logger = logging.getLogger(__name__)
# How to put Rasa back as it was while the speed-ups are installed.
_installed: Optional[List[Callable[[], None]]] = None
_action_reply_validator: Optional[Any] = None


def action_reply_validator() -> Any:
    """A validator for action server replies, built (and its schema checked) once."""
    global _action_reply_validator
    if _action_reply_validator is None:
        from jsonschema.validators import validator_for

        from clinic_server.rasa_internals import action_reply_schema

        schema = action_reply_schema()
        validator_class = validator_for(schema)
        validator_class.check_schema(schema)
        _action_reply_validator = validator_class(schema)
    return _action_reply_validator


def validate_action_reply(_action: Any, result: Dict[str, Any]) -> bool:
    """Drop-in for RemoteAction._validate_action_result: same checks, same error."""
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match

    from clinic_server.rasa_internals import ACTION_REPLY_ERROR_SUFFIX

    validator = action_reply_validator()
    error: Optional[ValidationError] = best_match(validator.iter_errors(result))
    if error is not None:
        error.message += ACTION_REPLY_ERROR_SUFFIX
        raise error
    return True


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _sqlite_database(url: Any) -> Optional[str]:
    """The database of a SQLite URL ("" or ":memory:" in memory), None for other databases."""
    from sqlalchemy.engine import make_url

    parsed = make_url(str(url)) if not hasattr(url, "get_backend_name") else url
    if parsed.get_backend_name() != "sqlite":
        return None
    return str(parsed.database or "")


def _is_sqlite_file(url: Any) -> bool:
    return _sqlite_database(url) not in (None, "", ":memory:")


def _sqlite_tracker_engine(
    original: Callable[[Any], Dict[str, Any]]
) -> Callable[[Any], Dict[str, Any]]:
    """Wrap Rasa's create_engine_kwargs for the SQLite tracker store's own engine.

    That engine gets the pragmas on each new connection, and a SQLite file's connections stay
    open in a pool.
    """

    def tracker_engine_kwargs(url: Any) -> Dict[str, Any]:
        kwargs = original(url)
        if _sqlite_database(url) is not None:
            # Listeners of this engine's pool only (SQLAlchemy's `pool_events`), set before
            # its first connection: other engines in the process are left as they are.
            kwargs["pool_events"] = [*kwargs.get("pool_events", ()), (_sqlite_pragmas, "connect")]
        if _is_sqlite_file(url):
            from sqlalchemy.pool import QueuePool

            kwargs.setdefault("poolclass", QueuePool)
            # Rasa's tracker store uses its sessions one at a time; the pool hands a
            # connection to one session at a time, whichever thread that is.
            kwargs.setdefault("connect_args", {})["check_same_thread"] = False
        return kwargs

    return tracker_engine_kwargs


def _memoised_event_lookup(original: Callable[..., Any]) -> Callable[..., Any]:
    """`Event.resolve_by_type`, remembering the class found for each type name."""
    found: Dict[Any, Any] = {}

    def resolve_by_type(type_name: str, default: Optional[type] = None) -> Optional[type]:
        key = (type_name, default)
        if key not in found:
            found[key] = original(type_name, default)  # raises for an unknown type, as Rasa
        result: Optional[type] = found[key]
        return result

    return resolve_by_type


def _run_named_actions_in_process(endpoint: Optional[Any]) -> Optional[Any]:
    """The action endpoint read from endpoints.yml, running the actions it names in process."""
    if endpoint is None:
        return None
    from clinic_speedups.in_process_actions import InProcessActionEndpoint

    return InProcessActionEndpoint.from_endpoint(endpoint)


def leave_out_jax() -> None:
    """Make `import jax` fail at once in this process (before TensorFlow is imported).

    TensorFlow imports JAX, if it is installed, only to offer TF Lite's conversion of JAX
    functions (`tensorflow/lite/python/util.py`, an optional import): 0.4-0.7 s of every
    start of Rasa, which imports TensorFlow, for a feature nothing here uses. A `None` in
    `sys.modules` is Python's documented way to say a module is absent; TensorFlow then goes
    on without it (tests/test_speedups.py checks that it still does).
    """
    if "jax" not in sys.modules:
        sys.modules["jax"] = None  # type: ignore[assignment]


def install() -> None:
    """Install the speed-ups into this process (idempotent)."""
    global _installed
    if _installed is not None:
        return
    from clinic_server.rasa_internals import (
        SequentialGraphRunner,
        replace_action_result_validation,
        replace_event_type_lookup,
        replace_predict_graph_runner,
        replace_serve_multiple,
        wrap_action_endpoint,
        wrap_tracker_store_engine_kwargs,
    )

    _installed = [
        replace_action_result_validation(validate_action_reply),
        wrap_tracker_store_engine_kwargs(_sqlite_tracker_engine),
        replace_event_type_lookup(_memoised_event_lookup),
        replace_predict_graph_runner(SequentialGraphRunner),
        replace_serve_multiple(),
        wrap_action_endpoint(_run_named_actions_in_process),
    ]
    logger.debug("clinic_speedups installed")


def uninstall() -> None:
    """Put Rasa back as it was (for tests that share a process with other tests)."""
    global _installed
    if _installed is None:
        return
    for restore in reversed(_installed):
        restore()
    _installed = None
