"""settings/faq_topics.yml against the domain and the examples, validated by clinic.topics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

from yaml.nodes import MappingNode, Node

from clinic.topics import TOPIC_KEYS, TopicProblem, topic_problems
from staff_tools.check_data.domain import DomainData
from staff_tools.check_data.layout import DOMAIN_FILE, FAQ_INTENT, TOPICS_FILE
from staff_tools.check_data.nlu import NluData
from staff_tools.check_data.project import Project
from staff_tools.check_data.wording import comparable, did_you_mean, quote
from staff_tools.check_data.yaml_nodes import child, construct, items_of, node_line, pairs, text_of


@dataclass
class TopicsData:
    """The topic entries of settings/faq_topics.yml; `read` is False if it could not be read."""

    read: bool = False
    entries: Dict[str, Tuple[int, Node]] = field(default_factory=dict)


def read_topics(project: Project) -> TopicsData:
    """Collect the FAQ topics' titles and related topics from settings/faq_topics.yml."""
    topics = TopicsData()
    root = project.read(project.root / TOPICS_FILE)
    if root is None:
        return topics
    topics.read = True
    if not isinstance(root, MappingNode):
        for problem in topic_problems(construct(root)):
            project.add(TOPICS_FILE, node_line(root), problem.what, problem.fix)
        return topics
    for key, value in pairs(root):
        topics.entries.setdefault(key.value, (node_line(key), value))
    return topics


def check_faq_topics(project: Project, nlu: NluData, domain: DomainData,
                     topics: TopicsData) -> None:
    """Each FAQ answer needs a topic entry, and each entry an answer, a known title, ..."""
    if not (topics.read and domain.read):
        return
    answers = domain.faq_answers()
    for key, line in sorted(answers.items()):
        if key not in topics.entries:
            project.add(DOMAIN_FILE, line,
                        f"the answer utter_faq/{key} has no entry in {TOPICS_FILE}, so it has "
                        "no button title and no follow-up topics",
                        f"add '{key}:' with 'title:', 'answered_by_article:' and 'related:' to "
                        f"{TOPICS_FILE}, like the other topics there")
    with_examples = nlu.faq_topics()
    for key, (line, entry) in sorted(topics.entries.items()):
        if key not in answers:
            project.add(TOPICS_FILE, line,
                        f"the topic '{key}' has no answer: {DOMAIN_FILE} has no utter_faq/{key}"
                        f"{did_you_mean(key, answers)}",
                        f"add the answer to {DOMAIN_FILE}, correct the spelling, or delete this "
                        "topic here")
        if key in with_examples:
            _check_title(project, key, entry)
    _check_entries(project, topics)


def _check_title(project: Project, key: str, entry: Node) -> None:
    """A topic's button sends its title: each title must be one of the topic's examples."""
    examples = {comparable(e.text) for e in project.report.examples
                if e.label == f"{FAQ_INTENT}/{key}"}
    for setting, home in (("title", "data/nlu/faq.yml"), ("title_es", "data/nlu/spanish.yml")):
        title_node = child(entry, setting)
        title = (text_of(title_node) or "").strip()
        if not title or title_node is None:
            continue
        if comparable(title) not in examples:
            project.add(TOPICS_FILE, node_line(title_node),
                        f"the title {quote(title)} is not one of the examples of faq/{key}; "
                        "its button sends exactly this text, so the assistant must know it",
                        f"add '- {title}' to the faq/{key} examples in {home}")


def _check_entries(project: Project, topics: TopicsData) -> None:
    """Each topic entry as clinic.topics requires it (as the action server loads it)."""
    raw = {key: construct(entry) for key, (_, entry) in topics.entries.items()}
    for problem in topic_problems(raw):
        project.add(TOPICS_FILE, _problem_line(topics, problem), problem.what, problem.fix)


def _problem_line(topics: TopicsData, problem: TopicProblem) -> int:
    """The line of the setting, or of the item in a list, that a topic problem is about."""
    key_line, entry = topics.entries.get(problem.key or "", (1, None))
    entry_node: Optional[Node] = entry
    if entry_node is None or problem.setting is None:
        return key_line
    found = [(name, value) for name, value in pairs(entry_node) if name.value == problem.setting]
    if not found:
        return node_line(entry_node)
    name, value = found[0]
    if problem.setting not in TOPIC_KEYS:
        return node_line(name)
    items = items_of(value)
    if problem.item is not None and problem.item < len(items):
        return node_line(items[problem.item])
    return node_line(value)
