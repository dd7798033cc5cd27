"""The staff console's inbox: what visitors asked that the assistant did not answer well.

    groups = inbox_groups(engine, since, until, HandledStore(project / "var/console.sqlite"), tz)

Lists the visitor messages, from `since` to `until` (both included, in the clinic's time zone),
that were

- not understood (intent `nlu_fallback`, and no topic likely enough to offer),
- sent to "did you mean" (`nlu_fallback`, and actions/did_you_mean.py offered the likeliest
  topics as buttons),
- off-topic (intent `out_of_scope`),
- answered with low confidence (intent, or FAQ topic, under the threshold), or
- answered, and the visitor rated the answer 👎 (the widget's `/feedback{"rating":"down"}`),

grouped by similarity (the review's grouping, `staff_tools/review.py`) with counts and the
topic they most likely belong to. `conversation_around` gives the conversation around one of
them, as stored (masked).

Never listed: any message of a conversation in which crisis was detected (at any time), button
clicks (payloads such as `/book_consultation`, or a topic's title sent by its button), and
groups staff handled (`HandledStore`: assigned to a topic, marked off-topic, or dismissed).

Visitors' conversation ids are not shown: a message names its conversation by a hash. Nothing
here logs; message texts go only to the page that shows them. The console's database holds
who handled what and when, with hashes of the message texts, never the texts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple, Union
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from clinic.buttons import BOOK_CONSULTATION, BOOK_INTENT, CONTACT_INTENT, TALK_TO_A_PERSON
from staff_tools.review import (
    CONTEXT_SECONDS,
    DEFAULT_SIMILARITY,
    DEFAULT_THRESHOLD,
    DID_YOU_MEAN,
    NOT_UNDERSTOOD,
    OFF_TOPIC,
    Period,
    Row,
    VisitorTurn,
    conversation_turns,
    crisis_conversations,
    group_rows,
    likeliest_topic,
    normalise,
    outcome,
    why_unanswered,
)
from staff_tools.tracker_db import StoredEvent, read_conversation, read_events

LOW_CONFIDENCE, THUMBS_DOWN = "low confidence", "thumbs down"
# The reasons a message is listed, the most telling first: a message listed for two reasons
# (answered with low confidence, then rated 👎) carries the first of them.
REASONS = (THUMBS_DOWN, NOT_UNDERSTOOD, DID_YOU_MEAN, OFF_TOPIC, LOW_CONFIDENCE)
VISITOR, ASSISTANT = "visitor", "assistant"
# What staff did with a group (HandledStore.mark).
ASSIGNED, MARKED_OFF_TOPIC, DISMISSED = "assigned", "off-topic", "dismissed"
HOW_HANDLED = (ASSIGNED, MARKED_OFF_TOPIC, DISMISSED)
# How the conversation view shows what the widget sent for a button or a rating.
RATED = {"up": "👍 (this answer helped)", "down": "👎 (this answer did not help)"}
PAYLOAD_TITLES = {f"/{BOOK_INTENT}": BOOK_CONSULTATION, f"/{CONTACT_INTENT}": TALK_TO_A_PERSON}
# The model's likeliest topic is not suggested under this confidence: it is noise (the
# assistant's "did you mean" offers nothing under it either).
SUGGEST_FROM = 0.1


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def text_key(text: str) -> str:
    """The stable key of a message text (ignoring case and spacing); not the text itself."""
    return _digest("text:" + normalise(text))


def conversation_ref(sender_id: str) -> str:
    """The name the console gives a conversation: a hash, never the widget's id."""
    return _digest("conversation:" + sender_id)


# ---- what the inbox lists ----------------------------------------------------------------

@dataclass(frozen=True)
class InboxMessage:
    """One listed visitor message, as stored (masked)."""

    text: str
    sender_id_hash: str  # conversation_ref(sender_id)
    timestamp: float  # Unix time: conversation_around finds the message by it
    reason: str  # one of REASONS
    likeliest_topic: str = ""  # what the model thought: `faq/<key>` or an intent
    confidence: float = 0.0
    picked: str = ""  # after "did you mean": the topic the visitor chose from the buttons


@dataclass(frozen=True)
class InboxGroup:
    """Similar listed messages; `key` is stable while its most frequent text stays the same."""

    key: str
    texts: List[str]  # the distinct texts, most frequent first
    count: int  # how many messages
    reasons: List[str]  # why they are listed, in REASONS order
    suggested: Optional[str]  # the topic most of them likely belong to: `faq/<key>` or intent
    first_seen: float
    last_seen: float
    sample: InboxMessage  # the latest message with the group's most frequent text
    text_counts: List[Tuple[str, int]] = field(default_factory=list)  # (text, count) as texts
    member_keys: List[str] = field(default_factory=list)  # text_key of each text
    messages: List[InboxMessage] = field(default_factory=list)  # all of them, latest first


@dataclass(frozen=True)
class Turn:
    """One message of a conversation, as stored (masked)."""

    who: str  # VISITOR or ASSISTANT
    text: str  # a button click or a rating is described ("Clicked: Book a consultation")
    timestamp: float = 0.0
    buttons: Tuple[str, ...] = ()  # the titles of the buttons an assistant's message showed
    current: bool = False  # the message the conversation was opened for


def _reason(turn: VisitorTurn, rated_down: bool, threshold: float) -> Optional[str]:
    if rated_down:
        return THUMBS_DOWN
    done = outcome(turn)
    if done in (NOT_UNDERSTOOD, DID_YOU_MEAN, OFF_TOPIC):
        return done
    return LOW_CONFIDENCE if why_unanswered(turn.parse_data, threshold) else None


def _picked(turns: Sequence[VisitorTurn], index: int) -> str:
    """After "did you mean": the topic the visitor chose with the next message's button."""
    for later in turns[index + 1:]:
        if later.is_rating:
            continue
        return later.answered_topic if later.clicked else ""
    return ""


def listed_messages(
    conversations: Dict[str, List[VisitorTurn]], period: Period, threshold: float
) -> List[InboxMessage]:
    """The messages of `conversations` in `period` that the inbox lists, in no given order.

    `conversations` must hold no crisis conversation (`crisis_conversations` finds them).
    """
    listed = []
    for turns in conversations.values():
        rated_down = {id(turn.rates) for turn in turns if turn.rating == "down" and turn.rates}
        for index, turn in enumerate(turns):
            if turn.is_rating or turn.is_button or not turn.text:
                continue
            if not period.start <= turn.timestamp < period.end:
                continue
            reason = _reason(turn, id(turn) in rated_down, threshold)
            if reason is None:
                continue
            topic, confidence = likeliest_topic(turn.parse_data)
            listed.append(InboxMessage(
                text=turn.text, sender_id_hash=conversation_ref(turn.sender_id),
                timestamp=turn.timestamp, reason=reason, likeliest_topic=topic,
                confidence=confidence,
                picked=_picked(turns, index) if reason == DID_YOU_MEAN else "",
            ))
    return listed


def _suggested(messages: Iterable[InboxMessage]) -> Optional[str]:
    votes: Counter = Counter()
    for message in messages:
        # What a visitor chose from "did you mean" says more than the model's guess.
        if message.picked:
            votes[message.picked] += 2
        elif message.likeliest_topic and message.confidence >= SUGGEST_FROM:
            votes[message.likeliest_topic] += 1
    if not votes:
        return None
    best = max(votes.values())
    return sorted(topic for topic, count in votes.items() if count == best)[0]


def group_messages(
    messages: Sequence[InboxMessage], similarity: float = DEFAULT_SIMILARITY
) -> List[InboxGroup]:
    """Group similar messages (the review's grouping), the largest group first."""
    by_text: Dict[str, List[InboxMessage]] = defaultdict(list)
    for message in messages:
        by_text[normalise(message.text)].append(message)
    rows = []
    for same in by_text.values():
        latest = max(same, key=lambda message: message.timestamp)
        rows.append(Row(latest.text, len(same), latest.likeliest_topic, latest.confidence,
                        latest.reason))
    rows.sort(key=lambda row: (-row.count, normalise(row.text)))
    groups = []
    for found in group_rows(rows, similarity):
        members = [sorted(by_text[normalise(row.text)], key=lambda m: -m.timestamp)
                   for row in found.rows]
        flat = sorted((m for same in members for m in same), key=lambda m: -m.timestamp)
        reasons = {message.reason for message in flat}
        groups.append(InboxGroup(
            key=text_key(found.rows[0].text),
            texts=[row.text for row in found.rows],
            count=found.count,
            reasons=[reason for reason in REASONS if reason in reasons],
            suggested=_suggested(flat),
            first_seen=min(message.timestamp for message in flat),
            last_seen=max(message.timestamp for message in flat),
            sample=members[0][0],
            text_counts=[(row.text, row.count) for row in found.rows],
            member_keys=[text_key(row.text) for row in found.rows],
            messages=flat,
        ))
    groups.sort(key=lambda group: (-group.count, -group.last_seen, group.key))
    return groups


def inbox_groups(
    engine: Engine,
    since: dt.date,
    until: dt.date,
    handled: Optional[HandledStore],
    tz: ZoneInfo,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    similarity: float = DEFAULT_SIMILARITY,
) -> List[InboxGroup]:
    """The inbox from `since` to `until` (both included, in `tz`), the largest group first.

    Crisis conversations are never listed, nor button clicks, nor the texts of groups staff
    handled. Raises `TrackerStoreError` (one line, for the page) if the store cannot be read.
    """
    if since > until:
        raise ValueError(f"the period starts ({since}) after it ends ({until})")
    period = Period(since, until, tz)
    events = read_events(engine, period.start - CONTEXT_SECONDS, period.end, missing_ok=True)
    conversations = conversation_turns(events)
    for sender_id in crisis_conversations(engine, conversations):
        del conversations[sender_id]
    messages = listed_messages(conversations, period, threshold)
    done = handled.handled_keys() if handled is not None else set()
    messages = [message for message in messages if text_key(message.text) not in done]
    return [group for group in group_messages(messages, similarity) if group.key not in done]


def find_group(groups: Iterable[InboxGroup], key: str) -> Optional[InboxGroup]:
    """The group with `key`, or None (handled meanwhile, or out of the period)."""
    return next((group for group in groups if group.key == key), None)


# ---- the conversation around a message ---------------------------------------------------

def _clicked_title(text: str, buttons: Dict[str, str]) -> str:
    return (buttons.get(text) or PAYLOAD_TITLES.get(text)
            or text.lstrip("/").split("{", 1)[0].replace("_", " "))


def _turns(events: Iterable[StoredEvent]) -> List[Turn]:
    """One Turn per `user` or `bot` event."""
    turns: List[Turn] = []
    offered: Dict[str, str] = {}  # payload -> title of the buttons shown last
    for event in events:
        data, timestamp = event.data, event.timestamp
        if event.type_name == "bot":
            buttons = [b for b in (data.get("data") or {}).get("buttons") or []
                       if isinstance(b, dict)]
            offered = {str(b["payload"]): str(b.get("title") or "") for b in buttons
                       if b.get("payload")}
            turns.append(Turn(ASSISTANT, str(data.get("text") or ""), timestamp,
                              tuple(str(b.get("title") or "") for b in buttons)))
            continue
        text = str(data.get("text") or "").strip()
        intent = ((data.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent == "feedback":
            entities = (data.get("parse_data") or {}).get("entities") or []
            rating = next((str(e.get("value")) for e in entities
                           if isinstance(e, dict) and e.get("entity") == "rating"), "")
            text = "Rated the answer " + RATED.get(rating, "")
        elif text.startswith("/") or text in offered:
            text = "Clicked: " + _clicked_title(text, offered)
        turns.append(Turn(VISITOR, text.strip(), timestamp))
    return turns


def conversation_around(
    engine: Engine, message: InboxMessage, before: int = 3, after: int = 3
) -> List[Turn]:
    """The `before` messages before `message`, it (`current`), and the `after` ones after it.

    As stored (masked). Only `message.sender_id_hash` and `message.timestamp` are used, so a
    page may rebuild the message from those two. [] if the conversation is gone (deleted by
    retention), or if crisis was detected in it: crisis conversations are never shown here.
    """
    window = read_events(engine, message.timestamp - 0.001, message.timestamp + 0.001,
                         types=("user",), missing_ok=True)
    senders = {event.sender_id for event in window
               if conversation_ref(event.sender_id) == message.sender_id_hash}
    if len(senders) != 1:
        return []
    sender_id = senders.pop()
    if crisis_conversations(engine, [sender_id]):
        return []
    events = read_conversation(engine, sender_id, types=("user", "bot"))
    turns = _turns(events)
    here = next((index for index, (event, turn) in enumerate(zip(events, turns, strict=True))
                 if event.type_name == "user" and abs(turn.timestamp - message.timestamp) < 1e-3),
                None)
    if here is None:
        return []
    shown = turns[max(0, here - before):here + after + 1]
    return [Turn(t.who, t.text, t.timestamp, t.buttons, current=t is turns[here]) for t in shown]


# ---- what staff handled ------------------------------------------------------------------

@dataclass(frozen=True)
class Handled:
    """A group staff handled: how, by whom and when."""

    group_key: str
    how: str  # one of HOW_HANDLED
    who: str
    when: dt.datetime  # UTC
    topic: str = ""  # for ASSIGNED: the intent or `faq/<key>` the texts went to
    texts: int = 0  # how many distinct texts it covered


class HandledStore:
    """The inbox groups staff assigned, marked off-topic or dismissed.

    In the console's SQLite database (`db_path`), in a table of its own, `inbox_handled`. It
    keeps the key of each text of a handled group (a hash, never the text), so that a text once
    handled stays out of the inbox, whichever group it falls in later.
    """

    TABLE = "inbox_handled"

    def __init__(self, db_path: Path) -> None:
        self.db_path = Path(db_path)
        self.db_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.db_path.exists():  # the console's database: readable by its owner only
            os.close(os.open(self.db_path, os.O_WRONLY | os.O_CREAT, 0o600))
        with self._connect() as connection:
            connection.execute(
                f"CREATE TABLE IF NOT EXISTS {self.TABLE} ("
                " key TEXT PRIMARY KEY,"  # a text_key (or the group's key)
                " group_key TEXT NOT NULL,"
                " how TEXT NOT NULL,"
                " topic TEXT NOT NULL DEFAULT '',"
                " who TEXT NOT NULL,"
                " at REAL NOT NULL)"
            )
            connection.execute(
                f"CREATE INDEX IF NOT EXISTS {self.TABLE}_group ON {self.TABLE} (group_key)"
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection, committed (or rolled back) and closed after use."""
        connection = sqlite3.connect(self.db_path, timeout=10)
        try:
            with connection:
                yield connection
        finally:
            connection.close()

    def mark(self, group: Union[InboxGroup, str], how: str, who: str, topic: str = "") -> Handled:
        """Record that `who` handled `group` (`how`: assigned, off-topic or dismissed).

        Pass the InboxGroup, so that each of its texts is recorded: a key alone hides only
        the group while its most frequent text stays the same.
        """
        if how not in HOW_HANDLED:
            raise ValueError(f"how must be one of {', '.join(HOW_HANDLED)}, not {how!r}")
        if not who.strip():
            raise ValueError("who handled it must be named")
        key = group if isinstance(group, str) else group.key
        keys = {key, *([] if isinstance(group, str) else group.member_keys)}
        now = time.time()
        with self._connect() as connection:
            connection.executemany(
                f"INSERT OR REPLACE INTO {self.TABLE} (key, group_key, how, topic, who, at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(member, key, how, topic, who.strip(), now) for member in sorted(keys)],
            )
        return Handled(key, how, who.strip(), _utc(now), topic, len(keys))

    def unmark(self, group_key: str) -> int:
        """Put a handled group back in the inbox (undo); how many keys were removed."""
        with self._connect() as connection:
            cursor = connection.execute(
                f"DELETE FROM {self.TABLE} WHERE group_key = ?", (group_key,)
            )
            return cursor.rowcount

    def handled_keys(self) -> Set[str]:
        """The keys of every handled group and text."""
        with self._connect() as connection:
            return {key for (key,) in connection.execute(f"SELECT key FROM {self.TABLE}")}

    def history(self, limit: int = 100) -> List[Handled]:
        """The groups handled, the latest first."""
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT group_key, how, who, MAX(at), topic, COUNT(*) FROM {self.TABLE} "
                "GROUP BY group_key ORDER BY MAX(at) DESC LIMIT ?", (limit,),
            ).fetchall()
        return [Handled(key, how, who, _utc(at), topic, count)
                for key, how, who, at, topic, count in rows]


def _utc(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc)
