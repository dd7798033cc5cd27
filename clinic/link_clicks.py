"""The `link_clicks` table: clicks on the chat widget's booking link and the clinic's phone number.

The Rasa server's channel writes it into the tracker store's database
(`clinic_server.tracker_store`, `MaskingSQLTrackerStore.record_link_click`); the staff tools
read it (`staff_tools.tracker_db`: the dashboard counts the clicks, retention deletes the old
ones). One row per click: when, to the minute, and which link; nothing else (no conversation
id, no address), and crisis lines are never counted. Its names are here, once: each side builds
its SQLAlchemy table from them (the core does not import SQLAlchemy).
"""

from __future__ import annotations

CLICKS_TABLE = "link_clicks"
TIMESTAMP_COLUMN = "timestamp"  # Unix seconds, rounded down to a multiple of CLICK_SECONDS
LINK_COLUMN = "link"  # one of LINKS
CLICK_SECONDS = 60  # to the minute: nothing finer that could tell whose click it was
BOOKING, PHONE = "booking", "phone"
LINKS = (BOOKING, PHONE)  # the only links whose clicks are counted
