"""Rules and stories may only use intents and actions that exist, with their steps in place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import FrozenSet, Set

from yaml.nodes import Node

from staff_tools.check_data.domain import DomainData
from staff_tools.check_data.layout import DOMAIN_FILE, FAQ_INTENT, STORY_GLOBS
from staff_tools.check_data.nlu import NluData
from staff_tools.check_data.project import Project
from staff_tools.check_data.rasa_names import RASA_ACTIONS, RASA_INTENTS, RULE_KEYS, STORY_KEYS
from staff_tools.check_data.wording import did_you_mean, quote
from staff_tools.check_data.yaml_nodes import child, items_of, node_line, pairs, text_of


@dataclass(frozen=True)
class KnownNames:
    """The intents, FAQ topics and actions a step may name, and how far they are known."""

    intents: FrozenSet[str]
    faq_topics: FrozenSet[str]
    actions: FrozenSet[str]
    domain_read: bool
    nlu_complete: bool

    @classmethod
    def of(cls, nlu: NluData, domain: DomainData) -> KnownNames:
        """Rasa's built-in names, and the domain's and training data's."""
        actions: Set[str] = set(domain.responses) | domain.actions | RASA_ACTIONS
        actions |= {f"utter_{intent}" for intent in domain.intents}  # retrieval intents
        faq_topics = {label for label in nlu.label_lines if label.startswith(FAQ_INTENT + "/")}
        return cls(frozenset(domain.intents) | RASA_INTENTS, frozenset(faq_topics),
                   frozenset(actions), domain.read, nlu.complete)

    def knows_intent(self, intent: str) -> bool:
        """True if the intent (or faq/<topic>) exists, or cannot be checked."""
        base = intent.split("/", 1)[0]
        if not self.domain_read:
            return True
        if "/" not in intent or not self.nlu_complete:
            return base in self.intents
        return base in self.intents and intent in self.faq_topics

    def knows_action(self, action: str) -> bool:
        """True if the action or answer exists, or cannot be checked."""
        return not self.domain_read or action in self.actions


def check_rules_and_stories(project: Project, nlu: NluData, domain: DomainData) -> None:
    """Check that rules and stories only use intents and actions that exist."""
    known = KnownNames.of(nlu, domain)
    for pattern in STORY_GLOBS:
        for path in project.files(pattern):
            rel = project.rel(path)
            root = project.read(path)
            for section, kind in (("rules", "rule"), ("stories", "story")):
                for entry in items_of(child(root, section)):
                    name = text_of(child(entry, kind)) or "(no name)"
                    _check_entry_keys(project, rel, kind, name, entry)
                    for step in items_of(child(entry, "steps")):
                        project.report.steps_checked += 1
                        _check_step(project, rel, f"{kind} {quote(name)}", step, known)


def _check_entry_keys(project: Project, rel: str, kind: str, name: str, entry: Node) -> None:
    allowed = RULE_KEYS if kind == "rule" else STORY_KEYS
    for key, _ in pairs(entry):
        if key.value not in allowed:
            project.add(rel, node_line(key),
                        f"the {kind} {quote(name)} has a line '{key.value}:' that is not "
                        "indented as one of its steps",
                        "steps go under 'steps:', each starting with '- ' and indented "
                        "two spaces more than 'steps:'; line it up with the steps above")


def _check_step(project: Project, rel: str, where: str, step: Node, known: KnownNames) -> None:
    """One step: its intent (or the intents of its `or:`) and its action must exist."""
    choices = [child(choice, "intent") for choice in items_of(child(step, "or"))]
    for intent_node in [child(step, "intent"), *choices]:
        intent = text_of(intent_node)
        if intent_node is None or intent is None or known.knows_intent(intent):
            continue
        project.add(rel, node_line(intent_node),
                    f"the {where} uses the intent '{intent}', which has no "
                    f"examples in data/nlu/ or is not listed in {DOMAIN_FILE}"
                    f"{did_you_mean(intent, known.intents | known.faq_topics)}",
                    "correct the spelling, or add the intent and its examples first")
    action_node = child(step, "action")
    action = text_of(action_node)
    if action_node is None or action is None or known.knows_action(action):
        return
    project.add(rel, node_line(action_node),
                f"the {where} uses '{action}', which is neither an answer "
                f"nor an action in {DOMAIN_FILE}{did_you_mean(action, known.actions)}",
                f"correct the spelling, or add the answer to {DOMAIN_FILE} under "
                "'responses:' first")
