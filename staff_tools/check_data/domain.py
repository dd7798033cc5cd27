"""The domain's intents, actions and answers; FAQ answers and FAQ examples must pair up.

An answer's button sends a question (text) or one of the intent payloads of clinic/buttons.py,
the only ones the chat channel takes as intents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Set, Tuple

from yaml.nodes import Node, SequenceNode

from clinic.buttons import BUTTON_PAYLOADS
from staff_tools.check_data.layout import DOMAIN_FILE, FAQ_ANSWER_PREFIX, GUIDE, MIN_EXAMPLES
from staff_tools.check_data.nlu import NluData
from staff_tools.check_data.project import Project
from staff_tools.check_data.wording import did_you_mean
from staff_tools.check_data.yaml_nodes import child, items_of, node_line, pairs, text_of


@dataclass
class DomainData:
    """What domain.yml declares, with lines; `read` is False if it could not be read."""

    read: bool = False
    intents: Dict[str, int] = field(default_factory=dict)
    responses: Dict[str, Tuple[int, Node]] = field(default_factory=dict)
    actions: Set[str] = field(default_factory=set)

    def faq_answers(self) -> Dict[str, int]:
        """The FAQ answers (their key, without `utter_faq/`) and their lines."""
        return {name[len(FAQ_ANSWER_PREFIX):]: line for name, (line, _) in
                self.responses.items() if name.startswith(FAQ_ANSWER_PREFIX)}


def read_domain(project: Project) -> DomainData:
    """Collect the domain's intents, actions and answers (responses)."""
    domain = DomainData()
    root = project.read(project.root / DOMAIN_FILE)
    if root is None:
        return domain
    domain.read = True
    for item in items_of(child(root, "intents")):
        name = text_of(item) or next((key.value for key, _ in pairs(item)), None)
        if name:
            domain.intents.setdefault(name, node_line(item))
    for item in items_of(child(root, "actions")):
        action = text_of(item)
        if action:
            domain.actions.add(action)
    for key, value in pairs(child(root, "responses")):
        domain.responses.setdefault(key.value, (node_line(key), value))
        if not isinstance(value, SequenceNode) or not value.value:
            project.add(DOMAIN_FILE, node_line(key), f"the answer {key.value} has no text",
                        "write the answer under it as '- text: ...', like the other answers")
    return domain


def check_answers_and_examples(project: Project, nlu: NluData, domain: DomainData) -> None:
    """Each FAQ topic with examples needs its answer, and each FAQ answer its examples."""
    if not domain.read:
        return
    with_examples = nlu.faq_topics()
    answers = domain.faq_answers()
    for key, (rel, line) in sorted(with_examples.items()):
        if key not in answers:
            project.add(rel, line,
                        f"the topic faq/{key} has examples but no answer: {DOMAIN_FILE} "
                        f"has no utter_faq/{key}{did_you_mean(key, answers)}",
                        f"add the answer to {DOMAIN_FILE} under 'responses:' as "
                        f"'utter_faq/{key}:' (see {GUIDE}), or correct the topic name here")
    if not nlu.complete:
        return
    for key, line in sorted(answers.items()):
        if key not in with_examples:
            project.add(DOMAIN_FILE, line,
                        f"the answer utter_faq/{key} has no examples: data/nlu/ has no "
                        f"'- intent: faq/{key}'{did_you_mean(key, with_examples)}",
                        f"add a '- intent: faq/{key}' block with at least {MIN_EXAMPLES} "
                        "examples to data/nlu/faq.yml, or correct the name here")


def check_button_payloads(project: Project, domain: DomainData) -> None:
    """A button payload starting with `/` must be one the chat channel takes as an intent."""
    allowed = ", ".join(sorted(BUTTON_PAYLOADS))
    for name, (_, variants) in domain.responses.items():
        for variant in items_of(variants):
            for button in items_of(child(variant, "buttons")):
                payload_node = child(button, "payload")
                payload = text_of(payload_node)
                if payload_node is None or payload is None or not payload.startswith("/"):
                    continue
                if payload.strip() not in BUTTON_PAYLOADS:
                    project.add(
                        DOMAIN_FILE, node_line(payload_node),
                        f"a button of {name} sends '{payload}', which the chat channel does "
                        "not take as an intent: a click on it would be read as typed text",
                        "make the button send a question (its text, as the topic buttons do) "
                        f"or one of {allowed} (clinic/buttons.py)",
                    )
