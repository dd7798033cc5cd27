"""Duplicate examples, and intents or topics with too few examples or missing from the domain."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Dict, List

from staff_tools.check_data.domain import DomainData
from staff_tools.check_data.layout import DOMAIN_FILE, MIN_EXAMPLES
from staff_tools.check_data.nlu import NluData
from staff_tools.check_data.project import Project
from staff_tools.check_data.rasa_names import RASA_INTENTS
from staff_tools.check_data.report import Example
from staff_tools.check_data.wording import comparable, did_you_mean, quote


def check_duplicates(project: Project) -> None:
    """The same example under two intents or topics, or twice under one."""
    by_text: Dict[str, List[Example]] = defaultdict(list)
    for example in project.report.examples:
        by_text[comparable(example.text)].append(example)
    for examples in by_text.values():
        first = examples[0]
        for later in examples[1:]:
            where = f"{first.path}:{first.line}"
            if later.label != first.label:
                project.add(later.path, later.line,
                            f"the example {quote(later.text)} is under {later.label} here and "
                            f"also under {first.label} at {where}; the assistant cannot learn "
                            "two different topics from the same question",
                            f"decide which of {first.label} and {later.label} it belongs to "
                            "and delete the other line")
            elif " ".join(later.text.lower().split()) == " ".join(first.text.lower().split()):
                project.add(later.path, later.line,
                            f"the example {quote(later.text)} is written twice under "
                            f"{later.label} (also at {where})",
                            "delete one of the two lines")


def check_counts(project: Project, nlu: NluData, domain: DomainData) -> None:
    """Every intent and FAQ topic needs MIN_EXAMPLES examples, and the domain must list it."""
    counts = Counter(example.label for example in project.report.examples)
    for label, (rel, line) in sorted(nlu.label_lines.items()):
        if counts[label] < MIN_EXAMPLES:
            missing = MIN_EXAMPLES - counts[label]
            project.add(rel, line,
                        f"{label} has only {counts[label]} examples; every topic and intent "
                        f"needs at least {MIN_EXAMPLES} for the assistant to recognise it",
                        f"add at least {missing} more, different ways a visitor might ask "
                        "this, one per line starting with '- '")
    if domain.read:
        _check_intents_against_domain(project, nlu, domain)


def _check_intents_against_domain(project: Project, nlu: NluData, domain: DomainData) -> None:
    for label, (rel, line) in sorted(nlu.label_lines.items()):
        base = label.split("/", 1)[0]
        if base not in domain.intents:
            project.add(rel, line,
                        f"the intent '{base}' is not listed under 'intents:' in {DOMAIN_FILE}"
                        f"{did_you_mean(base, domain.intents)}",
                        f"correct the spelling here, or add '- {base}' under 'intents:' in "
                        f"{DOMAIN_FILE}")
    if not nlu.complete:
        return
    labels_by_base = {label.split("/", 1)[0] for label in nlu.label_lines}
    for intent, line in sorted(domain.intents.items()):
        if intent not in labels_by_base and intent not in RASA_INTENTS:
            project.add(DOMAIN_FILE, line, f"the intent '{intent}' has no examples in data/nlu/",
                        f"add a '- intent: {intent}' block with at least {MIN_EXAMPLES} "
                        "examples to a file in data/nlu/, or delete this line")
