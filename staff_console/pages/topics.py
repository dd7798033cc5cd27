"""Topics and answers: the list, a page per topic, the other kinds of message, a new topic.

A topic's page edits its answer, title, related topics and examples; another kind of message's
page (off-topic, greeting ...) its examples only.

Every form has two buttons: "Check" shows the data checker's problems next to the fields
without saving; "Save" saves only when there is none, and otherwise shows the same page with
the problems and everything typed kept. A saved edit is one commit with the staff member as
its author (staff_tools.history).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from sanic import Blueprint, Request
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse

from staff_console.accounts import Account
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
from staff_tools import history
from staff_tools.check_data import Problem
from staff_tools.check_data.layout import DOMAIN_FILE, TOPICS_FILE
from staff_tools.training_data import (
    Draft,
    EditError,
    ExampleRef,
    TopicEntry,
    all_examples,
    answer_problems,
    example_problems,
    key_problems,
    normalized_line,
    project_problems,
    read_topic,
    read_topics,
    title_problems,
)

blueprint = Blueprint("topics")
# Kinds of message whose examples staff do not edit here: crisis examples and phrases stay
# with the clinicians (docs/staff-guide.md), and feedback is the widget's thumbs.
NOT_EDITED_HERE = ("crisis", "feedback")
SEPARATOR = "::"  # between a file and an example's text in a checkbox's value
INTENT_NAMES = {
    "out_of_scope": "Off-topic (not about the clinic)",
    "medical_advice": "Asking for personal medical advice",
    "book_consultation": "Wants to book a consultation",
    "contact_human": "Wants to talk to a person",
    "greet": "Greeting", "goodbye": "Goodbye", "thanks": "Thanks",
    "affirm": "Yes", "deny": "No", "bot_challenge": "Asks whether it is a bot",
}


class Problems:
    """Problems by form field ("title", "answer", "examples" ...; "form": the whole form)."""

    def __init__(self) -> None:
        self.by_field: Dict[str, List[str]] = {}

    def add(self, name: str, message: str) -> None:
        """One problem next to field `name`."""
        self.by_field.setdefault(name, []).append(message)

    def add_checked(self, problems: Sequence[Problem], nlu_field: str) -> None:
        """The data checker's problems, each next to the field it is about."""
        for problem in problems:
            self.add(_field_of(problem, nlu_field),
                     f"{problem.what}. How to fix: {problem.fix}.")

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def get(self, name: str) -> List[str]:
        """The problems of one field."""
        return self.by_field.get(name, [])

    def all(self) -> List[Tuple[str, str]]:
        """(field, problem) for every problem, for the summary above the form."""
        return [(name, message) for name, messages in self.by_field.items()
                for message in messages]


def _field_of(problem: Problem, nlu_field: str) -> str:
    if problem.path == TOPICS_FILE:
        if "related" in problem.what:
            return "related"
        if "answered_by_article" in problem.what:
            return "answered"
        if "title" in problem.what:
            return "title"
        return "form"
    if problem.path == DOMAIN_FILE:
        return "answer"
    if problem.path.startswith("data/nlu/"):
        return nlu_field
    return "form"


@dataclass
class Outcome:
    """What an edit came to: saved (`done` names the notice), or the problems found."""

    problems: Problems = field(default_factory=Problems)
    done: Optional[str] = None
    checked: bool = False  # checked without saving, and no problem found


# ---- saving --------------------------------------------------------------------------------

class SaveError(Exception):
    """The history could not record a change (so it was not saved): staff words."""


def save_and_commit(console: Console, draft: Draft, account: Account, summary: str) -> bool:
    """Write the draft's files and commit them as `account`; False if nothing changed.

    If the commit fails, the files are put back as they were and `SaveError` says why.
    """
    project = console.config.project
    changed = draft.changed()
    if not changed:
        return False
    originals = {rel: (project / rel).read_text(encoding="utf-8") for rel in changed
                 if (project / rel).is_file()}
    paths = draft.save()
    try:
        history.commit_change(project, paths, summary[:200], account.name, account.email)
    except history.NoChanges:
        return False
    except BaseException as error:
        for rel in changed:
            if rel in originals:
                (project / rel).write_text(originals[rel], encoding="utf-8")
            else:
                (project / rel).unlink(missing_ok=True)
        if isinstance(error, history.HistoryError):
            raise SaveError(f"Nothing was saved: {error}.") from error
        raise
    return True


@contextlib.contextmanager
def _maybe_locked(console: Console, save: bool) -> Iterator[None]:
    if save:
        with console.edit_lock:
            yield
    else:
        yield


def _summary(draft: Draft, fallback: str) -> str:
    return "; ".join(draft.descriptions) or fallback


# ---- the list --------------------------------------------------------------------------------

@dataclass(frozen=True)
class LabelSummary:
    """A line of the topics page."""

    name: str  # the topic's key or the intent
    title: str
    url: str
    examples: int
    answered_by_article: Optional[bool] = None


def _list(project: Path) -> Tuple[List[LabelSummary], List[LabelSummary]]:
    examples = all_examples(project)
    topics = [LabelSummary(key, entry.title, f"/topics/{key}",
                           len(examples.get(f"faq/{key}", [])), entry.answered_by_article)
              for key, entry in read_topics(project).items()]
    intents = [LabelSummary(label, INTENT_NAMES.get(label, label), f"/intents/{label}",
                            len(refs))
               for label, refs in sorted(examples.items())
               if not label.startswith("faq/") and label not in NOT_EDITED_HERE]
    return topics, intents


@blueprint.get("/topics")
async def topic_list(request: Request) -> HTTPResponse:
    """Every FAQ topic, and the other kinds of message."""
    topics, intents = await blocking(_list, console_of(request).config.project)
    return render(request, "topics.html", title="Topics and answers", topics=topics,
                  intents=intents)


# ---- one topic -------------------------------------------------------------------------------

@dataclass
class TopicForm:
    """What the topic form holds (as typed, so that nothing is lost on a problem)."""

    title: str
    answered: Optional[bool]
    related: List[str]
    answer: str

    @classmethod
    def from_request(cls, request: Request) -> TopicForm:
        """The form as posted."""
        answered = form_value(request, "answered")
        return cls(form_value(request, "title"),
                   {"yes": True, "no": False}.get(answered),
                   form_values(request, "related"), form_value(request, "answer"))

    @classmethod
    def from_entry(cls, entry: TopicEntry, answer: str) -> TopicForm:
        """The form filled with the topic as saved."""
        return cls(entry.title, entry.answered_by_article, list(entry.related), answer)


def _field_checks(form: TopicForm, topics: Dict[str, TopicEntry], key: Optional[str],
                  problems: Problems) -> None:
    for message in title_problems(normalized_line(form.title)):
        problems.add("title", message)
    for message in answer_problems(form.answer):
        problems.add("answer", message)
    if form.answered is None:
        problems.add("answered", "Say whether the clinic's article answers this question.")
    for name in form.related:
        if name not in topics or name == key:
            problems.add("related", f"'{name}' cannot be a related topic here.")


def _topic_page_data(project: Path, key: str) -> Dict[str, Any]:
    try:
        topic = read_topic(project, key)
    except EditError:
        raise NotFound("no such topic") from None
    before = [problem for problem in project_problems(project)
              if f"faq/{key}" in problem.what or f"'{key}'" in problem.what]
    return {"topic": topic, "topics": read_topics(project), "existing_problems": before}


def _edit_topic(console: Console, key: str, form: TopicForm, account: Account,
                save: bool) -> Outcome:
    outcome = Outcome()
    project = console.config.project
    with _maybe_locked(console, save):
        topics = read_topics(project)
        _field_checks(form, topics, key, outcome.problems)
        # The data checker too, on what can be checked, so that every problem shows at once.
        draft = Draft(project)
        try:
            if form.answer.strip():
                draft.set_answer(key, form.answer)
            draft.set_topic(key, title=None if outcome.problems.get("title") else form.title,
                            answered_by_article=form.answered,
                            related=[name for name in form.related if name in topics])
        except EditError as error:
            outcome.problems.add("form", str(error))
            return outcome
        outcome.problems.add_checked(draft.problems(), nlu_field="title")
        if outcome.problems:
            return outcome
        if not save:
            outcome.checked = True
            return outcome
        try:
            saved = save_and_commit(console, draft, account, _summary(draft, f"Topic {key}"))
        except SaveError as error:
            outcome.problems.add("form", str(error))
            return outcome
        outcome.done = "saved" if saved else "nothing"
    return outcome


@blueprint.get("/topics/<key>")
async def topic_page(request: Request, key: str) -> HTTPResponse:
    """A topic's answer, title, related topics and examples, editable."""
    data = await blocking(_topic_page_data, console_of(request).config.project, key)
    topic = data["topic"]
    return render(request, "topic.html", title=f"Topic: {topic.entry.title}",
                  form=TopicForm.from_entry(topic.entry, topic.answer),
                  problems=Problems(), example_problems=Problems(), new_examples="", **data)


@blueprint.post("/topics/<key>")
async def topic_save(request: Request, key: str) -> HTTPResponse:
    """Check, or save, the topic form."""
    console = console_of(request)
    form = TopicForm.from_request(request)
    save = form_value(request, "action") == "save"
    data = await blocking(_topic_page_data, console.config.project, key)
    outcome = await blocking(_edit_topic, console, key, form, account_of(request), save)
    if outcome.done:
        return see_other(f"/topics/{key}", done=outcome.done)
    return render(request, "topic.html", status=422 if outcome.problems else 200,
                  title=f"Topic: {data['topic'].entry.title}",
                  form=form, problems=outcome.problems, checked=outcome.checked,
                  example_problems=Problems(), new_examples="", **data)


# ---- examples (of a topic or of another kind of message) -------------------------------------

def _label_of(kind: str, name: str, project: Path) -> str:
    if kind == "topics":
        if name not in read_topics(project):
            raise NotFound("no such topic")
        return f"faq/{name}"
    if name in NOT_EDITED_HERE or name.startswith("faq") or name not in all_examples(project):
        raise NotFound("no such kind of message")
    return name


def _lines(text: str) -> List[str]:
    return [normalized_line(line.lstrip("-• ")) for line in text.splitlines() if line.strip()]


def edit_examples(console: Console, label: str, add: Sequence[str], remove: Sequence[ExampleRef],
                  account: Account, save: bool, nothing_new_is_done: bool = False) -> Outcome:
    """Add and remove examples of `label`; check, and save if asked and there is no problem.

    Examples already there are not added again: with `nothing_new_is_done` that is no
    problem (the inbox: the question is taught already), otherwise it is said.
    """
    outcome = Outcome()
    for text in add:
        for message in example_problems(text):
            outcome.problems.add("examples", f"“{text}”: {message}")
    if not add and not remove:
        outcome.problems.add("examples", "Type at least one example, one per line.")
    if outcome.problems:
        return outcome
    with _maybe_locked(console, save):
        draft = Draft(console.config.project)
        try:
            added = draft.add_examples(label, add) if add else []
            for ref in remove:
                draft.remove_example(label, ref.text, ref.path)
        except EditError as error:
            outcome.problems.add("examples", str(error) + ".")
            return outcome
        if add and not added and not remove:
            if nothing_new_is_done:
                outcome.done = "nothing"
            else:
                outcome.problems.add("examples", "These examples are already there.")
            return outcome
        outcome.problems.add_checked(draft.problems(), nlu_field="examples")
        if outcome.problems or not save:
            outcome.checked = not outcome.problems
            return outcome
        try:
            saved = save_and_commit(console, draft, account,
                                    _summary(draft, f"Examples of {label}"))
        except SaveError as error:
            outcome.problems.add("examples", str(error))
            return outcome
        outcome.done = ("examples-added" if add else "examples-removed") if saved else "nothing"
    return outcome


def _label_page_data(project: Path, kind: str, name: str) -> Dict[str, Any]:
    if kind == "topics":
        return _topic_page_data(project, name)
    label = _label_of(kind, name, project)
    return {"label": label, "label_title": INTENT_NAMES.get(label, label),
            "examples": all_examples(project).get(label, [])}


async def _examples_post(request: Request, kind: str, name: str) -> HTTPResponse:
    console = console_of(request)
    project = console.config.project
    label = await blocking(_label_of, kind, name, project)
    removing = form_value(request, "action") == "remove"
    add = [] if removing else _lines(form_value(request, "examples"))
    remove = []
    for value in form_values(request, "remove") if removing else []:
        path, _, text = value.partition(SEPARATOR)
        remove.append(ExampleRef(text, path))
    save = form_value(request, "action") in ("add", "remove")
    outcome = await blocking(edit_examples, console, label, add, remove, account_of(request),
                             save)
    url = f"/{kind}/{name}"
    if outcome.done:
        return see_other(url, done=outcome.done)
    data = await blocking(_label_page_data, project, kind, name)
    status = 422 if outcome.problems else 200
    if removing and outcome.problems:
        outcome.problems.by_field["remove"] = outcome.problems.by_field.pop("examples", [])
    common = {"example_problems": outcome.problems, "examples_checked": outcome.checked,
              "new_examples": form_value(request, "examples"),
              "selected": set(form_values(request, "remove"))}
    if kind == "topics":
        topic = data["topic"]
        return render(request, "topic.html", status=status,
                      title=f"Topic: {topic.entry.title}",
                      form=TopicForm.from_entry(topic.entry, topic.answer),
                      problems=Problems(), **common, **data)
    return render(request, "intent.html", status=status,
                  title=f"Examples: {data['label_title']}", **common, **data)


@blueprint.post("/topics/<key>/examples")
async def topic_examples(request: Request, key: str) -> HTTPResponse:
    """Check, add or remove examples of a topic."""
    return await _examples_post(request, "topics", key)


@blueprint.get("/intents/<name>")
async def intent_page(request: Request, name: str) -> HTTPResponse:
    """The examples of another kind of message (off-topic, greeting ...)."""
    data = await blocking(_label_page_data, console_of(request).config.project, "intents", name)
    return render(request, "intent.html", title=f"Examples: {data['label_title']}",
                  example_problems=Problems(), new_examples="", selected=set(), **data)


@blueprint.post("/intents/<name>/examples")
async def intent_examples(request: Request, name: str) -> HTTPResponse:
    """Check, add or remove examples of another kind of message."""
    return await _examples_post(request, "intents", name)


# ---- a new topic -----------------------------------------------------------------------------

@dataclass
class NewTopicForm(TopicForm):
    """The new topic form: a topic form with a short name and examples."""

    key: str = ""
    examples: str = ""

    @classmethod
    def from_request(cls, request: Request) -> NewTopicForm:
        """The form as posted."""
        base = TopicForm.from_request(request)
        return cls(base.title, base.answered, base.related, base.answer,
                   form_value(request, "key").strip(), form_value(request, "examples"))


def _new_topic(console: Console, form: NewTopicForm, account: Account, save: bool) -> Outcome:
    outcome = Outcome()
    project = console.config.project
    with _maybe_locked(console, save):
        topics = read_topics(project)
        for message in key_problems(project, form.key):
            outcome.problems.add("key", message)
        _field_checks(form, topics, form.key, outcome.problems)
        for text in _lines(form.examples):
            for message in example_problems(text):
                outcome.problems.add("examples", f"“{text}”: {message}")
        if outcome.problems:
            return outcome
        draft = Draft(project)
        try:
            draft.new_topic(form.key, title=form.title, answer=form.answer,
                            answered_by_article=bool(form.answered), related=form.related,
                            examples=_lines(form.examples))
        except EditError as error:
            outcome.problems.add("form", str(error) + ".")
            return outcome
        outcome.problems.add_checked(draft.problems(), nlu_field="examples")
        if outcome.problems or not save:
            outcome.checked = not outcome.problems
            return outcome
        try:
            save_and_commit(console, draft, account, _summary(draft, f"New topic {form.key}"))
        except SaveError as error:
            outcome.problems.add("form", str(error))
            return outcome
        outcome.done = "created"
    return outcome


@blueprint.get("/topics/new")
async def new_topic_page(request: Request) -> HTTPResponse:
    """The form for a new FAQ topic."""
    topics = await blocking(read_topics, console_of(request).config.project)
    return render(request, "new_topic.html", title="New topic", topics=topics,
                  form=NewTopicForm("", None, [], ""), problems=Problems())


@blueprint.post("/topics/new")
async def new_topic(request: Request) -> HTTPResponse:
    """Check, or create, a new FAQ topic."""
    console = console_of(request)
    form = NewTopicForm.from_request(request)
    save = form_value(request, "action") == "save"
    outcome = await blocking(_new_topic, console, form, account_of(request), save)
    if outcome.done:
        return see_other(f"/topics/{form.key}", done=outcome.done)
    topics = await blocking(read_topics, console.config.project)
    return render(request, "new_topic.html", status=422 if outcome.problems else 200,
                  title="New topic", topics=topics, form=form, problems=outcome.problems,
                  checked=outcome.checked)
