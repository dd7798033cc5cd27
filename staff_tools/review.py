"""List what visitors asked that the assistant could not answer well, and how they rated answers.

    python -m staff_tools.review --from 2026-11-01 --to 2026-11-30 [--out reports/review]

`make review FROM=2026-11-01 TO=2026-11-30` runs it. It reads the Rasa server's tracker store
(`$TRACKER_STORE_URL`, SQLite or PostgreSQL) and lists, for the days from `--from` to `--to`
(both included, in the clinic's time zone from settings/clinic.yml), the visitor messages that

- were not understood (intent `nlu_fallback`: the assistant asked to rephrase),
- were off-topic (intent `out_of_scope`), or
- were answered with low confidence (intent, or FAQ topic, under `--threshold`),

grouped by similarity, with counts and the topic the model thought likeliest. It prints a
table and writes `unanswered.md` and `unanswered.csv` (one row per distinct message; the
`text` and `suggested_intent` columns can be pasted back as training data). A second table
counts the visitors' thumbs up and down per answered topic.

Crisis messages are never listed: the crisis rules answer them, and they are not material for
FAQ training data. Button clicks (payloads such as `/book_consultation`) are not listed either.
Message texts go to the terminal and the report files only, never to a log; the report files
are readable by their owner only.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from clinic.parse_result import chosen_topic, topic_ranking
from clinic.paths import PROJECT_DIR
from clinic.settings import SettingsError, load_settings
from staff_tools.tracker_db import (
    EVENTS,
    URL_ENV_VAR,
    StoredEvent,
    TrackerStoreError,
    fetch_rows,
    open_tracker_store,
    read_events,
)

DEFAULT_OUT = PROJECT_DIR / "reports" / "review"
# Under this confidence an answer counts as a guess worth reviewing. The assistant itself
# answers from 0.5 (intent) and 0.6 (FAQ topic) up (config.yml): 0.7 also lists the answers
# it gave while barely sure.
DEFAULT_THRESHOLD = 0.7
# Two messages whose character-trigram TF-IDF vectors have at least this cosine similarity
# (on average over a group's messages) are grouped: "whats the weather in paris today" and
# "what is the weather like in paris tomorrow" are, two unrelated questions are not.
DEFAULT_SIMILARITY = 0.35
EXAMPLES_PER_GROUP = 3
# Seconds of conversation before --from that are read to know which answer a rating is about.
CONTEXT_SECONDS = 86400

FALLBACK, OUT_OF_SCOPE, CRISIS, FEEDBACK, RETRIEVAL = (
    "nlu_fallback", "out_of_scope", "crisis", "feedback", "faq",
)
REASONS = {FALLBACK: "not understood", OUT_OF_SCOPE: "off-topic", "low": "low confidence"}
# Actions that are bookkeeping, not an answer.
NOT_ANSWERS = {"action_listen", "action_session_start", "action_unlikely_intent"}
NO_ANSWER = "(no answer before it)"
# What the assistant did with a message (the dashboard's shares).
ANSWERED, DID_YOU_MEAN, NOT_UNDERSTOOD, OFF_TOPIC, CRISIS_RESOURCES = (
    "answered", "did you mean", "not understood", "off-topic", "crisis resources",
)
OUTCOMES = (ANSWERED, DID_YOU_MEAN, NOT_UNDERSTOOD, OFF_TOPIC, CRISIS_RESOURCES)
# For `nlu_fallback` (data/rules/general.yml) actions/did_you_mean.py offers the likeliest
# topics as buttons, or, with no likely topic, sends the domain response asking to rephrase.
DID_YOU_MEAN_ACTION, REPHRASE = "action_did_you_mean", "utter_please_rephrase"
# How crisis shows in a conversation (domain.yml, data/rules/crisis.yml): the crisis
# detector's entity and the slots it fills, and the replies only a crisis brings.
CRISIS_KIND = "crisis_kind"
CRISIS_SLOTS = ("crisis_mode", CRISIS_KIND)
CRISIS_ACTIONS = frozenset({
    "utter_crisis", "action_crisis_contact", "utter_crisis_reminder", "utter_crisis_goodbye",
    "utter_check_in", "action_faq_phone_only", "action_crisis_question",
})
CSV_COLUMNS = ["text", "likeliest_topic", "suggested_intent", "count", "group", "reason",
               "confidence"]


class ReviewError(TrackerStoreError):
    """A problem staff can fix (a bad date, no database); shown as one line."""


# ---- what each visitor message was, and what followed it ---------------------------------

@dataclass
class VisitorTurn:
    """One visitor message (typed, a button's payload or a rating) and what followed it."""

    sender_id: str
    timestamp: float
    text: str  # as stored: masked
    parse_data: Dict[str, Any]
    actions: List[str] = field(default_factory=list)  # the actions run after it, in order
    replies: List[Dict[str, Any]] = field(default_factory=list)  # the `bot` events after it
    # For a rating: the last message before it, whose answer it rates.
    rates: Optional[VisitorTurn] = None
    # The text is the payload of a button the reply before it offered (a topic's title).
    clicked: bool = False

    @property
    def intent(self) -> str:
        """The intent the model gave the message."""
        return _intent(self.parse_data)[0]

    @property
    def is_rating(self) -> bool:
        """A 👍 / 👎 from the widget, not a message."""
        return self.intent == FEEDBACK

    @property
    def rating(self) -> str:
        """"up" or "down" for a rating, else ""."""
        return _rating(self.parse_data) if self.is_rating else ""

    @property
    def is_button(self) -> bool:
        """A button's payload (`/book_consultation`, a topic's title), not typed text."""
        return self.text.startswith("/") or self.clicked

    @property
    def answered_topic(self) -> str:
        """The topic of the first answer to it: `faq/<key>`, or the action's name."""
        for action in self.actions:
            if action not in NOT_ANSWERS:
                return _answered_topic(action, self.parse_data)
        return ""


def _payloads(reply: Dict[str, Any]) -> List[str]:
    buttons = (reply.get("data") or {}).get("buttons") or []
    return [str(b.get("payload")) for b in buttons if isinstance(b, dict) and b.get("payload")]


def conversation_turns(events: Iterable[StoredEvent]) -> Dict[str, List[VisitorTurn]]:
    """The visitor turns of each conversation, oldest first.

    `events` are `user`, `action` and `bot` events, by conversation, then as stored.
    """
    conversations: Dict[str, List[VisitorTurn]] = defaultdict(list)
    current: Dict[str, VisitorTurn] = {}
    question: Dict[str, VisitorTurn] = {}
    offered: Dict[str, set] = defaultdict(set)  # payloads of the buttons shown since
    for event in events:
        sender = event.sender_id
        if event.type_name == "user":
            parse_data = event.data.get("parse_data") or {}
            turn = VisitorTurn(sender, event.timestamp, str(event.data.get("text") or "").strip(),
                               parse_data if isinstance(parse_data, dict) else {})
            if turn.is_rating:
                turn.rates = question.get(sender)
            else:
                turn.clicked = bool(turn.text) and turn.text in offered[sender]
                offered[sender] = set()
                question[sender] = turn
            current[sender] = turn
            conversations[sender].append(turn)
        elif sender in current:
            if event.type_name == "action":
                current[sender].actions.append(str(event.data.get("name") or ""))
            elif event.type_name == "bot":
                current[sender].replies.append(event.data)
                offered[sender].update(_payloads(event.data))
    return dict(conversations)


def outcome(turn: VisitorTurn) -> str:
    """What the assistant did with a message: one of OUTCOMES."""
    intent = turn.intent
    if intent == CRISIS:
        return CRISIS_RESOURCES
    if intent == OUT_OF_SCOPE:
        return OFF_TOPIC
    if intent == FALLBACK:
        offered_choices = DID_YOU_MEAN_ACTION in turn.actions and any(
            _payloads(reply) and (reply.get("metadata") or {}).get("utter_action") != REPHRASE
            for reply in turn.replies
        )
        return DID_YOU_MEAN if offered_choices else NOT_UNDERSTOOD
    return ANSWERED


def crisis_conversations(engine: Engine, sender_ids: Optional[Iterable[str]] = None) -> Set[str]:
    """The conversations in which crisis was detected, at any time they hold.

    A message with intent `crisis` or a `crisis_kind` entity (the crisis detector's, including
    its weaker check-in tier), the `crisis_mode` or `crisis_kind` slot set, or a crisis reply
    (the resources, the reminders, the check-in line). With `sender_ids`, only among those.
    """
    events = EVENTS.c
    query = sa.select(events.sender_id, events.type_name, events.data).where(sa.or_(
        events.intent_name == CRISIS,
        events.action_name.in_(sorted(CRISIS_ACTIONS)),
        sa.and_(events.type_name.in_(["slot", "user"]),
                sa.or_(*(events.data.like(f"%{name}%") for name in CRISIS_SLOTS))),
    ))
    wanted = None if sender_ids is None else set(sender_ids)
    if wanted is not None:
        if not wanted:
            return set()
        if len(wanted) <= 500:  # else filter below: some databases limit a query's parameters
            query = query.where(events.sender_id.in_(sorted(wanted)))
    found: Set[str] = set()
    for sender_id, type_name, raw in fetch_rows(engine, query, missing_ok=True):
        if sender_id in found or (wanted is not None and sender_id not in wanted):
            continue
        if type_name not in ("slot", "user"):
            found.add(sender_id)  # the crisis intent or a crisis reply
            continue
        try:
            data = json.loads(raw or "{}")
        except ValueError:
            found.add(sender_id)  # damaged, and it named crisis: keep it out of sight
            continue
        if _crisis_marked(type_name, data):
            found.add(sender_id)
    return found


def _crisis_marked(type_name: str, data: Dict[str, Any]) -> bool:
    if type_name == "slot":
        return data.get("name") in CRISIS_SLOTS and data.get("value") not in (None, False)
    parse_data = data.get("parse_data") or {}
    return _intent(parse_data)[0] == CRISIS or any(
        isinstance(entity, dict) and entity.get("entity") == CRISIS_KIND
        for entity in parse_data.get("entities") or []
    )


# ---- what the review lists --------------------------------------------------------------

@dataclass
class Unanswered:
    """A visitor message worth turning into training data."""

    text: str
    reason: str
    likeliest_topic: str
    confidence: float


@dataclass
class Review:
    """Everything the report shows."""

    unanswered: List[Unanswered] = field(default_factory=list)
    ratings: Dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    crisis_messages: int = 0
    visitor_messages: int = 0


def _intent(parse_data: Dict[str, Any]) -> Tuple[str, float]:
    intent = parse_data.get("intent") or {}
    return str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)


def _faq_answer(parse_data: Dict[str, Any]) -> Tuple[str, float]:
    """The FAQ topic `faq/<key>` the response selector chose, and its confidence."""
    key, confidence = chosen_topic(parse_data, RETRIEVAL)
    if not key:
        ranking = topic_ranking(parse_data, RETRIEVAL)
        key = str((ranking[0] if ranking else {}).get("intent_response_key") or "")
    return key, confidence


def likeliest_topic(parse_data: Dict[str, Any]) -> Tuple[str, float]:
    """What the model thought most likely, ignoring the fallback: `faq/<key>` or an intent."""
    ranking = [
        entry for entry in parse_data.get("intent_ranking") or []
        if entry.get("name") and entry.get("name") != FALLBACK
    ]
    name, confidence = _intent(parse_data)
    if ranking:
        name, confidence = str(ranking[0]["name"]), float(ranking[0].get("confidence") or 0.0)
    if name == RETRIEVAL:
        key, topic_confidence = _faq_answer(parse_data)
        if key:
            return key, topic_confidence
    return name, confidence


def why_unanswered(parse_data: Dict[str, Any], threshold: float) -> Optional[str]:
    """The reason a message is worth reviewing, or None if it was answered confidently."""
    intent, confidence = _intent(parse_data)
    if intent in (FALLBACK, OUT_OF_SCOPE):
        return REASONS[intent]
    if confidence < threshold:
        return REASONS["low"]
    if intent == RETRIEVAL and _faq_answer(parse_data)[1] < threshold:
        return REASONS["low"]
    return None


def _rating(parse_data: Dict[str, Any]) -> str:
    for entity in parse_data.get("entities") or []:
        if entity.get("entity") == "rating" and entity.get("value") in ("up", "down"):
            return str(entity["value"])
    return ""


def _answered_topic(action: str, question: Dict[str, Any]) -> str:
    """The topic of an answer: `faq/<key>` for an FAQ answer, else the action's name."""
    if action == f"utter_{RETRIEVAL}":
        full = (question.get("intent") or {}).get("full_retrieval_intent_name")
        return str(full or _faq_answer(question)[0] or action)
    return action


def rated_topic(rating: VisitorTurn) -> str:
    """What a rating is about: the topic of the answer to the message before it."""
    return (rating.rates.answered_topic if rating.rates else "") or NO_ANSWER


def review_events(
    events: Iterable[StoredEvent], start: float, end: float, threshold: float
) -> Review:
    """Sort the visitor messages from `start` to `end` into unanswered, crisis and ratings."""
    review = Review()
    for turns in conversation_turns(events).values():
        for turn in turns:
            if not start <= turn.timestamp < end:
                continue
            if turn.is_rating:
                if turn.rating:
                    review.ratings[rated_topic(turn)][turn.rating] += 1
                continue
            if not turn.text or turn.is_button:
                continue  # a button's payload, not something the visitor wrote
            review.visitor_messages += 1
            if turn.intent == CRISIS:
                review.crisis_messages += 1
                continue
            reason = why_unanswered(turn.parse_data, threshold)
            if reason:
                topic, confidence = likeliest_topic(turn.parse_data)
                review.unanswered.append(Unanswered(turn.text, reason, topic, confidence))
    return review


# ---- grouping similar messages -----------------------------------------------------------

@dataclass
class Row:
    """One distinct message text, with how often it was sent."""

    text: str
    count: int
    likeliest_topic: str
    confidence: float
    reason: str


@dataclass
class Group:
    """Messages about the same thing."""

    number: int
    rows: List[Row]

    @property
    def count(self) -> int:
        """How many messages the group holds."""
        return sum(row.count for row in self.rows)

    @property
    def suggested_intent(self) -> str:
        """The likeliest topic most of the group's messages share."""
        votes: Counter = Counter()
        for row in self.rows:
            votes[row.likeliest_topic] += row.count
        return votes.most_common(1)[0][0] if votes else ""


def normalise(text: str) -> str:
    """A message's text ignoring case, spacing and end punctuation.

    What counts as the same message: "How much is it?" and "how much  is it".
    """
    spaced = " ".join(text.lower().split())
    return spaced.rstrip(" .?!") or spaced


def distinct_rows(unanswered: Sequence[Unanswered]) -> List[Row]:
    """One row per message text (ignoring case and spacing), most frequent first."""
    rows: Dict[str, Row] = {}
    for message in unanswered:
        key = normalise(message.text)
        if key in rows:
            rows[key].count += 1
        else:
            rows[key] = Row(message.text, 1, message.likeliest_topic, message.confidence,
                            message.reason)
    return sorted(rows.values(), key=lambda row: (-row.count, normalise(row.text)))


def group_rows(rows: Sequence[Row], similarity: float) -> List[Group]:
    """Greedy average-link grouping on character n-gram TF-IDF cosine similarity."""
    if not rows:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), sublinear_tf=True)
    matrix = vectors.fit_transform([normalise(row.text) for row in rows])
    similarities = cosine_similarity(matrix)
    members: List[List[int]] = []
    for index in range(len(rows)):
        best, best_score = -1, similarity
        for number, group in enumerate(members):
            score = float(similarities[index, group].mean())
            if score >= best_score:
                best, best_score = number, score
        if best >= 0:
            members[best].append(index)
        else:
            members.append([index])
    groups = [Group(0, [rows[i] for i in indices]) for indices in members]
    groups.sort(key=lambda found: -found.count)
    for number, found in enumerate(groups, start=1):
        found.number = number
    return groups


# ---- the report --------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """The days reviewed, in the clinic's time zone."""

    first: dt.date
    last: dt.date
    zone: ZoneInfo

    @property
    def start(self) -> float:
        """Unix time of the first day's midnight."""
        return dt.datetime.combine(self.first, dt.time(), self.zone).timestamp()

    @property
    def end(self) -> float:
        """Unix time of the midnight after the last day."""
        day_after = self.last + dt.timedelta(days=1)
        return dt.datetime.combine(day_after, dt.time(), self.zone).timestamp()

    def __str__(self) -> str:
        return f"{self.first.isoformat()} to {self.last.isoformat()} ({self.zone.key})"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _percent(confidence: float) -> str:
    return f"{confidence:.0%}"


def markdown_report(period: Period, review: Review, groups: Sequence[Group],
                    threshold: float) -> str:
    """The report as Markdown: unanswered groups, ratings per topic, and notes."""
    total = sum(group.count for group in groups)
    lines = [
        "# Questions the assistant could not answer well",
        "",
        f"Period: {period}. Visitor messages: {review.visitor_messages}; not understood, "
        f"off-topic or answered with under {_percent(threshold)} confidence: {total}, "
        f"in {len(groups)} groups of similar messages.",
        "",
        "To teach the assistant a question, add its text as an example of the right topic in "
        "`data/nlu/` (the CSV beside this file has one row per message), then retrain.",
        "",
    ]
    if groups:
        lines += ["| Group | Count | Likeliest topic | Why listed | Examples |",
                  "|---:|---:|---|---|---|"]
        for group in groups:
            reasons = ", ".join(sorted({row.reason for row in group.rows}))
            examples = "<br>".join(
                _cell(f"{row.text} (x{row.count})" if row.count > 1 else row.text)
                for row in group.rows[:EXAMPLES_PER_GROUP]
            )
            more = len(group.rows) - EXAMPLES_PER_GROUP
            if more > 0:
                examples += f"<br>... and {more} more in the CSV"
            lines.append(f"| {group.number} | {group.count} | {group.suggested_intent} | "
                         f"{reasons} | {examples} |")
    else:
        lines.append("No unanswered messages in this period.")
    lines += ["", "## Visitors' ratings per topic", ""]
    if review.ratings:
        lines += ["| Topic answered before the rating | 👍 helped | 👎 did not help |",
                  "|---|---:|---:|"]
        for topic, votes in sorted(review.ratings.items(),
                                   key=lambda item: (-item[1]["down"], item[0])):
            lines.append(f"| {topic} | {votes['up']} | {votes['down']} |")
    else:
        lines.append("No ratings in this period.")
    lines += [
        "",
        "## Not listed",
        "",
        f"- Crisis messages ({review.crisis_messages} in this period) are never listed: the "
        "crisis rules answer them with the crisis resources, and they are not material for "
        "FAQ training data. To catch a missed one, add a pattern to `patterns/crisis.yml`.",
        "- Button clicks, and questions answered with enough confidence.",
        "",
    ]
    return "\n".join(lines)


def terminal_table(period: Period, review: Review, groups: Sequence[Group]) -> str:
    """A plain-text summary for the terminal."""
    lines = [f"Unanswered questions, {period}: {sum(g.count for g in groups)} messages "
             f"in {len(groups)} groups ({review.crisis_messages} crisis messages not listed)."]
    if groups:
        lines.append(f"{'group':>5}  {'count':>5}  {'likeliest topic':<28}  example")
        for group in groups:
            example = " ".join(group.rows[0].text.split())
            if len(example) > 60:
                example = example[:57] + "..."
            lines.append(f"{group.number:>5}  {group.count:>5}  "
                         f"{group.suggested_intent:<28}  {example}")
    if review.ratings:
        lines.append("Ratings per topic:")
        lines.append(f"{'topic':<34}  {'up':>4}  {'down':>4}")
        for topic, votes in sorted(review.ratings.items()):
            lines.append(f"{topic:<34}  {votes['up']:>4}  {votes['down']:>4}")
    else:
        lines.append("No ratings in this period.")
    return "\n".join(lines)


def csv_rows(groups: Sequence[Group]) -> Iterator[Dict[str, Any]]:
    """One CSV row per distinct message."""
    for group in groups:
        for row in group.rows:
            yield {
                "text": " ".join(row.text.split()),
                "likeliest_topic": row.likeliest_topic,
                "suggested_intent": group.suggested_intent,
                "count": row.count,
                "group": group.number,
                "reason": row.reason,
                "confidence": f"{row.confidence:.2f}",
            }


def _private_file(path: Path) -> Any:
    """Open `path` for writing, readable by its owner only: it holds visitors' messages."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)
    return os.fdopen(descriptor, "w", encoding="utf-8", newline="")


def write_reports(out: Path, markdown: str, groups: Sequence[Group]) -> Tuple[Path, Path]:
    """Write unanswered.md and unanswered.csv into `out`."""
    try:
        out.mkdir(parents=True, exist_ok=True, mode=0o700)
        md_path, csv_path = out / "unanswered.md", out / "unanswered.csv"
        with _private_file(md_path) as md_file:
            md_file.write(markdown)
        with _private_file(csv_path) as csv_file:
            writer = csv.DictWriter(csv_file, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            writer.writerows(csv_rows(groups))
    except OSError as error:
        raise ReviewError(f"cannot write the report into {out}: {error.strerror}") from error
    return md_path, csv_path


# ---- command line ------------------------------------------------------------------------

def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{value}' is not a date: write it as YYYY-MM-DD, e.g. 2026-11-24"
        ) from None


def _fraction(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 < number <= 1.0:
        raise argparse.ArgumentTypeError(f"'{value}' is not a number between 0 and 1")
    return number


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m staff_tools.review",
        description="List the visitor messages the assistant could not answer well, grouped "
        "by similarity, and the visitors' ratings per topic.",
    )
    parser.add_argument("--from", dest="first", type=_date, required=True,
                        help="first day, YYYY-MM-DD (the clinic's time zone)")
    parser.add_argument("--to", dest="last", type=_date, required=True,
                        help="last day, YYYY-MM-DD, included")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="folder for unanswered.md and unanswered.csv (default: %(default)s)")
    parser.add_argument("--threshold", type=_fraction, default=DEFAULT_THRESHOLD,
                        help="list answers given with less confidence than this "
                        "(default: %(default)s)")
    parser.add_argument("--similarity", type=_fraction, default=DEFAULT_SIMILARITY,
                        help="how alike messages must be to share a group (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.first > args.last:
        parser.error(f"--from {args.first} is after --to {args.last}")
    return args


def run(args: argparse.Namespace) -> int:
    """Read, review, print and write; raise `ReviewError` on a problem staff can fix."""
    try:
        zone = load_settings().time_zone
    except SettingsError as error:
        raise ReviewError(str(error)) from error
    period = Period(args.first, args.last, zone)
    engine = open_tracker_store(os.environ.get(URL_ENV_VAR), "make review")
    try:
        events = read_events(engine, period.start - CONTEXT_SECONDS, period.end)
    finally:
        engine.dispose()
    review = review_events(events, period.start, period.end, args.threshold)
    groups = group_rows(distinct_rows(review.unanswered), args.similarity)
    markdown = markdown_report(period, review, groups, args.threshold)
    md_path, csv_path = write_reports(args.out, markdown, groups)
    print(terminal_table(period, review, groups))
    print(f"Report: {md_path}\nCSV for training data: {csv_path}")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point: 0 on success, 1 on a problem (one line on stderr), 2 on bad options."""
    args = parse_args(argv)
    try:
        return run(args)
    except TrackerStoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
