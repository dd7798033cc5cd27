"""Contract tests of clinic_server.rasa_internals: Rasa's private names it relies on still exist
with the shape it was written against, so that a Rasa upgrade fails here, loudly."""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import json
import logging
import sys
from pathlib import Path
from typing import Any, Dict, List

import jsonschema
import pytest
import rasa
import rasa.core.actions.action as action_module
import rasa.core.channels.channel as channel_module
import rasa.core.processor as processor_module
import rasa.core.tracker_store as tracker_store_module
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore

from clinic_server import rasa_internals

DOOR = Path(rasa_internals.__file__)


def _parameters(function: Any) -> List[str]:
    return list(inspect.signature(function).parameters)


def _rasas_own(cls: type, name: str) -> Any:
    """`cls.name` as Rasa defines it (not as a speed-up may have replaced it)."""
    function = cls.__dict__[name]
    assert function.__module__.startswith("rasa."), f"{cls.__name__}.{name} is not Rasa's own"
    return function


# ------------------------------------------------------------------------- the Rasa version


def test_the_door_is_written_for_the_installed_rasa() -> None:
    assert rasa.__version__ == rasa_internals.RASA_VERSION == "3.6.21"


def test_another_rasa_version_is_refused_with_what_to_recheck() -> None:
    with pytest.raises(rasa_internals.RasaVersionError) as refused:
        rasa_internals.check_rasa_version("3.7.0")
    message = str(refused.value)
    assert "clinic_server/rasa_internals.py" in message
    assert "Rasa 3.6.21" in message and "Rasa 3.7.0" in message
    for item in rasa_internals.RECHECK_ON_UPGRADE:
        assert item in message
    assert "tests/test_rasa_internals.py" in message


def test_importing_the_door_under_another_rasa_version_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A fresh copy of the module, so the real one (and the classes built on it) stays as it is.
    monkeypatch.setattr(rasa, "__version__", "3.6.22")
    spec = importlib.util.spec_from_file_location("rasa_internals_under_test", DOOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "rasa_internals_under_test", module)
    with pytest.raises(RuntimeError, match="written for Rasa 3.6.21, but Rasa 3.6.22") as refused:
        spec.loader.exec_module(module)
    assert type(refused.value).__name__ == "RasaVersionError"


# ---------------------------------------- 1. RemoteAction._validate_action_result (speed-ups)


def test_the_action_reply_validation_has_the_shape_its_replacement_was_written_against() -> None:
    original = _rasas_own(RemoteAction, "_validate_action_result")
    assert _parameters(original) == list(rasa_internals.ACTION_RESULT_VALIDATION_PARAMETERS)
    assert inspect.signature(original).return_annotation in (bool, "bool")
    # Rasa's own validation: the schema the replacement uses, and the message it appends.
    reply: Dict[str, Any] = {"events": "not a list"}
    with pytest.raises(jsonschema.ValidationError) as refused:
        original(RemoteAction("action_handoff", None), reply)
    with pytest.raises(jsonschema.ValidationError) as stock:
        jsonschema.validate(reply, rasa_internals.action_reply_schema())
    assert refused.value.message == stock.value.message + rasa_internals.ACTION_REPLY_ERROR_SUFFIX
    assert "_validate_action_result" in inspect.getsource(RemoteAction.run)


# -------------------------------------- 2. tracker_store.create_engine_kwargs (speed-ups)


def test_the_tracker_store_takes_its_engine_keywords_from_create_engine_kwargs() -> None:
    create_engine_kwargs = tracker_store_module.create_engine_kwargs
    assert create_engine_kwargs.__module__ == "rasa.core.tracker_store"  # not wrapped now
    assert _parameters(create_engine_kwargs) == ["url"]
    # Looked up as a module global when the store creates its engine, so wrapping it works.
    assert "create_engine_kwargs" in SQLTrackerStore.__init__.__code__.co_names
    assert "create_engine(engine_url, **create_engine_kwargs(engine_url))" in inspect.getsource(
        SQLTrackerStore.__init__
    )
    # Nothing set for SQLite, so the speed-ups' pool, connect arguments and pragmas apply.
    assert create_engine_kwargs("sqlite:///tracker.db") == {}
    restore = rasa_internals.wrap_tracker_store_engine_kwargs(
        lambda original: lambda url: {**original(url), "wrapped": True}
    )
    try:
        assert tracker_store_module.create_engine_kwargs("sqlite:///x.db") == {"wrapped": True}
    finally:
        restore()
    assert tracker_store_module.create_engine_kwargs is create_engine_kwargs


# ------------------------------- 3. SQLTrackerStore's save internals (MaskingSQLTrackerStore)


def test_the_sql_tracker_store_saves_as_the_masking_store_does() -> None:
    additional_events = _rasas_own(SQLTrackerStore, "_additional_events")
    assert _parameters(additional_events) == ["self", "session", "tracker"]
    assert callable(SQLTrackerStore.__dict__["session_scope"])
    columns = {column.name for column in SQLTrackerStore.SQLEvent.__table__.columns}
    assert columns == {
        "id", "sender_id", "type_name", "timestamp", "intent_name", "action_name", "data"
    }
    # Rasa's own save writes its rows this way: the masking store's save mirrors it.
    save = _rasas_own(SQLTrackerStore, "save")
    assert {"stream_events", "session_scope", "_additional_events", "SQLEvent"} <= set(
        save.__code__.co_names
    )
    values = rasa_internals.event_values(
        "visitor", "user",
        {"event": "user", "timestamp": 1.5, "parse_data": {"intent": {"name": "greet"}}},
    )
    assert set(values) == columns - {"id"}
    row = SQLTrackerStore.SQLEvent(**values)
    assert (row.sender_id, row.type_name, row.timestamp, row.intent_name, row.action_name) == (
        "visitor", "user", 1.5, "greet", None
    )
    # A slot event's row names the slot in `action_name` (the windowed retrieve groups by it).
    assert rasa_internals.event_values("v", "slot", {"event": "slot", "name": "crisis_mode"})[
        "action_name"] == "crisis_mode"
    # The latest session is what Rasa's _event_query selects: from the newest session_started
    # (by timestamp) on; the masking store's windowed retrieve selects the same way.
    query = _rasas_own(SQLTrackerStore, "_event_query")
    assert _parameters(query) == ["self", "session", "sender_id", "fetch_events_from_all_sessions"]
    assert {"SessionStarted", "timestamp", "session_start"} <= set(query.__code__.co_names)


# ------------------------------------------- 4. LockStore._acquire_lock (deploy.lock_store)


def test_the_lock_store_awaits_acquire_lock_with_the_overridden_signature() -> None:
    acquire_lock = _rasas_own(LockStore, "_acquire_lock")
    assert inspect.iscoroutinefunction(acquire_lock)
    assert _parameters(acquire_lock) == list(rasa_internals.ACQUIRE_LOCK_PARAMETERS)
    assert inspect.signature(acquire_lock).return_annotation in (TicketLock, "TicketLock")
    # Called by LockStore.lock with these arguments, and not redefined by RedisLockStore.
    assert "self._acquire_lock(\n                conversation_id, ticket, wait_time_in_seconds" in (
        inspect.getsource(LockStore.lock)
    )
    assert "_acquire_lock" not in RedisLockStore.__dict__
    override = rasa_internals.TurnWaitingRedisLockStore.__dict__["_acquire_lock"]
    assert inspect.signature(override).parameters.keys() == (
        inspect.signature(acquire_lock).parameters.keys()
    )
    # The tickets the override renews.
    lock = TicketLock("conversation")
    assert _parameters(Ticket) == ["number", "expires"]
    lock.tickets.append(Ticket(3, 10.0))
    found = rasa_internals.find_ticket(lock, 3)
    assert found is not None and found.expires == 10.0
    assert rasa_internals.find_ticket(lock, 4) is None
    # deploy.lock_store renews its own tickets' expiry in a lock read from Redis.
    lock.tickets.append(Ticket(4, 10.0))
    assert rasa_internals.renew_tickets(lock, {4, 9}, 99.0)
    assert [(t.number, t.expires) for t in lock.tickets] == [(3, 10.0), (4, 99.0)]
    assert not rasa_internals.renew_tickets(lock, {9}, 99.0)
    assert TicketLock.from_dict(json.loads(lock.dumps())).tickets[1].expires == 99.0


# ---------------------------------------- 5. the loggers of a failed turn (the REST channel)


@pytest.mark.parametrize("module, logs", [
    (processor_module, "Encountered an exception while running action"),
    (action_module, "Failed to run custom action"),
])
def test_the_watched_loggers_are_the_ones_rasa_logs_a_failed_turn_to(
    module: Any, logs: str
) -> None:
    assert module.__name__ in rasa_internals.TURN_ERROR_LOGGERS
    assert module.logger is logging.getLogger(module.__name__)
    source = inspect.getsource(module)
    assert logs in source
    assert "logger.exception(" in source or "logger.error(" in source


def test_every_watched_logger_is_a_rasa_module_logger() -> None:
    assert set(rasa_internals.TURN_ERROR_LOGGERS) == {
        processor_module.__name__, action_module.__name__
    }


# ---------------------------------------------- 6. rasa.__main__.main (python -m clinic_speedups)


def test_the_rasa_command_line_reads_its_arguments_from_sys_argv() -> None:
    from rasa.__main__ import main

    assert _parameters(main) == []
    assert "parse_args()" in inspect.getsource(main)


# ------------------------------ 7. the agent behind the chat channels (message ids, the channel)


def test_the_channels_hand_messages_to_the_agent_which_runs_them_in_the_conversation_lock(
) -> None:
    assert "app.ctx.agent.handle_message(message)" in inspect.getsource(channel_module.register)
    handle = inspect.getsource(_rasas_own(Agent, "handle_message"))
    assert "if not self.is_ready():" in handle
    assert "async with self.lock_store.lock(message.sender_id):" in handle
    assert "await self.processor.handle_message(" in handle

    class App:
        class ctx:  # noqa: N801 (as Sanic's app.ctx)
            agent = Agent()

    agent = rasa_internals.channel_agent(App())
    assert agent is App.ctx.agent and rasa_internals.channel_agent(object()) is None
    handled: List[str] = []
    holding: List[bool] = []

    class Processor:
        async def handle_message(self, message: UserMessage) -> None:
            holding.append(agent.lock_store.get_lock("visitor") is not None)
            handled.append(message.text or "")

    agent.processor = Processor()  # type: ignore[assignment]
    assert agent.is_ready()

    async def run(earlier: Any) -> Any:
        async def look() -> Any:
            holding.append(agent.lock_store.get_lock("visitor") is not None)
            return earlier

        message = UserMessage("hi", CollectingOutputChannel(), "visitor")
        return await rasa_internals.handle_in_conversation_lock(agent, message, look)

    assert asyncio.run(run(None)) is None and handled == ["hi"]
    assert asyncio.run(run(["stored"])) == ["stored"] and handled == ["hi"]
    assert holding == [True, True, True]  # the look-up and the turn, inside the lock


# --------------------------------------------- 8. Event.resolve_by_type (clinic_speedups)


def test_an_events_class_is_the_first_subclass_with_its_type_name() -> None:
    from rasa.shared.core.events import ActionExecuted, Event, SlotSet

    resolve = Event.__dict__["resolve_by_type"]
    assert isinstance(resolve, staticmethod)
    assert _parameters(resolve.__func__) == ["type_name", "default"]
    assert {"all_subclasses"} <= set(resolve.__func__.__code__.co_names)
    classes = list(rasa_internals.event_classes())
    for type_name, cls in (("slot", SlotSet), ("action", ActionExecuted)):
        assert Event.resolve_by_type(type_name) is cls
        assert next(c for c in classes if c.type_name == type_name) is cls
    assert Event.resolve_by_type("nonsense", SlotSet) is SlotSet
    with pytest.raises(ValueError):
        Event.resolve_by_type("nonsense")
    calls: List[str] = []

    def wrap(original: Any) -> Any:
        def counted(type_name: str, default: Any = None) -> Any:
            calls.append(type_name)
            return original(type_name, default)
        return counted

    restore = rasa_internals.replace_event_type_lookup(wrap)
    try:
        assert Event.from_parameters({"event": "slot", "name": "x", "value": 1}) == SlotSet("x", 1)
        assert calls == ["slot"]
    finally:
        restore()
    assert Event.__dict__["resolve_by_type"] is resolve


# ---------------------------------- 9. the graph runner of a served model (clinic_speedups)


def test_the_processor_loads_models_with_the_module_level_dask_graph_runner() -> None:
    from rasa.engine.graph import GraphNode
    from rasa.engine.runner.dask import DaskGraphRunner

    assert processor_module.DaskGraphRunner is DaskGraphRunner or issubclass(
        processor_module.DaskGraphRunner, DaskGraphRunner)
    loads = [name for name, value in vars(processor_module.MessageProcessor).items()
             if "DaskGraphRunner" in getattr(
                 getattr(getattr(value, "__func__", value), "__code__", None), "co_names", ())]
    assert loads  # a method that names the module's DaskGraphRunner when it loads a model
    init = DaskGraphRunner.__init__.__code__.co_names
    assert {"_graph_schema", "_instantiated_nodes"} <= set(init)
    run = _rasas_own(DaskGraphRunner, "run")
    assert {"minimal_graph_schema", "_build_dask_graph", "_add_inputs_to_graph"} <= set(
        run.__code__.co_names)
    assert _parameters(run) == ["self", "inputs", "targets"]
    assert _parameters(GraphNode.__call__) == ["self", "inputs_from_previous_nodes"]
    restore = rasa_internals.replace_predict_graph_runner(rasa_internals.SequentialGraphRunner)
    try:
        assert processor_module.DaskGraphRunner is rasa_internals.SequentialGraphRunner
    finally:
        restore()


# ----------------------------------------------- 10. loading a model as PUT /model loads it


def test_put_model_loads_an_agent_from_the_endpoints_and_keeps_the_lock_store() -> None:
    import rasa.server as server_module
    from rasa.core.agent import load_agent
    from rasa.core.utils import read_endpoints_from_path

    route = inspect.getsource(server_module.create_app)
    put_model = route[route.index("async def load_model"):route.index("async def unload_model")]
    assert "_load_agent(" in put_model
    assert "new_agent.lock_store = app.ctx.agent.lock_store" in put_model
    assert "app.ctx.agent = new_agent" in put_model
    loader = inspect.getsource(server_module._load_agent)
    assert "rasa.core.agent.load_agent(" in loader and "is_ready()" in loader
    assert _parameters(load_agent)[:4] == ["model_path", "model_server", "remote_storage",
                                           "endpoints"]
    assert _parameters(read_endpoints_from_path) == ["endpoints_path"]


def test_the_served_model_file_is_the_processors_model_path(tmp_path: Path) -> None:
    agent = Agent()
    assert rasa_internals.served_model_path(agent) is None
    source = inspect.getsource(processor_module.MessageProcessor.__init__)
    assert "self.model_path = Path(model_path)" in source


def test_the_endpoints_file_is_the_servers_command_lines() -> None:
    assert rasa_internals.server_endpoints_file(
        ["rasa", "run", "--endpoints", "deploy/endpoints.yml"]) == "deploy/endpoints.yml"
    assert rasa_internals.server_endpoints_file(["rasa", "run", "--endpoints=e.yml"]) == "e.yml"
    assert rasa_internals.server_endpoints_file(["rasa", "run"]) == "endpoints.yml"


def test_a_model_is_loaded_into_the_app_as_put_model_does(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    import rasa.core.agent as agent_module

    loaded: Dict[str, Any] = {}
    new_agent = Agent()

    async def fake_load_agent(model_path: str, endpoints: Any = None, **_: Any) -> Agent:
        loaded.update(model_path=model_path, endpoints=endpoints)
        new_agent.tracker_store, new_agent.processor = object(), object()  # type: ignore
        return new_agent

    monkeypatch.setattr(agent_module, "load_agent", fake_load_agent)
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("action_endpoint:\n  url: http://127.0.0.1:1/webhook\n")
    monkeypatch.setattr(sys, "argv", ["rasa", "run", "--endpoints", str(endpoints)])
    old = Agent()
    old.lock_store = "the old lock store"  # type: ignore[assignment]

    class App:
        class ctx:  # noqa: N801 (Sanic's name)
            agent = old

    agent = asyncio.run(rasa_internals.load_model_as_put_model(App, "models/x.tar.gz"))
    assert agent is new_agent and App.ctx.agent is new_agent
    assert agent.lock_store == "the old lock store"
    assert loaded["model_path"] == "models/x.tar.gz"
    assert loaded["endpoints"].action.url == "http://127.0.0.1:1/webhook"


# ------------------------------------- 11. several Sanic workers, each on its own socket


def test_sanic_starts_several_workers_with_the_module_level_serve_multiple() -> None:
    import sanic
    import sanic.app as sanic_app
    from sanic.server import runners

    assert sanic.__version__ == "21.12.2"
    assert "serve_multiple(server_settings, workers)" in inspect.getsource(sanic_app.Sanic.run)
    restore = rasa_internals.replace_serve_multiple(lambda settings, workers: None)
    try:
        assert sanic_app.serve_multiple is not runners.serve_multiple
    finally:
        restore()
    assert sanic_app.serve_multiple is runners.serve_multiple
    # What serve_on_own_sockets copies: Sanic's function, apart from the shared socket.
    original = inspect.getsource(runners.serve_multiple)
    for step in ('server_settings["reuse_port"] = True', 'server_settings["run_multiple"] = True',
                 'server_settings.pop("main_start", None)', "trigger_events(main_start, loop)",
                 'multiprocessing.get_context("fork")', "target=serve,", "process.daemon = True",
                 "trigger_events(main_stop, loop)", "sock = bind_socket("):
        assert step in original, step
    assert _parameters(runners.serve)[:3] == ["host", "port", "app"]
    assert "reuse_port" in _parameters(runners.serve)


# ------------------------------------- 12. the action endpoint read from the endpoints file


def test_the_action_endpoint_is_read_in_read_endpoints_and_called_through_request(
    tmp_path: Path,
) -> None:
    import rasa.cli.run as cli_run
    from rasa.core.utils import AvailableEndpoints, read_endpoints_from_path
    from rasa.utils.endpoints import EndpointConfig

    # rasa run and PUT /model read the endpoints file through AvailableEndpoints.read_endpoints.
    assert "AvailableEndpoints.read_endpoints(" in inspect.getsource(cli_run)
    assert "AvailableEndpoints.read_endpoints(" in inspect.getsource(read_endpoints_from_path)
    # RemoteAction.run sends the action call to its endpoint's public request, then checks and
    # renders the reply as it comes back.
    run = inspect.getsource(RemoteAction.run)
    assert "json_body = self._action_call_format(tracker, domain)" in run
    assert "await self.action_endpoint.request(" in run
    assert "json=modified_json if modified_json else json_body" in run
    assert 'method="post"' in run and "self._validate_action_result(response)" in run
    assert _parameters(EndpointConfig.request)[:5] == [
        "self", "method", "subpath", "content_type", "compress"]
    endpoints_file = tmp_path / "endpoints.yml"
    endpoints_file.write_text("action_endpoint:\n  url: http://127.0.0.1:1/webhook\n")
    seen: List[Any] = []

    def wrap(endpoint: Any) -> Any:
        seen.append(endpoint)
        return "wrapped"

    restore = rasa_internals.wrap_action_endpoint(wrap)
    try:
        assert read_endpoints_from_path(str(endpoints_file)).action == "wrapped"
        assert seen[0].url == "http://127.0.0.1:1/webhook"
    finally:
        restore()
    assert AvailableEndpoints.read_endpoints(str(endpoints_file)).action.url == (
        "http://127.0.0.1:1/webhook")
