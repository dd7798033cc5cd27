"""The FAQ topics of settings/faq_topics.yml, checked on loading.

Each topic has a button title (in English and in Spanish), whether the article answers it, and
related topics.

    load_topics()  ->  FaqTopics  (raises TopicsError naming the file and every problem)

`topic_problems` is the one place that knows what a valid entry is: the action server uses it
through `load_topics`, and `staff_tools.check_data` reports its problems with line numbers.
Checks that need the domain or the training data (an answer for each topic, a title that is
one of the topic's examples) stay in the data checker, which reads those files.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from clinic.paths import FAQ_TOPICS_FILE
from clinic.wording import SPANISH
from clinic.yaml_file import read_yaml

TOPIC_KEYS = ("title", "title_es", "answered_by_article", "related")


class TopicsError(ValueError):
    """A missing, unreadable or malformed FAQ topics file."""


@dataclass(frozen=True)
class Topic:
    """One FAQ topic (utter_faq/<key> in domain.yml)."""

    key: str
    title: str  # the question its button shows and sends
    answered_by_article: bool  # False: the answer is followed by the handoff to the clinic
    related: Tuple[str, ...] = ()  # topics offered as buttons after the answer
    title_es: str = ""  # the same question in Spanish; none: the English title is shown

    def title_in(self, language: Optional[str]) -> str:
        """The button's question in the conversation's language ("es": Spanish)."""
        return self.title_es if language == SPANISH and self.title_es else self.title


@dataclass(frozen=True)
class FaqTopics(Mapping[str, Topic]):
    """The topics by key, in the file's order; read-only."""

    by_key: Mapping[str, Topic] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", MappingProxyType(dict(self.by_key)))

    def __getitem__(self, key: str) -> Topic:
        return self.by_key[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_key)

    def __len__(self) -> int:
        return len(self.by_key)

    def as_dicts(self) -> Dict[str, Dict[str, Any]]:
        """The topics as the file writes them: key -> title, title_es, answered_by_article..."""
        return {
            key: {"title": topic.title, "title_es": topic.title_es,
                  "answered_by_article": topic.answered_by_article,
                  "related": list(topic.related)}
            for key, topic in self.by_key.items()
        }


@dataclass(frozen=True)
class TopicProblem:
    """One thing wrong in the topics file, and where: the topic, its setting, a list item."""

    what: str
    fix: str
    key: Optional[str] = None  # None: the file as a whole
    setting: Optional[str] = None  # None: the topic's entry as a whole
    item: Optional[int] = None  # the position in `related`, for an unknown related topic

    def __str__(self) -> str:
        return f"{self.what}. How to fix: {self.fix}"


def _did_you_mean(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _text(value: Any) -> Optional[str]:
    """A plain YAML value as the file writes it; None for lists, mappings and nothing."""
    if value is None or isinstance(value, list | dict):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def topic_problems(raw: Any) -> List[TopicProblem]:
    """Every problem in the topics file's content (as `yaml.safe_load` reads it)."""
    if not isinstance(raw, dict):
        return [TopicProblem(
            "expected one 'topic_key:' entry per FAQ topic",
            "write each topic as in the file's comments: 'what_is:' then title, "
            "answered_by_article and related, indented by two spaces",
        )]
    problems: List[TopicProblem] = []
    for key, entry in raw.items():
        key = str(key)
        entry = entry if isinstance(entry, dict) else {}
        for setting in entry:
            if str(setting) not in TOPIC_KEYS:
                problems.append(TopicProblem(
                    f"the topic '{key}' has an unknown setting '{setting}'"
                    f"{_did_you_mean(str(setting), TOPIC_KEYS)}",
                    f"each topic has only {', '.join(TOPIC_KEYS)}: correct the name or "
                    "check the indentation of this line",
                    key, str(setting),
                ))
        if not (_text(entry.get("title")) or "").strip():
            problems.append(TopicProblem(
                f"the topic '{key}' has no title (the question its button shows)",
                f"add a line 'title: \"...\"' under '{key}:', indented by two spaces",
                key, "title",
            ))
        if not isinstance(entry.get("answered_by_article"), bool):
            problems.append(TopicProblem(
                f"the topic '{key}' needs 'answered_by_article: true' (the article answers "
                "it) or 'answered_by_article: false' (it does not)",
                "write true or false, without quotes",
                key, "answered_by_article",
            ))
        related = entry.get("related")
        if "related" in entry and not isinstance(related, list):
            problems.append(TopicProblem(
                f"'related' of '{key}' is not a list",
                "write it like 'related: [speed, research]', or 'related: []' for none",
                key, "related",
            ))
        for index, item in enumerate(related if isinstance(related, list) else []):
            name = _text(item)
            if name is not None and name not in raw:
                problems.append(TopicProblem(
                    f"the topic '{key}' lists '{name}' as related, but there is no such "
                    f"topic{_did_you_mean(name, [str(k) for k in raw])}",
                    "correct the spelling or remove it from the list",
                    key, "related", index,
                ))
    return problems


def parse_topics(raw: Any, source: Path = FAQ_TOPICS_FILE) -> FaqTopics:
    """Check the topics file's content; raise `TopicsError` naming `source` and each problem."""
    problems = topic_problems(raw)
    if problems:
        raise TopicsError("\n".join(f"{source}: {problem}" for problem in problems))
    return FaqTopics({
        str(key): Topic(
            key=str(key),
            title=str(entry["title"]).strip(),
            title_es=str(entry.get("title_es") or "").strip(),
            answered_by_article=entry["answered_by_article"],
            related=tuple(name for name in map(_text, entry.get("related") or []) if name),
        )
        for key, entry in raw.items()
    })


def load_topics(path: Path = FAQ_TOPICS_FILE) -> FaqTopics:
    """Read and check settings/faq_topics.yml; raise `TopicsError` naming what is wrong."""
    return parse_topics(read_yaml(path, TopicsError, "FAQ topics file"), path)


@cache
def current_topics(path: Path = FAQ_TOPICS_FILE) -> FaqTopics:
    """The topics of `path`, read and checked once (for long-running servers)."""
    return load_topics(path)
