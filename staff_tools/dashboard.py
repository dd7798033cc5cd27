"""The staff console's dashboard: how the assistant was used over a period.

    board = dashboard(engine, since, until, load_settings(...).time_zone)
    charts = dashboard_charts(board, topic_names(project))

From `since` to `until` (both included, days in the clinic's time zone), from the tracker
store: conversations per day, the topics asked most, what the assistant did with visitors'
messages (answered, sent to "did you mean", not understood, off-topic, crisis resources), the
ways to the clinic (asking to book or for a person, the booking link and phone number shown,
and their clicks once recorded) and the visitors' ratings per topic. Counts only: nothing here
reads out or logs a message's text.

A visitor message is what the visitor typed or a button they pressed (a button's payload, a
topic's title); the widget's 👍 / 👎 are counted as ratings, not messages.

Clicks on the booking link and the clinic's phone number are recorded by the chat widget
and the Rasa server's channel (clinic_server/rest_channel.py, POST /webhooks/rest/link-click)
in a table `link_clicks` (timestamp, link = "booking" or "phone") of the tracker database.
`Handoffs.booking_clicks` and `phone_clicks` are None while that table does not exist (a
database the Rasa server has not run against since clicks are recorded).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Set, Tuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from clinic.link_clicks import BOOKING, CLICKS_TABLE, PHONE
from clinic.parse_result import answer_label
from clinic.topics import TopicsError, load_topics
from staff_tools.charts import (
    Chart,
    bar_chart,
    bars_table,
    grouped_bar_chart,
    line_chart,
    line_table,
    share_table,
    stacked_share_bar,
)
from staff_tools.review import (
    ANSWERED,
    CONTEXT_SECONDS,
    CRISIS_RESOURCES,
    DID_YOU_MEAN,
    NO_ANSWER,
    NOT_UNDERSTOOD,
    OFF_TOPIC,
    OUTCOMES,
    Period,
    conversation_turns,
    outcome,
    rated_topic,
)
from staff_tools.tracker_db import (
    CLICK_LINK,
    CLICK_TIME,
    TrackerStoreError,
    read_events,
    safe_address,
)

BOOK_INTENT, CONTACT_INTENT = "book_consultation", "contact_human"
# Intents that are small talk or bookkeeping, not a topic asked about.
NOT_TOPICS = {"greet", "goodbye", "thanks", "affirm", "deny", "feedback", "nlu_fallback",
              "out_of_scope", "crisis", ""}
TOP_TOPICS = 10
# Staff words for what is not an FAQ topic (`topic_names` adds the topics' titles).
ANSWER_NAMES = {
    BOOK_INTENT: "Booking a consultation",
    CONTACT_INTENT: "Talking to a person",
    "medical_advice": "Personal medical questions",
    "bot_challenge": "Is this a bot?",
    "action_handoff": "Booking and phone (handoff)",
    "action_did_you_mean": "\u201cDid you mean\u201d suggestions",
    "utter_please_rephrase": "Asked to rephrase",
    "utter_out_of_scope": "Off-topic reply",
    "utter_medical_advice": "No personal medical advice",
    "utter_greet": "Greeting",
    "utter_goodbye": "Goodbye",
    "utter_thanks": "Reply to thanks",
    "utter_anything_else": "Anything else?",
    "utter_bot_challenge": "Is this a bot?",
    "utter_crisis": "Crisis resources",
    NO_ANSWER: "(no answer before the rating)",
}
OUTCOME_NAMES = {
    ANSWERED: "Answered",
    DID_YOU_MEAN: "Sent to \u201cdid you mean\u201d",
    NOT_UNDERSTOOD: "Not understood",
    OFF_TOPIC: "Off-topic",
    CRISIS_RESOURCES: "Crisis resources given",
}


@dataclass(frozen=True)
class Handoffs:
    """The ways to the clinic: asked for, shown, and clicked (None: clicks not recorded)."""

    asked_to_book: int  # typed, or the "Book a consultation" button
    asked_for_person: int  # typed, or the "Talk to a person" button
    booking_links_shown: int  # replies with the booking link
    phone_links_shown: int  # replies with the clinic's phone number as a button
    booking_clicks: Optional[int] = None
    phone_clicks: Optional[int] = None

    @property
    def clicks_recorded(self) -> bool:
        """Whether link clicks are stored at all (see the module's docstring)."""
        return self.booking_clicks is not None


@dataclass(frozen=True)
class TopicRating:
    """The visitors' ratings of the answers on one topic."""

    topic: str  # `faq/<key>` or the answer's action name
    up: int
    down: int


@dataclass(frozen=True)
class Dashboard:
    """The figures of one period."""

    since: dt.date
    until: dt.date
    time_zone: str
    days: List[dt.date]
    conversations_per_day: List[int]  # conversations with a visitor message that day
    messages_per_day: List[int]
    conversations: int  # in the whole period (one that goes on over two days counts once)
    visitor_messages: int
    top_topics: List[Tuple[str, int]]  # (`faq/<key>` or intent, messages), most asked first
    outcomes: List[Tuple[str, int]]  # (outcome, messages) in review.OUTCOMES order
    handoffs: Handoffs
    ratings: List[TopicRating]  # most 👎 first

    def share(self, name: str) -> float:
        """The share of the visitor messages with outcome `name` (0 to 1)."""
        counts = dict(self.outcomes)
        return counts.get(name, 0) / self.visitor_messages if self.visitor_messages else 0.0


def _digits(url: Any) -> int:
    return sum(character.isdigit() for character in str(url or ""))


def _links(reply: Dict[str, Any]) -> Tuple[bool, bool]:
    """Whether a reply shows the booking link, and the clinic's phone number (not 988/911)."""
    buttons = [b for b in (reply.get("data") or {}).get("buttons") or [] if isinstance(b, dict)]
    booking = any(b.get("type") == "web_url" for b in buttons)
    phone = any(b.get("type") == "phone" and _digits(b.get("url")) >= 7 for b in buttons)
    return booking, phone


def _recorded_clicks(engine: Engine, period: Period) -> Tuple[Optional[int], Optional[int]]:
    """(booking, phone) clicks from the `link_clicks` table; (None, None) without it."""
    query = (sa.select(CLICK_LINK, sa.func.count())
             .where(CLICK_TIME >= period.start, CLICK_TIME < period.end)
             .group_by(CLICK_LINK))
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table(CLICKS_TABLE):
                return None, None
            counts = {str(link): int(count) for link, count in connection.execute(query)}
    except sa.exc.SQLAlchemyError as error:
        raise TrackerStoreError(
            f"cannot read the link clicks at {safe_address(engine.url)}"
        ) from error
    return counts.get(BOOKING, 0), counts.get(PHONE, 0)


def dashboard(
    engine: Engine, since: dt.date, until: dt.date, tz: ZoneInfo, *, top: int = TOP_TOPICS
) -> Dashboard:
    """The dashboard's figures from `since` to `until` (both included, days in `tz`).

    Raises `TrackerStoreError` (one line, for the page) if the store cannot be read.
    """
    if since > until:
        raise ValueError(f"the period starts ({since}) after it ends ({until})")
    period = Period(since, until, tz)
    days = [since + dt.timedelta(days=offset) for offset in range((until - since).days + 1)]
    senders_by_day: Dict[dt.date, Set[str]] = defaultdict(set)
    messages_by_day: Counter = Counter()
    topics: Counter = Counter()
    outcomes: Counter = Counter()
    ratings: Dict[str, Counter] = defaultdict(Counter)
    asked: Counter = Counter()
    shown: Counter = Counter()
    events = read_events(engine, period.start - CONTEXT_SECONDS, period.end, missing_ok=True)
    for turns in conversation_turns(events).values():
        for turn in turns:
            if not period.start <= turn.timestamp < period.end:
                continue
            for reply in turn.replies:
                booking, phone = _links(reply)
                shown["booking"] += booking
                shown["phone"] += phone
            if turn.is_rating:
                if turn.rating:
                    ratings[rated_topic(turn)][turn.rating] += 1
                continue
            if not turn.text:
                continue
            day = dt.datetime.fromtimestamp(turn.timestamp, tz).date()
            senders_by_day[day].add(turn.sender_id)
            messages_by_day[day] += 1
            done = outcome(turn)
            outcomes[done] += 1
            asked[turn.intent] += 1
            if done == ANSWERED and turn.intent not in NOT_TOPICS:
                topics[answer_label(turn.parse_data)[0]] += 1
    booking_clicks, phone_clicks = _recorded_clicks(engine, period)
    return Dashboard(
        since=since,
        until=until,
        time_zone=tz.key,
        days=days,
        conversations_per_day=[len(senders_by_day[day]) for day in days],
        messages_per_day=[messages_by_day[day] for day in days],
        conversations=len(set().union(*senders_by_day.values())),
        visitor_messages=sum(messages_by_day.values()),
        top_topics=sorted(topics.items(), key=lambda item: (-item[1], item[0]))[:top],
        outcomes=[(name, outcomes[name]) for name in OUTCOMES],
        handoffs=Handoffs(
            asked_to_book=asked[BOOK_INTENT],
            asked_for_person=asked[CONTACT_INTENT],
            booking_links_shown=shown["booking"],
            phone_links_shown=shown["phone"],
            booking_clicks=booking_clicks,
            phone_clicks=phone_clicks,
        ),
        ratings=sorted(
            (TopicRating(topic, votes["up"], votes["down"]) for topic, votes in ratings.items()),
            key=lambda rating: (-rating.down, -rating.up, rating.topic),
        ),
    )


# ---- names and charts for the page -------------------------------------------------------

def topic_names(project: Path) -> Dict[str, str]:
    """Staff words for topics and answers: each `faq/<key>`'s title, and ANSWER_NAMES.

    From the project's settings/faq_topics.yml; without a readable one, ANSWER_NAMES only.
    """
    names = dict(ANSWER_NAMES)
    try:
        topics = load_topics(project / "settings" / "faq_topics.yml")
    except TopicsError:
        return names
    names.update({f"faq/{key}": topic.title for key, topic in topics.items()})
    return names


def name_of(topic: str, names: Mapping[str, str]) -> str:
    """The staff words for `topic`, else the topic as stored."""
    return names.get(topic) or ANSWER_NAMES.get(topic) or topic


def _day_label(day: dt.date) -> str:
    return f"{day:%b} {day.day}"


def dashboard_charts(board: Dashboard, names: Mapping[str, str] = ANSWER_NAMES) -> List[Chart]:
    """The dashboard as charts, each with its table, in the page's order.

    Keys: "conversations", "topics", "outcomes", "handoffs", "ratings". `names` gives staff
    words for topics (`topic_names`).
    """
    charts = []

    title = "Conversations per day"
    series = [("Conversations", board.conversations_per_day)]
    busiest = max(range(len(board.days)), key=lambda i: board.conversations_per_day[i])
    desc = (f"From {board.since.isoformat()} to {board.until.isoformat()}: "
            f"{board.conversations} conversations, {board.visitor_messages} visitor messages")
    if board.conversations:
        desc += (f"; the most conversations, {board.conversations_per_day[busiest]}, "
                 f"on {_day_label(board.days[busiest])}")
    desc += "."
    charts.append(Chart(
        "conversations", title,
        line_chart(title, [_day_label(day) for day in board.days], series, desc=desc),
        line_table(title, [f"{day:%a} {day.isoformat()}" for day in board.days],
                   [*series, ("Visitor messages", board.messages_per_day)]),
    ))

    title = "Topics asked most"
    labels = [name_of(topic, names) for topic, _ in board.top_topics]
    counts = [count for _, count in board.top_topics]
    charts.append(Chart("topics", title,
                        bar_chart(title, labels, counts, series_name="Messages"),
                        bars_table(title, labels, [("Messages", counts)])))

    title = "What the assistant did with visitors' messages"
    parts = [(OUTCOME_NAMES[name], count) for name, count in board.outcomes]
    charts.append(Chart("outcomes", title, stacked_share_bar(title, parts),
                        share_table(title, parts)))

    title = "Ways to the clinic"
    hand = board.handoffs
    labels = ["Asked to book", "Asked for a person", "Booking link shown",
              "Phone number shown"]
    counts = [hand.asked_to_book, hand.asked_for_person, hand.booking_links_shown,
              hand.phone_links_shown]
    if hand.booking_clicks is not None and hand.phone_clicks is not None:
        labels += ["Booking link clicked", "Phone number tapped"]
        counts += [hand.booking_clicks, hand.phone_clicks]
        note = ""
    else:
        note = " Clicks on the booking link and the phone number are not recorded."
    summary = ", ".join(f"{label}: {count}" for label, count in zip(labels, counts, strict=True))
    charts.append(Chart("handoffs", title,
                        bar_chart(title, labels, counts, desc=summary + "." + note),
                        bars_table(title, labels, [("Count", counts)])))

    title = "Visitors' ratings per topic"
    labels = [name_of(rating.topic, names) for rating in board.ratings]
    series = [("Helped", [rating.up for rating in board.ratings]),
              ("Did not help", [rating.down for rating in board.ratings])]
    charts.append(Chart("ratings", title, grouped_bar_chart(title, labels, series),
                        bars_table(title, labels, series)))
    return charts
