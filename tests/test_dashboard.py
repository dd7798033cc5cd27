"""The staff console's dashboard and its charts, on the tracker store of
tests/fixtures/clinic_store.py (a real SQLite store written by the masking tracker store; no
servers, no model)."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import List

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from staff_tools import charts
from staff_tools.dashboard import (
    ANSWER_NAMES,
    Dashboard,
    dashboard,
    dashboard_charts,
    name_of,
    topic_names,
)
from tests.conftest import PROJECT_DIR
from tests.fixtures.clinic_store import MONDAY, TUESDAY, ZONE

SVG = "{http://www.w3.org/2000/svg}"
WEDNESDAY = TUESDAY + dt.timedelta(days=1)


@pytest.fixture
def board(clinic_engine: Engine) -> Dashboard:
    return dashboard(clinic_engine, MONDAY, TUESDAY, ZONE)


# ---- the figures -------------------------------------------------------------------------

def test_conversations_and_messages_per_day(board: Dashboard) -> None:
    assert board.days == [MONDAY, TUESDAY] and board.time_zone == "America/Los_Angeles"
    assert board.conversations_per_day == [4, 8]
    # Typed messages and buttons pressed; the three ratings are not messages.
    assert board.messages_per_day == [5, 13]
    assert (board.conversations, board.visitor_messages) == (12, 18)


def test_a_conversation_over_two_days_counts_once_in_the_total(clinic_engine: Engine) -> None:
    longer = dashboard(clinic_engine, MONDAY, WEDNESDAY, ZONE)
    assert longer.conversations_per_day == [4, 8, 1]  # its crisis came on Wednesday
    assert longer.conversations == 12


def test_the_share_answered_did_you_mean_off_topic_and_not_understood(board: Dashboard) -> None:
    assert board.outcomes == [
        ("answered", 12), ("did you mean", 1), ("not understood", 2), ("off-topic", 2),
        ("crisis resources", 1),
    ]
    assert board.share("answered") == pytest.approx(12 / 18)
    assert board.share("did you mean") == pytest.approx(1 / 18)
    assert sum(board.share(name) for name, _ in board.outcomes) == pytest.approx(1.0)


def test_the_topics_asked_most(board: Dashboard) -> None:
    assert board.top_topics == [
        ("faq/cost_insurance", 6), ("book_consultation", 2), ("faq/depression", 1),
        ("faq/fda_status", 1), ("faq/speed", 1), ("faq/what_is", 1),
    ]


def test_handoffs_are_counted_and_clicks_said_to_be_unrecorded(board: Dashboard) -> None:
    handoffs = board.handoffs
    assert (handoffs.asked_to_book, handoffs.asked_for_person) == (2, 0)
    # Two handoffs with both links; the clinic's phone after the crisis resources (988 is not
    # the clinic's number).
    assert (handoffs.booking_links_shown, handoffs.phone_links_shown) == (2, 3)
    assert handoffs.booking_clicks is None and not handoffs.clicks_recorded


def test_thumbs_per_topic(board: Dashboard) -> None:
    assert [(r.topic, r.up, r.down) for r in board.ratings] == [
        ("faq/fda_status", 0, 1), ("faq/speed", 1, 0), ("faq/what_is", 1, 0)]


def test_recorded_link_clicks_are_counted_in_the_period(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    monday_noon = dt.datetime(2026, 11, 23, 12, tzinfo=ZONE).timestamp()
    with engine.begin() as connection:
        connection.exec_driver_sql("create table link_clicks (timestamp real, link text)")
        for when, link in [(monday_noon, "booking"), (monday_noon, "booking"),
                           (monday_noon, "phone"), (monday_noon - 86400, "phone")]:
            connection.exec_driver_sql("insert into link_clicks values (?, ?)", (when, link))
    board = dashboard(engine, MONDAY, TUESDAY, ZONE)
    assert (board.handoffs.booking_clicks, board.handoffs.phone_clicks) == (2, 1)
    assert board.conversations == 0  # no events table yet: an empty dashboard
    handoffs = [chart for chart in dashboard_charts(board) if chart.key == "handoffs"][0]
    assert "Booking link clicked" in handoffs.svg


def test_a_period_backwards_is_refused(clinic_engine: Engine) -> None:
    with pytest.raises(ValueError, match="after it ends"):
        dashboard(clinic_engine, TUESDAY, MONDAY, ZONE)


def test_topics_are_named_in_staff_words() -> None:
    names = topic_names(PROJECT_DIR)
    assert name_of("faq/what_is", names) == "What is ketamine infusion therapy?"
    assert name_of("book_consultation", names) == "Booking a consultation"
    assert name_of("faq/unknown", names) == "faq/unknown"
    assert topic_names(Path("/nonexistent")) == ANSWER_NAMES


# ---- the charts ------------------------------------------------------------------------------

def parse_svg(markup: str) -> ET.Element:
    root = ET.fromstring(markup)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    ids = {element.get("id"): element for element in root.iter() if element.get("id")}
    title_id, desc_id = (root.get("aria-labelledby") or "").split()
    assert ids[title_id].tag == f"{SVG}title" and (ids[title_id].text or "").strip()
    assert ids[desc_id].tag == f"{SVG}desc" and (ids[desc_id].text or "").strip()
    assert list(root)[:2] == [ids[title_id], ids[desc_id]]
    for element in root.iter():
        assert element.tag not in (f"{SVG}script", f"{SVG}foreignObject", f"{SVG}style")
        assert not [name for name in element.attrib if name.lower().startswith("on")]
        assert "style" not in element.attrib and "href" not in element.attrib
    return root


def texts(root: ET.Element) -> List[str]:
    return ["".join(element.itertext()) for element in root.iter(f"{SVG}text")]


def test_every_dashboard_chart_is_valid_svg_with_a_title_and_a_table(board: Dashboard) -> None:
    made = dashboard_charts(board, topic_names(PROJECT_DIR))
    assert [chart.key for chart in made] == [
        "conversations", "topics", "outcomes", "handoffs", "ratings"]
    for chart in made:
        root = parse_svg(chart.svg)
        assert root.find(f"{SVG}title").text == chart.title  # type: ignore[union-attr]
        table = ET.fromstring(chart.table.html())
        assert table.find("caption").text == chart.title  # type: ignore[union-attr]
        assert chart.table.text().startswith(chart.title)


def test_the_charts_show_the_figures_as_text(board: Dashboard) -> None:
    made = {chart.key: chart for chart in dashboard_charts(board, topic_names(PROJECT_DIR))}
    topics = texts(parse_svg(made["topics"].svg))
    assert topics[:2] == ["How much does it cost?", "6"]  # the topic's title, its count
    outcomes = texts(parse_svg(made["outcomes"].svg))
    assert "Answered: 12 (67%)" in outcomes
    assert "Sent to \u201cdid you mean\u201d: 1 (6%)" in outcomes
    desc = parse_svg(made["handoffs"].svg).find(f"{SVG}desc").text or ""  # type: ignore[union-attr]
    assert "not recorded" in desc
    conversations = made["conversations"]
    assert ("Tue 2026-11-24", "8", "13") in conversations.table.rows
    assert "12 conversations" in (parse_svg(conversations.svg).find(f"{SVG}desc").text or "")  # type: ignore[union-attr]
    ratings = made["ratings"].table
    assert ratings.columns == ("", "Helped", "Did not help")
    assert ratings.rows[0][1:] == ("0", "1")


def test_an_empty_period_still_draws_valid_charts(clinic_engine: Engine) -> None:
    empty = dashboard(clinic_engine, dt.date(2025, 1, 1), dt.date(2025, 1, 7), ZONE)
    assert empty.conversations == 0 and empty.conversations_per_day == [0] * 7
    for chart in dashboard_charts(empty):
        parse_svg(chart.svg)
        ET.fromstring(chart.table.html())
    [topics] = [chart for chart in dashboard_charts(empty) if chart.key == "topics"]
    assert charts.NO_DATA in texts(parse_svg(topics.svg))


def test_labels_are_escaped_and_long_ones_shortened() -> None:
    label = '<script>alert("x")</script> & a very long label that goes on and on and on'
    root = parse_svg(charts.bar_chart("Risky & <title>", [label, "Safe"], [3, 1]))
    assert root.find(f"{SVG}title").text == "Risky & <title>"  # type: ignore[union-attr]
    shown = texts(root)
    assert any(text.startswith('<script>alert("x")') and text.endswith("…") for text in shown)
    full = [el.text for el in root.iter(f"{SVG}title")]
    assert label in full  # the whole label as a tooltip
    table = ET.fromstring(charts.bars_table("t", [label], [("n", [3])]).html())
    assert table.find("tbody/tr/th").text == label  # type: ignore[union-attr]


def test_a_line_chart_of_two_months_thins_its_day_labels() -> None:
    days = [dt.date(2026, 10, 1) + dt.timedelta(days=n) for n in range(61)]
    labels = [f"{day:%b} {day.day}" for day in days]
    root = parse_svg(charts.line_chart("Conversations per day", labels,
                                       {"Conversations": [n % 7 for n in range(61)],
                                        "Messages": [n % 11 for n in range(61)]}))
    shown = [text for text in texts(root) if text in labels]
    assert 4 <= len(shown) <= 15 and shown[0] == "Oct 1"
    assert "Conversations" in texts(root) and "Messages" in texts(root)  # the legend
    assert len(root.findall(f"{SVG}polyline")) == 2
    # The y axis counts in whole numbers.
    ticks = [text for text in texts(root) if text.isdigit()]
    assert ticks == ["0", "3", "6", "9", "12"]


def test_a_share_bar_names_every_part_even_a_thin_one() -> None:
    root = parse_svg(charts.stacked_share_bar("Shares", [("Big", 995), ("Thin", 2), ("None", 0)]))
    assert "Thin: 2 (<1%)" in texts(root) and "None: 0 (0%)" in texts(root)
    assert charts.share_table("Shares", [("Big", 1), ("Small", 3)]).rows[-1] == (
        "Total", "4", "100%")


def contrast(colour: str, background: str = "#ffffff") -> float:
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
                  for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted([luminance(colour), luminance(background)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_colours_have_enough_contrast_for_text_and_bars() -> None:
    for colour in (*charts.PALETTE, charts.TEXT, charts.MUTED):
        assert contrast(colour) >= 4.5, colour  # white text on a bar is readable too


def test_the_text_alternative_lines_up() -> None:
    table = charts.bars_table("Topics", ["Cost", "Safety of ketamine"], [("Messages", [12, 7])])
    assert table.text().splitlines() == [
        "Topics",
        "                    Messages",
        "Cost                      12",
        "Safety of ketamine         7",
    ]
