"""The clinic's settings (phone, booking URL, hours, time zone, retention), read from one file.

The file is `settings/clinic.yml`, or the path in the `CLINIC_SETTINGS` environment variable.
Every problem is reported as a `SettingsError` that names the setting, so the action server
fails at start-up with a message staff can act on instead of sending broken replies.

    python -m clinic.settings       # check the file, print the settings and any warnings
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clinic.paths import CLINIC_SETTINGS_FILE
from clinic.phone import is_phone_number
from clinic.wording import ENGLISH_WORDING, Wording
from clinic.yaml_file import read_yaml

DEFAULT_SETTINGS_FILE = CLINIC_SETTINGS_FILE
SETTINGS_ENV_VAR = "CLINIC_SETTINGS"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PLACEHOLDER_HOSTS = {"example.com", "www.example.com", "example.org", "example.net"}
DEFAULT_RETENTION_DAYS = 30  # docs/privacy.md explains the choice
MAX_RETENTION_DAYS = 3650

_HOURS_PATTERN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")

OpeningHours = Dict[str, Optional[Tuple[dt.time, dt.time]]]
Clock = Callable[[], dt.datetime]


class SettingsError(ValueError):
    """A missing or malformed clinic setting."""


@dataclass(frozen=True)
class ClinicSettings:
    """What the assistant knows about how to reach the clinic."""

    phone: str
    booking_url: str
    opening_hours: OpeningHours
    time_zone: ZoneInfo
    widget_origins: Tuple[str, ...] = ()
    retention_days: int = DEFAULT_RETENTION_DAYS

    @property
    def phone_link(self) -> str:
        """The phone as a `tel:` URI, digits only, with the US country code."""
        digits = re.sub(r"\D", "", self.phone)
        if len(digits) == 10:
            digits = "1" + digits
        return f"tel:+{digits}"

    @property
    def booking_url_is_placeholder(self) -> bool:
        """True while the booking URL is still the shipped example address."""
        return (urlparse(self.booking_url).hostname or "") in PLACEHOLDER_HOSTS

    def is_open(self, moment: dt.datetime) -> bool:
        """Whether the phone line is staffed at `moment` (an aware datetime)."""
        local = moment.astimezone(self.time_zone)
        hours = self.opening_hours[WEEKDAYS[local.weekday()]]
        return hours is not None and hours[0] <= local.time() < hours[1]

    def next_opening(
        self, moment: dt.datetime, words: Wording = ENGLISH_WORDING
    ) -> Optional[str]:
        """When the phone line opens next; None if it never opens.

        'today at 09:00', 'tomorrow at 09:00' or 'Monday at 09:00', in the language of `words`.
        """
        local = moment.astimezone(self.time_zone)
        for days_ahead in range(0, 8):
            day = local + dt.timedelta(days=days_ahead)
            hours = self.opening_hours[WEEKDAYS[day.weekday()]]
            if hours is None or (days_ahead == 0 and local.time() >= hours[0]):
                continue
            return words.day_at_time.format(
                day=words.day_name(day.weekday(), days_ahead), time=f"{hours[0]:%H:%M}")
        return None

    def warnings(self) -> List[str]:
        """Problems that do not stop the assistant but that staff should fix."""
        if self.booking_url_is_placeholder:
            return [
                f"booking_url is still the placeholder '{self.booking_url}': "
                "put the clinic's real calendar address in the settings file."
            ]
        return []


def _require(raw: Mapping[str, Any], key: str, source: Path, name: str = "") -> Any:
    if key not in raw or raw[key] in (None, ""):
        raise SettingsError(f"{source}: setting '{name or key}' is missing")
    return raw[key]


def _parse_phone(value: Any, source: Path) -> str:
    if not isinstance(value, str) or not is_phone_number(value.strip()):
        raise SettingsError(
            f"{source}: setting 'phone' is malformed ({value!r}); write it like \"415-249-2580\""
        )
    return value.strip()


def _parse_booking_url(value: Any, source: Path) -> str:
    parsed = urlparse(str(value).strip())
    if parsed.scheme != "https" or not parsed.hostname:
        raise SettingsError(
            f"{source}: setting 'booking_url' is malformed ({value!r}); "
            "it must be a full https:// address"
        )
    return str(value).strip()


def _parse_opening_hours(value: Any, source: Path) -> OpeningHours:
    if not isinstance(value, dict):
        raise SettingsError(f"{source}: setting 'opening_hours' must list the days of the week")
    unknown = set(value) - set(WEEKDAYS)
    if unknown:
        raise SettingsError(
            f"{source}: setting 'opening_hours' has unknown day(s) {sorted(unknown)}"
        )
    hours: OpeningHours = {}
    for day in WEEKDAYS:
        name = f"opening_hours.{day}"
        text = str(_require(value, day, source, name)).strip().lower()
        if text == "closed":
            hours[day] = None
            continue
        match = _HOURS_PATTERN.match(text.replace(" ", ""))
        if not match:
            raise SettingsError(
                f"{source}: setting '{name}' is malformed ({text!r}); "
                "write \"closed\" or opening-closing times like \"09:00-17:00\""
            )
        opens = dt.time(int(match[1]), int(match[2]))
        closes = dt.time(int(match[3]), int(match[4]))
        if closes <= opens:
            raise SettingsError(f"{source}: setting '{name}' closes before it opens ({text!r})")
        hours[day] = (opens, closes)
    return hours


def _parse_widget_origins(value: Any, source: Path) -> Tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise SettingsError(f"{source}: setting 'widget_origins' must be a list of web addresses")
    origins = []
    for origin in value:
        parsed = urlparse(str(origin))
        if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.path:
            raise SettingsError(
                f"{source}: setting 'widget_origins' has {origin!r}; write scheme, host and "
                "port only, like \"https://www.clinic.com\""
            )
        origins.append(str(origin))
    return tuple(origins)


def _parse_retention_days(value: Any, source: Path) -> int:
    if value is None:
        return DEFAULT_RETENTION_DAYS
    # bool is an int in Python: "retention_days: yes" must not mean one day.
    if isinstance(value, bool) or not isinstance(value, int) or not (
        1 <= value <= MAX_RETENTION_DAYS
    ):
        raise SettingsError(
            f"{source}: setting 'retention_days' is malformed ({value!r}); write a whole "
            f"number of days from 1 to {MAX_RETENTION_DAYS}, like 30"
        )
    return value


def _parse_time_zone(value: Any, source: Path) -> ZoneInfo:
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise SettingsError(
            f"{source}: setting 'time_zone' is not a known time zone ({value!r}); "
            "use a name like \"America/Los_Angeles\""
        ) from error


def settings_path() -> Path:
    """The settings file in use: `$CLINIC_SETTINGS` or the project's default."""
    return Path(os.environ.get(SETTINGS_ENV_VAR) or DEFAULT_SETTINGS_FILE)


def load_settings(path: Optional[Path] = None) -> ClinicSettings:
    """Read and check the settings file; raise `SettingsError` naming what is wrong."""
    source = path or settings_path()
    raw = read_yaml(source, SettingsError, "settings file")
    if not isinstance(raw, dict):
        raise SettingsError(f"{source}: expected settings such as 'phone: ...'")
    return ClinicSettings(
        phone=_parse_phone(_require(raw, "phone", source), source),
        booking_url=_parse_booking_url(_require(raw, "booking_url", source), source),
        opening_hours=_parse_opening_hours(_require(raw, "opening_hours", source), source),
        time_zone=_parse_time_zone(_require(raw, "time_zone", source), source),
        widget_origins=_parse_widget_origins(raw.get("widget_origins"), source),
        retention_days=_parse_retention_days(raw.get("retention_days"), source),
    )


@cache
def _load_once(path: Path) -> ClinicSettings:
    return load_settings(path)


def current_settings() -> ClinicSettings:
    """The settings in use, read once per settings file (for long-running servers)."""
    return _load_once(settings_path())


def utc_now() -> dt.datetime:
    """The current time, time-zone aware (the default clock of whatever checks the hours)."""
    return dt.datetime.now(dt.timezone.utc)


def main(argv: Optional[List[str]] = None) -> int:
    """Check the settings file; `--widget-origins` prints the origins, one per line."""
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if "--widget-origins" in (argv if argv is not None else sys.argv[1:]):
        print("\n".join(settings.widget_origins))
        return 0
    print(f"settings OK ({settings_path()}): phone {settings.phone}, "
          f"booking {settings.booking_url}")
    for warning in settings.warnings():
        print(f"warning: {warning}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
