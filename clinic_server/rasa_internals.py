"""The one door to Rasa's internals: every private Rasa name the project relies on is here.

Written for Rasa 3.6.21, and importing it with another Rasa version fails (`RasaVersionError`).
The rest of the project (`clinic_speedups`, `clinic_server`, `deploy`) uses the small functions
and constants below instead of Rasa's private names, and `tests/test_rasa_internals.py` has one
contract test per item, checking the private thing still exists with the shape used here:

1. `RemoteAction._validate_action_result(self, result) -> bool`, replaced by `clinic_speedups`
   with a validator built once (`replace_action_result_validation`, `action_reply_schema`,
   `ACTION_REPLY_ERROR_SUFFIX`, the text Rasa appends to a refused reply's error).
2. `rasa.core.tracker_store.create_engine_kwargs(url) -> dict`, which `SQLTrackerStore.__init__`
   looks up when it creates its engine; `clinic_speedups` wraps it
   (`wrap_tracker_store_engine_kwargs`) to give the SQLite tracker store's own engine a pool
   and its pragmas.
3. `SQLTrackerStore._additional_events(session, tracker)` and the `SQLTrackerStore.SQLEvent`
   row, which `clinic_server.tracker_store.MaskingSQLTrackerStore.save` writes as Rasa's own
   `save` does (`unsaved_events`, `event_values`); and which events `_event_query` reads as the
   latest session, which the masking store's windowed `retrieve` reads the same way.
4. `LockStore._acquire_lock(conversation_id, ticket, wait_time_in_seconds)`, which
   `LockStore.lock` awaits; `deploy.lock_store` overrides it through `TurnWaitingRedisLockStore`
   (its public `wait_for_turn`), finds tickets with `find_ticket` and renews them with
   `renew_tickets` (`TicketLock.tickets`, each a `Ticket` with `number` and `expires`).
5. The loggers whose ERROR records mean a turn failed (`TURN_ERROR_LOGGERS`), watched by
   `clinic_server.rest_channel`.
6. `rasa.__main__.main`, the `rasa` command line that `python -m clinic_speedups` runs
   (`run_rasa_command_line`).
7. The agent the chat channels hand messages to (`app.ctx.agent`, set by Rasa's server;
   `Agent.handle_message` is `async with self.lock_store.lock(sender_id): await
   self.processor.handle_message(message)`): `clinic_server.rest_channel` runs a message with
   an id through `handle_in_conversation_lock`, which looks up the id's stored replies inside
   the conversation's lock before running the turn.

8. `Event.resolve_by_type(type_name, default)`, which reads an event's class from its type name
   by walking every subclass of `Event` (recursively, with `inspect.isabstract` on each) for every
   event read: from the tracker store, and from the action server's replies.
   `clinic_speedups` memoises it (`replace_event_type_lookup`).

9. The graph runner the message processor loads a model with (`rasa.core.processor`'s
   `DaskGraphRunner`, its `_graph_schema` and `_instantiated_nodes`, and how dask calls a
   `GraphNode`: each node with its needs' outputs, `(name, value)` pairs, or the need's name
   when nothing gives it). `SequentialGraphRunner` runs the same nodes one after another in
   the order of their needs, without building a dask graph and its debug text (the schema's
   whole repr) on every parse and every prediction (`replace_predict_graph_runner`).

10. What Rasa's `PUT /model` does to load a model into a running server (`rasa.server`'s
   `load_model` route: `rasa.core.agent.load_agent` with the server's endpoints, the old
   agent's lock store kept, the agent set on `app.ctx.agent`), and which model file an agent
   serves (`agent.processor.model_path`): the other processes of a machine load the model one
   of them was given the same way (`load_model_as_put_model`, `served_model_path`;
   clinic/run_state.py). The endpoints file is the server's `--endpoints`.

11. Sanic's (the version Rasa 3.6.21 pins, 21.12) `serve_multiple`, which `Sanic.run` calls
   for `SANIC_WORKERS` > 1 (imported by name into `sanic.app`): it binds one listening socket
   and forks the workers onto it, so whichever worker wakes first accepts every connection
   that arrives together (10 visitors connecting at once all went to one worker, the other
   core idle). `serve_on_own_sockets` is the same function, except that each worker binds its
   own socket on the port with SO_REUSEPORT and the kernel spreads new connections over them
   (`replace_serve_multiple`, installed by `clinic_speedups`).

12. `AvailableEndpoints.read_endpoints(endpoint_file)`, where `rasa run` and `PUT /model` read
   the endpoints file, and how `RemoteAction.run` calls the action endpoint it gets from there
   (`self.action_endpoint.request(json=<the action call>, method="post", ...)`, the reply then
   validated and rendered): `wrap_action_endpoint` lets `clinic_speedups` replace the action
   endpoint read by one that runs some actions in process
   (`clinic_speedups.in_process_actions.InProcessActionEndpoint`, a public `EndpointConfig`
   subclass overriding its public `request`), which raises Rasa's own rejection
   (`action_rejection`) where the action server would have answered 400.

On a Rasa upgrade: read the new Rasa source of each item above, run
`pytest tests/test_rasa_internals.py tests/test_speedups.py tests/test_privacy.py`, adapt what
changed here (and only here), then set `RASA_VERSION`. Imports no project package, so
`clinic_speedups` and `deploy` may use it (docs/architecture.md).
"""

from __future__ import annotations

import json
import sys
from typing import (
    AbstractSet,
    Any,
    Awaitable,
    Callable,
    Dict,
    Iterable,
    List,
    Optional,
    Tuple,
    TypeVar,
)

import rasa

RASA_VERSION = "3.6.21"
# The items of the docstring, named in the error an unexpected version raises.
RECHECK_ON_UPGRADE = (
    "RemoteAction._validate_action_result",
    "rasa.core.tracker_store.create_engine_kwargs",
    "SQLTrackerStore.save, ._additional_events and .SQLEvent",
    "LockStore._acquire_lock and TicketLock.tickets",
    "the loggers of rasa.core.processor and rasa.core.actions.action",
    "rasa.__main__.main",
    "app.ctx.agent and Agent.handle_message (lock_store, processor)",
    "Event.resolve_by_type",
    "rasa.core.processor.DaskGraphRunner (_graph_schema, _instantiated_nodes)",
    "rasa.server's PUT /model (load_agent, lock store kept, app.ctx.agent)",
    "sanic.app.serve_multiple (sanic.server.runners)",
    "AvailableEndpoints.read_endpoints and RemoteAction.run's action_endpoint.request",
)


class RasaVersionError(RuntimeError):
    """The installed Rasa is not the one `clinic_server/rasa_internals.py` was written for.

    A RuntimeError, not an ImportError: Rasa turns an ImportError raised while it loads a
    custom tracker store or channel into "could not find a class", hiding this message.
    """


def check_rasa_version(found: str) -> None:
    """Raise `RasaVersionError` unless `found` is `RASA_VERSION`."""
    if found != RASA_VERSION:
        raise RasaVersionError(
            f"clinic_server/rasa_internals.py was written for Rasa {RASA_VERSION}, but Rasa "
            f"{found} is installed. Re-check, in the new Rasa source, each private name this "
            f"module relies on ({'; '.join(RECHECK_ON_UPGRADE)}), run "
            "tests/test_rasa_internals.py, then update RASA_VERSION in that module."
        )


check_rasa_version(rasa.__version__)

# Imported after the check: on another Rasa version these imports may fail less clearly.
import rasa.core.processor as _processor  # noqa: E402
import rasa.core.tracker_store as _tracker_store  # noqa: E402
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction  # noqa: E402
from rasa.core.agent import Agent  # noqa: E402
from rasa.core.channels.channel import UserMessage  # noqa: E402
from rasa.core.lock import Ticket, TicketLock  # noqa: E402
from rasa.core.lock_store import RedisLockStore  # noqa: E402
from rasa.core.utils import AvailableEndpoints  # noqa: E402
from rasa.engine.exceptions import GraphRunError  # noqa: E402
from rasa.engine.runner.dask import DaskGraphRunner  # noqa: E402
from rasa.shared.constants import DOCS_BASE_URL  # noqa: E402
from rasa.shared.core.events import Event  # noqa: E402
from rasa.shared.core.trackers import DialogueStateTracker  # noqa: E402
from rasa.shared.nlu.constants import INTENT_NAME_KEY  # noqa: E402
from rasa.shared.utils.common import all_subclasses  # noqa: E402
from rasa.utils.endpoints import EndpointConfig  # noqa: E402

Restore = Callable[[], None]

# 1. The action server reply's validation -----------------------------------------------------

ActionResultValidation = Callable[[Any, Dict[str, Any]], bool]
# The parameters of RemoteAction._validate_action_result that a replacement takes.
ACTION_RESULT_VALIDATION_PARAMETERS = ("self", "result")
# What Rasa appends to the message of a refused reply's ValidationError.
ACTION_REPLY_ERROR_SUFFIX = (
    ". Failed to validate Action server response from API, "
    "make sure your response from the Action endpoint is valid. "
    "For more information about the format visit "
    f"{DOCS_BASE_URL}/custom-actions"
)


def action_reply_schema() -> Dict[str, Any]:
    """The JSON Schema Rasa validates an action server's reply against."""
    schema: Dict[str, Any] = RemoteAction.action_response_format_spec()
    return schema


def replace_action_result_validation(validate: ActionResultValidation) -> Restore:
    """Make `validate(action, result)` Rasa's check of action server replies; returns an undo."""
    original = RemoteAction.__dict__["_validate_action_result"]
    RemoteAction._validate_action_result = validate

    def restore() -> None:
        RemoteAction._validate_action_result = original

    return restore


# 2. The SQL tracker store's engine -----------------------------------------------------------

EngineKwargs = Callable[[Any], Dict[str, Any]]


def wrap_tracker_store_engine_kwargs(wrap: Callable[[EngineKwargs], EngineKwargs]) -> Restore:
    """Wrap the function giving `SQLTrackerStore`'s `sqlalchemy.create_engine` its keywords.

    Only engines the SQL tracker store creates (from then on) see the wrapped keywords.
    Returns an undo.
    """
    original = _tracker_store.create_engine_kwargs
    _tracker_store.create_engine_kwargs = wrap(original)

    def restore() -> None:
        _tracker_store.create_engine_kwargs = original

    return restore


# 3. What SQLTrackerStore.save writes ---------------------------------------------------------


def unsaved_events(
    store: _tracker_store.SQLTrackerStore, session: Any, tracker: DialogueStateTracker
) -> Iterable[Event]:
    """The events of `tracker` not yet in `store`'s database (as Rasa's `save` finds them)."""
    events: Iterable[Event] = store._additional_events(session, tracker)
    return events


def events_table(store: _tracker_store.SQLTrackerStore) -> Any:
    """The table (`sqlalchemy.Table`) of `store`'s events, one row per event (`SQLEvent`)."""
    return store.SQLEvent.__table__


def event_values(sender_id: str, type_name: str, data: Dict[str, Any]) -> Dict[str, Any]:
    """The column values Rasa's `SQLTrackerStore.save` writes for an event whose dict is `data`.

    Keys are the columns of `SQLTrackerStore.SQLEvent`'s table (an insert of these values writes
    the same row as Rasa's `session.add(SQLEvent(...))`).
    """
    intent = ((data.get("parse_data") or {}).get("intent") or {}).get(INTENT_NAME_KEY)
    return {
        "sender_id": sender_id,
        "type_name": type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": intent,
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }



# 4. The lock store's wait for a ticket's turn ------------------------------------------------

# The parameters of LockStore._acquire_lock, which TurnWaitingRedisLockStore overrides.
ACQUIRE_LOCK_PARAMETERS = ("self", "conversation_id", "ticket", "wait_time_in_seconds")


class TurnWaitingRedisLockStore(RedisLockStore):
    """`RedisLockStore` whose wait for a ticket's turn is the overridable `wait_for_turn`.

    `LockStore.lock` issues a ticket, then awaits the private `_acquire_lock`, which returns
    the lock once the ticket is served; this class routes that call to `wait_for_turn`.
    """

    async def _acquire_lock(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        return await self.wait_for_turn(conversation_id, ticket, wait_time_in_seconds)

    async def wait_for_turn(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        """The lock once `ticket` is served, polling every `wait_time_in_seconds` (Rasa's)."""
        return await super()._acquire_lock(conversation_id, ticket, wait_time_in_seconds)


def find_ticket(lock: TicketLock, number: int) -> Optional[Ticket]:
    """The ticket numbered `number` in `lock`, None if it is gone (expired or removed)."""
    return next((ticket for ticket in lock.tickets if ticket.number == number), None)


def renew_tickets(lock: TicketLock, numbers: AbstractSet[int], expires: float) -> bool:
    """Make the tickets of `lock` numbered in `numbers` expire at `expires` (True if any)."""
    renewed = False
    for ticket in lock.tickets:
        if ticket.number in numbers:
            ticket.expires, renewed = expires, True
    return renewed


# 5. The loggers of a failed turn -------------------------------------------------------------

# Loggers whose ERROR records during a turn mean the visitor may be missing part of the reply:
# the processor logs every exception raised while running an action, the action module logs
# an unreachable action server. They are the modules' `logging.getLogger(__name__)`.
TURN_ERROR_LOGGERS: Tuple[str, ...] = ("rasa.core.processor", "rasa.core.actions.action")


# 6. The rasa command line --------------------------------------------------------------------


def run_rasa_command_line(arguments: Iterable[str]) -> None:
    """Run `rasa <arguments>` in this process, as the `rasa` command does."""
    from rasa.__main__ import main

    sys.argv = ["rasa", *arguments]
    main()


# 7. The agent behind the chat channels --------------------------------------------------------

Earlier = TypeVar("Earlier")


def channel_agent(app: Any) -> Optional[Agent]:
    """The agent Rasa's server hands the channels' messages to (None: not a Rasa server)."""
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    return agent if isinstance(agent, Agent) else None


async def handle_in_conversation_lock(
    agent: Agent, message: UserMessage, earlier: Callable[[], Awaitable[Optional[Earlier]]]
) -> Optional[Earlier]:
    """`agent.handle_message(message)`, but first, inside the conversation's lock, `earlier()`.

    If `earlier()` returns something, the message is not handled and that is returned; else
    the turn runs as Rasa runs it, still inside the same lock, and None is returned. So a
    message waiting behind another of its conversation sees what that one stored.
    """
    if not agent.is_ready():
        await agent.handle_message(message)  # Rasa's way: logs, and handles nothing
        return None
    async with agent.lock_store.lock(message.sender_id):
        found = await earlier()
        if found is not None:
            return found
        await agent.processor.handle_message(message)
    return None


# 8. An event's class from its type name ---------------------------------------------------

EventTypeLookup = Callable[[str, Optional[type]], Optional[type]]


def event_classes() -> Iterable[type]:
    """Every subclass of `Event`, in the order `Event.resolve_by_type` tries them."""
    classes: Iterable[type] = all_subclasses(Event)
    return classes


def replace_event_type_lookup(wrap: Callable[[EventTypeLookup], EventTypeLookup]) -> Restore:
    """Make `wrap(original)` Rasa's `Event.resolve_by_type`; returns an undo."""
    original = Event.__dict__["resolve_by_type"]
    Event.resolve_by_type = staticmethod(wrap(original.__func__))

    def restore() -> None:
        Event.resolve_by_type = original

    return restore


# 9. The graph runner of a served model -------------------------------------------------------


class SequentialGraphRunner(DaskGraphRunner):
    """`DaskGraphRunner` running the nodes one after another, in the order of their needs.

    Dask's local scheduler runs a graph's tasks one at a time too; each node gets the same
    inputs (its needs' `(name, value)` outputs, or the need's name when nothing gives it: an
    input not passed) and the result is the targets' outputs, as with dask. The order for each
    set of targets is worked out once.
    """

    def run(
        self, inputs: Optional[Dict[str, Any]] = None, targets: Optional[List[str]] = None
    ) -> Dict[str, Any]:
        """Run the nodes the targets need; the targets' outputs by name (as DaskGraphRunner)."""
        run_targets = list(targets) if targets else list(self._graph_schema.target_names)
        results: Dict[str, Any] = {}
        for name, value in (inputs or {}).items():
            if name in self._graph_schema.nodes:
                raise GraphRunError(
                    f"Input value '{name}' clashes with a node name. Make sure that none of "
                    "the input names passed to the `run` method are the same as node names "
                    "in the graph schema."
                )
            results[name] = (name, value)
        try:
            for node_name, needs in self._order(tuple(run_targets)):
                node = self._instantiated_nodes[node_name]
                results[node_name] = node(*[results.get(need, need) for need in needs])
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error
        return dict(results[target] for target in run_targets)

    def _order(self, targets: Tuple[str, ...]) -> List[Tuple[str, Tuple[str, ...]]]:
        """The nodes `targets` need, each after its needs, with the names of its needs."""
        orders: Dict[Tuple[str, ...], List[Tuple[str, Tuple[str, ...]]]] = self.__dict__.setdefault(
            "_clinic_orders", {})
        if targets not in orders:
            nodes = self._graph_schema.nodes
            order: List[Tuple[str, Tuple[str, ...]]] = []
            placed: set = set()

            def place(name: str) -> None:
                if name in placed or name not in nodes:
                    return
                placed.add(name)
                needs = tuple(nodes[name].needs.values())
                for need in needs:
                    place(need)
                order.append((name, needs))

            for target in targets:
                place(target)
            orders[targets] = order
        return orders[targets]


def replace_predict_graph_runner(runner: type) -> Restore:
    """Make `runner` the graph runner models are loaded with from now on; returns an undo."""
    original = _processor.DaskGraphRunner
    _processor.DaskGraphRunner = runner

    def restore() -> None:
        _processor.DaskGraphRunner = original

    return restore


# 10. Loading a model as `PUT /model` does --------------------------------------------------


def server_endpoints_file(argv: Optional[List[str]] = None) -> str:
    """The endpoints file of this server's command line (`--endpoints`; Rasa's default)."""
    from rasa.shared.constants import DEFAULT_ENDPOINTS_PATH

    args = list(sys.argv if argv is None else argv)
    for index, arg in enumerate(args):
        if arg == "--endpoints" and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--endpoints="):
            return arg.split("=", 1)[1]
    return str(DEFAULT_ENDPOINTS_PATH)


def served_model_path(agent: Optional[Agent]) -> Optional[str]:
    """The model file `agent` serves (None: no model)."""
    processor = getattr(agent, "processor", None)
    path = getattr(processor, "model_path", None)
    return str(path) if path is not None else None


async def load_model_as_put_model(app: Any, model_path: str) -> Agent:
    """Load `model_path` into the server of `app` as Rasa's `PUT /model` does; the new agent.

    Raises RuntimeError if the model cannot be loaded (the old agent keeps serving).
    """
    from rasa.core.agent import load_agent
    from rasa.core.utils import read_endpoints_from_path

    endpoints = read_endpoints_from_path(server_endpoints_file())
    agent = await load_agent(model_path=model_path, endpoints=endpoints)
    if not agent.is_ready():
        raise RuntimeError(f"the model {model_path} could not be loaded")
    old = channel_agent(app)
    if old is not None:
        agent.lock_store = old.lock_store
    app.ctx.agent = agent
    return agent


# 11. Sanic's several workers, each on its own socket ------------------------------------------


def serve_on_own_sockets(server_settings: Dict[str, Any], workers: int) -> None:
    """Sanic 21.12's `serve_multiple`, but each worker binds its own SO_REUSEPORT socket.

    The same steps as Sanic's (main-process events, signal handlers, forked workers, joined,
    then the main stop events); only the shared socket is left out. A given socket or a Unix
    socket goes to Sanic's own function.
    """
    import asyncio
    import multiprocessing
    import os
    from signal import SIGINT, SIGTERM
    from signal import signal as signal_func

    from sanic.server.events import trigger_events
    from sanic.server.runners import serve, serve_multiple

    if server_settings.get("sock") is not None or server_settings.get("unix"):
        serve_multiple(server_settings, workers)
        return
    server_settings["reuse_port"] = True
    server_settings["run_multiple"] = True
    main_start = server_settings.pop("main_start", None)
    main_stop = server_settings.pop("main_stop", None)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    trigger_events(main_start, loop)
    processes: List[Any] = []

    def stop_workers(*_: Any) -> None:
        for process in processes:
            os.kill(process.pid, SIGTERM)

    signal_func(SIGINT, stop_workers)
    signal_func(SIGTERM, stop_workers)
    forking = multiprocessing.get_context("fork")
    for _ in range(workers):
        process = forking.Process(target=serve, kwargs=server_settings)
        process.daemon = True
        process.start()
        processes.append(process)
    for process in processes:
        process.join()
    for process in processes:
        process.terminate()
    trigger_events(main_stop, loop)


def replace_serve_multiple(
        replacement: Callable[[Dict[str, Any], int], None] = serve_on_own_sockets) -> Restore:
    """Make `replacement` what `Sanic.run` starts several workers with; returns an undo."""
    import sanic.app as sanic_app

    original = sanic_app.serve_multiple
    sanic_app.serve_multiple = replacement

    def restore() -> None:
        sanic_app.serve_multiple = original

    return restore


# 12. The action endpoint read from the endpoints file ------------------------------------------


def wrap_action_endpoint(
        wrap: Callable[[Optional[EndpointConfig]], Optional[EndpointConfig]]) -> Restore:
    """Make `wrap(endpoint)` the action endpoint of every endpoints file read; returns an undo."""
    original = AvailableEndpoints.__dict__["read_endpoints"]

    def read_endpoints(cls: type, endpoint_file: str) -> AvailableEndpoints:
        endpoints: AvailableEndpoints = original.__func__(cls, endpoint_file)
        endpoints.action = wrap(endpoints.action)
        return endpoints

    AvailableEndpoints.read_endpoints = classmethod(read_endpoints)

    def restore() -> None:
        AvailableEndpoints.read_endpoints = original

    return restore


def action_rejection(action_name: str, message: Optional[str]) -> Exception:
    """What `RemoteAction.run` raises when the action server refuses an action (its 400)."""
    return ActionExecutionRejection(action_name, message)
