"""Shared fixtures: clinic settings, trackers, and a trained model."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterator, Optional

import pytest
from rasa_sdk import Tracker

from clinic.paths import PROJECT_DIR
from clinic.settings import ClinicSettings, load_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from tests.fixtures.clinic_store import ClinicStore

MODEL_PATH = PROJECT_DIR / "models" / "clinic.tar.gz"
PACIFIC = dt.timezone(dt.timedelta(hours=-8))
# Tuesday 24 Nov 2026, 10:00 in San Francisco: the phone line is open.
TUESDAY_MORNING = dt.datetime(2026, 11, 24, 10, 0, tzinfo=PACIFIC)
# Saturday 28 Nov 2026, 11:00: closed until Monday 09:00.
SATURDAY = dt.datetime(2026, 11, 28, 11, 0, tzinfo=PACIFIC)

SETTINGS_TEXT = """\
phone: "415-249-2580"
booking_url: "https://booking.clinic.test/consultation"
opening_hours:
  monday: "09:00-17:00"
  tuesday: "09:00-17:00"
  wednesday: "09:00-17:00"
  thursday: "09:00-17:00"
  friday: "09:00-17:00"
  saturday: closed
  sunday: closed
time_zone: "America/Los_Angeles"
"""


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.yml"
    path.write_text(SETTINGS_TEXT)
    return path


@pytest.fixture
def settings(settings_file: Path) -> ClinicSettings:
    return load_settings(settings_file)


def make_tracker(
    intent: str = "book_consultation",
    slots: Optional[Dict[str, Any]] = None,
    faq_key: Optional[str] = None,
    text: str = "",
    entities: Optional[Dict[str, str]] = None,
) -> Tracker:
    """A tracker whose latest message has `intent` (and an FAQ answer key, if given)."""
    latest: Dict[str, Any] = {
        "text": text, "intent": {"name": intent, "confidence": 0.99},
        "entities": [{"entity": k, "value": v} for k, v in (entities or {}).items()],
    }
    if faq_key:
        latest["response_selector"] = {
            "faq": {"response": {"intent_response_key": f"faq/{faq_key}", "confidence": 0.9}}
        }
    return Tracker(
        sender_id="test-visitor",
        slots=slots or {},
        latest_message=latest,
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@pytest.fixture(scope="module")
def clinic_store(tmp_path_factory: pytest.TempPathFactory) -> ClinicStore:
    """A tracker store with a week of conversations (tests/fixtures/clinic_store.py), per module."""
    from tests.fixtures.clinic_store import ClinicStore  # loads Rasa: only where it is used

    return ClinicStore(tmp_path_factory.mktemp("clinic_store"))


@pytest.fixture
def clinic_engine(clinic_store: ClinicStore) -> Iterator[Engine]:
    """An engine on `clinic_store`'s database, disposed of after the test."""
    engine = clinic_store.engine()
    yield engine
    engine.dispose()
