"""The period a page shows (inbox, dashboard), the clinic's time zone and the tracker store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import List, Mapping, Optional, Tuple
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from clinic.settings import SettingsError, load_settings
from staff_console.web import Console
from staff_tools.tracker_db import TrackerStoreError, open_tracker_store

PRESETS = (7, 30, 90)
DEFAULT_DAYS = 30
MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    """From `since` to `until`, both included, days in the clinic's time zone."""

    since: dt.date
    until: dt.date
    problem: str = ""  # why the dates asked for were not used

    @property
    def days(self) -> int:
        """How many days it covers."""
        return (self.until - self.since).days + 1

    def presets(self, today: dt.date) -> List[Tuple[int, str, bool]]:
        """(days, the query for "the last N days", whether it is this period)."""
        return [(days, f"from={(today - dt.timedelta(days=days - 1)).isoformat()}"
                       f"&to={today.isoformat()}",
                 self.until == today and self.days == days) for days in PRESETS]


def time_zone(console: Console) -> ZoneInfo:
    """The clinic's time zone (settings/clinic.yml), or UTC if the settings cannot be read."""
    try:
        return load_settings(console.config.project / "settings" / "clinic.yml").time_zone
    except SettingsError:
        return ZoneInfo("UTC")


def today(console: Console) -> dt.date:
    """Today in the clinic's time zone."""
    return dt.datetime.now(time_zone(console)).date()


def period_from(query: Mapping[str, str], day: dt.date) -> Period:
    """The period of a page's `from` and `to` (ISO dates); the last 30 days by default."""
    default = Period(day - dt.timedelta(days=DEFAULT_DAYS - 1), day)
    first, last = query.get("from") or "", query.get("to") or ""
    if not first and not last:
        return default
    try:
        since = dt.date.fromisoformat(first) if first else default.since
        until = dt.date.fromisoformat(last) if last else day
    except ValueError:
        return Period(default.since, default.until,
                      "The dates were not understood; showing the last 30 days.")
    if since > until:
        return Period(default.since, default.until,
                      "The first day was after the last; showing the last 30 days.")
    if (until - since).days >= MAX_DAYS:
        return Period(until - dt.timedelta(days=MAX_DAYS - 1), until,
                      "At most a year can be shown at once; showing the last year of it.")
    return Period(since, until)


def tracker_engine(console: Console) -> Tuple[Optional[Engine], str]:
    """The tracker store's engine (kept for the process), or None and why, in staff words."""
    engine = console.extras.get("engine")
    if engine is not None:
        return engine, ""
    try:
        engine = open_tracker_store(console.config.tracker_store_url, "make run")
    except TrackerStoreError:
        return None, ("No conversations yet: the assistant has not stored any (it creates its "
                      "database when it first runs with `make run`).")
    console.extras["engine"] = engine
    return engine, ""
