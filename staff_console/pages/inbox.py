"""The inbox: what visitors asked that the assistant did not answer well (staff_tools.inbox).

Each group of similar questions has one form: add the selected questions as examples of a
topic (or another kind of message), mark them off-topic (examples of `out_of_scope`), or
dismiss them. Either way the group leaves the inbox (staff_tools.inbox.HandledStore, with who
did it). Forms send the group's key and the keys (hashes) of the chosen questions, never the
texts: the texts are read again from the tracker store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from staff_console.accounts import Account
from staff_console.pages.topics import INTENT_NAMES, NOT_EDITED_HERE, Outcome, edit_examples
from staff_console.periods import Period, period_from, time_zone, today, tracker_engine
from staff_console.web import (
    Console,
    account_of,
    blocking,
    console_of,
    form_value,
    form_values,
    render,
    see_other,
)
from staff_tools.inbox import (
    ASSIGNED,
    DISMISSED,
    MARKED_OFF_TOPIC,
    HandledStore,
    InboxGroup,
    InboxMessage,
    conversation_around,
    find_group,
    inbox_groups,
    text_key,
)
from staff_tools.tracker_db import TrackerStoreError
from staff_tools.training_data import all_examples, read_topics

blueprint = Blueprint("inbox")
SHOWN_GROUPS = 50
OFF_TOPIC_LABEL = "out_of_scope"
ACTIONS = {"assign": ASSIGNED, "off-topic": MARKED_OFF_TOPIC, "dismiss": DISMISSED}


@dataclass
class InboxView:
    """What the inbox page shows."""

    period: Period
    groups: List[InboxGroup] = field(default_factory=list)
    total: int = 0
    message: str = ""  # why there is nothing to show
    choices: List[Tuple[str, str]] = field(default_factory=list)  # (label, staff words)
    zone: Optional[dt.tzinfo] = None  # the clinic's time zone, for the times shown

    @staticmethod
    def rows(group: InboxGroup) -> List[Tuple[str, int, str]]:
        """(text, how often, its key) for each question of a group."""
        counts = dict(group.text_counts)
        keys = group.member_keys or [text_key(text) for text in group.texts]
        return [(text, counts.get(text, 1), key)
                for text, key in zip(group.texts, keys, strict=False)]

    def choice_name(self, label: Optional[str]) -> str:
        """Staff words for a topic or intent."""
        return dict(self.choices).get(label or "", label or "")


def _choices(console: Console) -> List[Tuple[str, str]]:
    project = console.config.project
    topics = [(f"faq/{key}", f"Topic: {entry.title}")
              for key, entry in read_topics(project).items()]
    others = [(label, INTENT_NAMES.get(label, label)) for label in sorted(all_examples(project))
              if not label.startswith("faq/") and label not in NOT_EDITED_HERE]
    return topics + others


def _groups(console: Console, period: Period) -> Tuple[List[InboxGroup], str]:
    engine, why = tracker_engine(console)
    if engine is None:
        return [], why
    try:
        groups = inbox_groups(engine, period.since, period.until,
                              HandledStore(console.config.db_path), time_zone(console))
    except TrackerStoreError as error:
        return [], f"The conversations could not be read: {error}"
    return groups, ""


def _view(console: Console, query: Dict[str, str]) -> InboxView:
    period = period_from(query, today(console))
    groups, message = _groups(console, period)
    return InboxView(period, groups[:SHOWN_GROUPS], len(groups), message, _choices(console),
                     time_zone(console))


def _query(request: Request) -> Dict[str, str]:
    return {name: str(request.args.get(name) or form_value(request, name) or "")
            for name in ("from", "to")}


@blueprint.get("/inbox")
async def inbox_page(request: Request) -> HTTPResponse:
    """The groups of questions to look at, the largest first."""
    console = console_of(request)
    view = await blocking(_view, console, _query(request))
    return render(request, "inbox.html", title="Inbox", view=view,
                  today=await blocking(today, console), group_problems={})


def _chosen_texts(group: InboxGroup, keys: Sequence[str]) -> List[str]:
    member_keys = group.member_keys or [text_key(text) for text in group.texts]
    return [text for text, key in zip(group.texts, member_keys, strict=False) if key in keys]


def handle(console: Console, period: Period, group_key: str, action: str, label: str,
           keys: Sequence[str], account: Account) -> Outcome:
    """Assign, mark off-topic or dismiss one group; the outcome says what it came to."""
    outcome = Outcome()
    if action not in ACTIONS:
        outcome.problems.add("group", "Choose what to do with these questions.")
        return outcome
    groups, message = _groups(console, period)
    group = find_group(groups, group_key)
    if group is None:
        outcome.problems.add("group", message or "These questions are no longer in the inbox "
                             "(someone else may have handled them).")
        return outcome
    if action != "dismiss":
        label = OFF_TOPIC_LABEL if action == "off-topic" else label
        if label not in dict(_choices(console)):
            outcome.problems.add("group", "Choose the topic these questions belong to.")
            return outcome
        texts = _chosen_texts(group, keys)
        if not texts:
            outcome.problems.add("group", "Select at least one of the questions.")
            return outcome
        outcome = edit_examples(console, label, texts, [], account, save=True,
                                nothing_new_is_done=True)
        if outcome.problems:
            return outcome
    HandledStore(console.config.db_path).mark(
        group, ACTIONS[action], account.name, topic=label if action != "dismiss" else "")
    console.record(account.name, f"inbox: {ACTIONS[action]}"
                   + (f" to {label}" if action == "assign" else ""))
    outcome.done = action if action != "assign" else "assigned"
    return outcome


@blueprint.post("/inbox/handle")
async def inbox_handle(request: Request) -> HTTPResponse:
    """One click on a group: assign to a topic, mark off-topic, or dismiss."""
    console = console_of(request)
    query = _query(request)
    period = period_from(query, await blocking(today, console))
    group_key = form_value(request, "group")
    outcome = await blocking(handle, console, period, group_key, form_value(request, "action"),
                             form_value(request, "topic"), form_values(request, "texts"),
                             account_of(request))
    if outcome.done:
        return see_other("/inbox", done=outcome.done, **{k: v for k, v in query.items() if v})
    view = await blocking(_view, console, query)
    problems = [message for _, message in outcome.problems.all()]
    return render(request, "inbox.html", status=422, title="Inbox", view=view,
                  today=await blocking(today, console), group_problems={group_key: problems},
                  selected_topic={group_key: form_value(request, "topic")},
                  selected_texts=set(form_values(request, "texts")))


def _conversation(console: Console, conversation: str, timestamp: float) -> Tuple[list, str]:
    engine, why = tracker_engine(console)
    if engine is None:
        return [], why
    turns = conversation_around(engine, InboxMessage("", conversation, timestamp, ""), 4, 4)
    return turns, "" if turns else ("This conversation is no longer stored (conversations are "
                                    "deleted after the retention period).")


@blueprint.get("/inbox/conversation")
async def conversation_page(request: Request) -> HTTPResponse:
    """The conversation around one listed question, as stored (phone numbers masked)."""
    console = console_of(request)
    conversation = str(request.args.get("c") or "")[:64]
    try:
        timestamp = float(request.args.get("t") or "")
    except ValueError:
        timestamp = 0.0
    turns, message = await blocking(_conversation, console, conversation, timestamp)
    back = "/inbox"
    first, last = str(request.args.get("from") or ""), str(request.args.get("to") or "")
    if first and last:
        back += f"?from={first}&to={last}"
    return render(request, "conversation.html", title="Conversation", turns=turns,
                  message=message, back=back,
                  when=_when(timestamp, time_zone(console)) if timestamp else "")


def _when(timestamp: float, zone: Optional[dt.tzinfo]) -> str:
    return dt.datetime.fromtimestamp(timestamp, zone).strftime("%Y-%m-%d %H:%M")
