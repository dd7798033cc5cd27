"""The clinic settings file: bad settings stop start-up with a message naming them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clinic.settings import SettingsError, load_settings
from tests.conftest import PROJECT_DIR, SATURDAY, SETTINGS_TEXT, TUESDAY_MORNING


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "clinic.yml"
    path.write_text(text)
    return path


def test_the_shipped_settings_load_and_warn_about_the_placeholder_booking_url() -> None:
    settings = load_settings(PROJECT_DIR / "settings" / "clinic.yml")
    assert settings.phone == "415-249-2580"
    assert settings.phone_link == "tel:+14152492580"
    assert any("booking_url" in warning for warning in settings.warnings())


def test_opening_hours_follow_the_clinic_time_zone(settings_file: Path) -> None:
    settings = load_settings(settings_file)
    assert settings.is_open(TUESDAY_MORNING)
    assert not settings.is_open(SATURDAY)
    assert settings.warnings() == []


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ('phone: "415-249-2580"\n', "", "'phone' is missing"),
        ('"415-249-2580"', '"call us"', "'phone' is malformed"),
        ('"https://booking.clinic.test/consultation"', '"booking page"', "'booking_url'"),
        ('tuesday: "09:00-17:00"', 'tuesday: "9 to 5"', "'opening_hours.tuesday'"),
        ('tuesday: "09:00-17:00"', 'tuesday: "17:00-09:00"', "closes before it opens"),
        ('  sunday: closed\n', "", "'opening_hours.sunday' is missing"),
        ('"America/Los_Angeles"', '"Pacific"', "'time_zone'"),
    ],
)
def test_a_bad_setting_is_named(tmp_path: Path, old: str, new: str, named: str) -> None:
    assert old in SETTINGS_TEXT
    with pytest.raises(SettingsError, match=named):
        load_settings(write(tmp_path, SETTINGS_TEXT.replace(old, new)))


def test_widget_origins_must_be_bare_web_addresses(tmp_path: Path) -> None:
    good = SETTINGS_TEXT + 'widget_origins: ["https://www.clinic.test", "http://localhost:8080"]\n'
    assert load_settings(write(tmp_path, good)).widget_origins == (
        "https://www.clinic.test", "http://localhost:8080",
    )
    bad = SETTINGS_TEXT + 'widget_origins: ["https://www.clinic.test/chat"]\n'
    with pytest.raises(SettingsError, match="'widget_origins'"):
        load_settings(write(tmp_path, bad))


def test_retention_days_defaults_to_30_and_must_be_a_whole_number_of_days(
    tmp_path: Path,
) -> None:
    assert load_settings(PROJECT_DIR / "settings" / "clinic.yml").retention_days == 30
    assert load_settings(write(tmp_path, SETTINGS_TEXT)).retention_days == 30
    ninety = write(tmp_path, SETTINGS_TEXT + "retention_days: 90\n")
    assert load_settings(ninety).retention_days == 90
    for bad in ("0", "-5", "thirty", "1.5", "yes", "99999"):
        with pytest.raises(SettingsError, match="'retention_days' is malformed"):
            load_settings(write(tmp_path, SETTINGS_TEXT + f"retention_days: {bad}\n"))


def test_a_missing_or_broken_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not found"):
        load_settings(tmp_path / "nowhere.yml")
    with pytest.raises(SettingsError, match="not valid YAML"):
        load_settings(write(tmp_path, "phone: [unclosed"))


def test_the_action_server_refuses_to_start_with_a_bad_setting(tmp_path: Path) -> None:
    bad = write(tmp_path, SETTINGS_TEXT.replace('"America/Los_Angeles"', '"Mars/Olympus"'))
    env = {**os.environ, "CLINIC_SETTINGS": str(bad), "PYTHONPATH": str(PROJECT_DIR)}
    result = subprocess.run(
        [sys.executable, "-c", "import actions.actions"],
        env=env, capture_output=True, text=True, cwd=PROJECT_DIR, timeout=120,
    )
    assert result.returncode == 1
    assert "setting 'time_zone'" in result.stderr
    assert "Traceback" not in result.stderr
