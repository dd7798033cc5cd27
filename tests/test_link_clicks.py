"""Clicks on the widget's booking link and the clinic's phone number: the channel's route, the
row it stores, the dashboard that counts them and the retention that deletes them (no servers;
tests/test_robustness.py and tests/test_widget_browser.py do the same against the real ones)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from sanic.response import HTTPResponse

from clinic.run_state import MachineState
from clinic.settings import load_settings
from clinic_server import rest_channel
from clinic_server.rest_channel import BadRequest, ClinicRestInput, Limits, parse_link_click
from clinic_server.tracker_store import MaskingSQLTrackerStore, current_store
from staff_tools.dashboard import dashboard, dashboard_charts
from staff_tools.retention import forget_older_than
from tests.conftest import PROJECT_DIR
from tests.fixtures.clinic_store import MONDAY, TUESDAY, ZONE

DOMAIN = Domain.load(str(PROJECT_DIR / "domain.yml"))
MALFORMED = {
    "not JSON": b"link=booking",
    "not an object": b'["booking"]',
    "a string": b'"booking"',
    "no link": b"{}",
    "another link": b'{"link": "crisis"}',
    "a 988 link": b'{"link": "tel:988"}',
    "the link in capitals": b'{"link": "BOOKING"}',
    "a number": b'{"link": 1}',
    "a conversation id too": b'{"link": "booking", "sender": "web-1234"}',
    "text too": b'{"link": "phone", "message": "my number is 415 555 0199"}',
    "not UTF-8": b'{"link": "\xff"}',
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MaskingSQLTrackerStore]:
    created = MaskingSQLTrackerStore(DOMAIN, host=f"sqlite:///{tmp_path / 'tracker.db'}")
    yield created
    created.engine.dispose()


def rows(store: MaskingSQLTrackerStore) -> List[Dict[str, Any]]:
    with store.engine.connect() as connection:
        result = connection.exec_driver_sql("select * from link_clicks order by timestamp")
        return [dict(row._mapping) for row in result]


# ---- the body ------------------------------------------------------------------------------

@pytest.mark.parametrize("link", ["booking", "phone"])
def test_the_two_links_are_accepted(link: str) -> None:
    assert parse_link_click(json.dumps({"link": link}).encode()) == link


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_anything_else_is_a_400_that_says_what_to_send(body: bytes) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_link_click(body)
    assert refused.value.status == 400
    assert '{"link": "booking"} or {"link": "phone"}' in refused.value.message


# ---- the row -------------------------------------------------------------------------------

def test_a_click_is_one_row_with_the_minute_and_the_link_and_nothing_else(
    store: MaskingSQLTrackerStore,
) -> None:
    assert current_store() is store  # the store the Rasa server created last records clicks
    minute = 1_700_000_040.0  # 2023-11-14 22:14:00 UTC
    store.record_link_click("booking", minute + 59.9)
    store.record_link_click("phone", minute + 60)
    assert rows(store) == [{"timestamp": minute, "link": "booking"},
                           {"timestamp": minute + 60, "link": "phone"}]
    with pytest.raises(ValueError):
        store.record_link_click("crisis", time.time())
    assert len(rows(store)) == 2


def test_the_table_is_created_once_even_if_another_server_made_it_first(
    store: MaskingSQLTrackerStore,
) -> None:
    with store.engine.begin() as connection:  # as another Rasa server would have
        connection.exec_driver_sql("create table link_clicks (timestamp float, link varchar)")
    store.ensure_link_clicks_table()
    store.record_link_click("phone", time.time())
    assert [row["link"] for row in rows(store)] == ["phone"]


def test_the_dashboard_counts_the_recorded_clicks(store: MaskingSQLTrackerStore) -> None:
    engine = sa.create_engine(str(store.engine.url))
    assert dashboard(engine, MONDAY, TUESDAY, ZONE).handoffs.booking_clicks is None
    store.ensure_link_clicks_table()  # what the channel does when the server starts
    assert dashboard(engine, MONDAY, TUESDAY, ZONE).handoffs.booking_clicks == 0
    monday_noon = dt.datetime(2026, 11, 23, 12, tzinfo=ZONE).timestamp()
    for link, when in [("booking", monday_noon), ("booking", monday_noon + 3600),
                       ("phone", monday_noon), ("phone", monday_noon - 86400)]:
        store.record_link_click(link, when)
    board = dashboard(engine, MONDAY, TUESDAY, ZONE)
    assert (board.handoffs.booking_clicks, board.handoffs.phone_clicks) == (2, 1)
    handoffs = next(chart for chart in dashboard_charts(board) if chart.key == "handoffs")
    assert "Booking link clicked: 2" in handoffs.svg and "Phone number tapped: 1" in handoffs.svg
    engine.dispose()


def test_retention_deletes_the_clicks_older_than_the_cutoff(
    store: MaskingSQLTrackerStore,
) -> None:
    now = time.time()
    for days in (40, 31, 29, 0):
        store.record_link_click("booking", now - days * 86400)
    engine = sa.create_engine(str(store.engine.url))
    cutoff = now - 30 * 86400
    assert forget_older_than(engine, cutoff, dry_run=True).clicks == 2
    assert len(rows(store)) == 4
    assert forget_older_than(engine, cutoff).clicks == 2
    assert len(rows(store)) == 2
    engine.dispose()


# ---- the route, with a request as Sanic hands it over ----------------------------------------

class Stream:
    def __init__(self, body: bytes) -> None:
        self.chunks = [body[i:i + 1000] for i in range(0, len(body), 1000)]

    async def read(self) -> Optional[bytes]:
        return self.chunks.pop(0) if self.chunks else None


class Request:
    """The parts of a Sanic request the route reads."""

    def __init__(self, body: bytes, ip: str = "10.0.0.1") -> None:
        self.headers = {"content-length": str(len(body))}
        self.stream = Stream(body)
        self.remote_addr, self.ip = ip, ip

        class App:
            class config:  # noqa: N801
                REQUEST_MAX_SIZE = 2_097_152

        self.app = App


def click(channel: ClinicRestInput, body: bytes, ip: str = "10.0.0.1") -> HTTPResponse:
    async def handle() -> HTTPResponse:
        try:
            return await channel._record_click(Request(body, ip))  # type: ignore[arg-type]
        except BadRequest as refusal:  # as the route does
            return refusal.response()

    return asyncio.run(handle())


def refusal(response: HTTPResponse) -> Dict[str, str]:
    assert response.content_type == "application/json"
    return dict(json.loads(response.body))


@pytest.fixture
def channel(tmp_path: Path) -> ClinicRestInput:
    return ClinicRestInput(Limits(max_body_bytes=1024, rate_window_seconds=60, rate_per_ip=3),
                           load_settings(), MachineState(tmp_path / "run-state.sqlite"))


def test_a_post_records_one_row_and_a_bad_body_is_refused(
    channel: ClinicRestInput, store: MaskingSQLTrackerStore, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger=rest_channel.__name__)
    assert click(channel, b'{"link": "booking"}').status == 204
    assert [row["link"] for row in rows(store)] == ["booking"]
    bad = click(channel, b'{"link": "booking", "message": "secret words"}', ip="10.0.0.2")
    assert bad.status == 400 and "'link'" in refusal(bad)["message"]
    assert [row["link"] for row in rows(store)] == ["booking"]
    assert "secret words" not in caplog.text and "Traceback" not in caplog.text


def test_the_webhooks_body_and_per_ip_limits_apply(
    channel: ClinicRestInput, store: MaskingSQLTrackerStore,
) -> None:
    too_large = click(channel, b'{"link": "phone"' + b" " * 2000 + b"}")
    assert too_large.status == 413 and refusal(too_large)["error"] == "body_too_large"
    for _ in range(3):
        assert click(channel, b'{"link": "phone"}').status == 204
    limited = click(channel, b'{"link": "phone"}')
    assert limited.status == 429 and int(limited.headers["Retry-After"]) >= 1
    assert click(channel, b'{"link": "phone"}', ip="10.0.0.9").status == 204  # another client
    assert len(rows(store)) == 4


def test_without_the_sql_store_a_click_is_a_503_not_a_traceback(
    channel: ClinicRestInput, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(rest_channel, "current_store", lambda: None)
    response = click(channel, b'{"link": "booking"}')
    assert response.status == 503 and refusal(response)["error"] == "not_recorded"
    assert "Traceback" not in caplog.text
