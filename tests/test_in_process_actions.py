"""The follow-up after an FAQ answer, run in the Rasa server's process (endpoints.yml
`run_in_process`): the same reply as from the action server, and no action server needed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Iterator, List

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.faq_follow_up import ActionFaqFollowUp
from clinic import launcher
from clinic_speedups import install, uninstall
from clinic_speedups.in_process_actions import InProcessActionEndpoint, InProcessActionsError

ROOT = Path(__file__).resolve().parents[1]
# Nothing listens here: a call that went over HTTP would fail to connect.
NO_ACTION_SERVER = "http://127.0.0.1:9/webhook"
FOLLOW_UPS = ["action_faq_follow_up", "action_faq_phone_only"]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def faq_tracker(domain: Domain, key: str) -> DialogueStateTracker:
    parse = {
        "text": "is it fda approved", "intent": {"name": "faq", "confidence": 0.99},
        "entities": [],
        "response_selector": {
            "faq": {"response": {"intent_response_key": f"faq/{key}", "confidence": 0.9}}},
    }
    return DialogueStateTracker.from_events(
        "visitor", [ActionExecuted("action_listen"),
                    UserUttered(parse["text"], parse["intent"], [], parse_data=parse)],
        slots=domain.slots,
    )


def run_remote(name: str, endpoint: EndpointConfig, tracker: DialogueStateTracker,
               domain: Domain) -> List[Event]:
    action = RemoteAction(name, endpoint)
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    return asyncio.run(action.run(CollectingOutputChannel(), nlg, tracker, domain))


def in_process(names: List[str] = FOLLOW_UPS) -> EndpointConfig:
    return InProcessActionEndpoint.from_endpoint(EndpointConfig(
        url=NO_ACTION_SERVER, enable_selective_domain=True, run_in_process=names))


def test_the_follow_up_is_the_actions_own_reply_without_an_action_server(domain: Domain) -> None:
    tracker = faq_tracker(domain, "fda_status")
    events = run_remote("action_faq_follow_up", in_process(), tracker, domain)
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionFaqFollowUp().run(
        dispatcher, Tracker.from_dict(tracker.current_state()), {}))
    [expected] = dispatcher.messages
    [uttered] = events
    assert isinstance(uttered, BotUttered)
    assert uttered.text == expected["text"] and "book a consultation" in uttered.text
    assert uttered.data["buttons"] == expected["buttons"]
    assert uttered.data["buttons"][-1]["payload"] == "/book_consultation"


def test_a_topic_the_article_does_not_answer_is_handed_off_in_process(domain: Domain) -> None:
    [uttered] = run_remote("action_faq_follow_up", in_process(),
                           faq_tracker(domain, "cost_insurance"), domain)
    urls = [button.get("url") for button in uttered.data["buttons"]]
    assert "415" in uttered.text or any(str(url).startswith("tel:") for url in urls)


def test_actions_not_named_still_go_to_the_action_server(domain: Domain) -> None:
    endpoint = in_process(["action_faq_phone_only"])
    with pytest.raises(RasaException, match="Couldn't connect"):
        run_remote("action_faq_follow_up", endpoint, faq_tracker(domain, "fda_status"), domain)


def test_an_endpoint_naming_no_action_is_left_as_rasa_reads_it() -> None:
    endpoint = EndpointConfig(url=NO_ACTION_SERVER, enable_selective_domain=True)
    assert InProcessActionEndpoint.from_endpoint(endpoint) is endpoint


def test_the_endpoint_keeps_its_url_and_rasas_own_switches() -> None:
    endpoint = in_process()
    assert isinstance(endpoint, InProcessActionEndpoint)
    assert endpoint.url == NO_ACTION_SERVER
    assert endpoint.kwargs == {"enable_selective_domain": True}
    assert endpoint.in_process == set(FOLLOW_UPS)


@pytest.mark.parametrize("names, says", [
    (["action_faq_follow_up", "action_make_coffee"], "no action named action_make_coffee"),
    ("action_faq_follow_up", "expected a list of action names"),
    (3, "expected a list of action names"),
])
def test_a_wrong_list_is_a_clear_error_at_start_up(names: Any, says: str) -> None:
    with pytest.raises(InProcessActionsError, match=says):
        in_process(names)


def test_a_failing_action_fails_the_turn_as_a_failing_action_server_does(
    domain: Domain, monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(self: Any, dispatcher: Any, tracker: Any, domain: Any) -> None:
        raise KeyError("settings")

    monkeypatch.setattr(ActionFaqFollowUp, "run", broken)
    with pytest.raises(RasaException, match="Failed to execute custom action"):
        run_remote("action_faq_follow_up", in_process(), faq_tracker(domain, "fda_status"),
                   domain)


@pytest.fixture
def project_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment variables endpoints.yml reads, as `make run` sets them."""
    for name, value in launcher.environment().items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def speedups(project_environment: None) -> Iterator[None]:
    install()
    try:
        yield
    finally:
        uninstall()


def test_the_server_reads_endpoints_yml_with_the_follow_ups_in_process(speedups: None) -> None:
    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml"))
    assert isinstance(endpoints.action, InProcessActionEndpoint)
    assert endpoints.action.in_process == set(FOLLOW_UPS)
    assert endpoints.action.kwargs.get("enable_selective_domain") is True


def test_without_the_speed_ups_rasa_reads_the_plain_endpoint(project_environment: None) -> None:
    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml"))
    assert type(endpoints.action) is EndpointConfig


def test_an_action_refusing_to_run_is_rasas_rejection_as_from_the_action_server(
    domain: Domain, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rasa_sdk.interfaces import ActionExecutionRejection as SdkRejection

    from clinic_server.rasa_internals import action_rejection

    async def refuse(self: Any, dispatcher: Any, tracker: Any, domain: Any) -> None:
        raise SdkRejection("action_faq_follow_up", "not now")

    monkeypatch.setattr(ActionFaqFollowUp, "run", refuse)
    expected = type(action_rejection("x", None))
    with pytest.raises(expected, match="not now"):
        run_remote("action_faq_follow_up", in_process(), faq_tracker(domain, "fda_status"),
                   domain)
