"""settings/languages.yml keeps every Spanish text with its {names} (clinic.wording checks it).

A reply of domain.yml without a Spanish variant is not a problem here: a visitor writing in
Spanish then gets the English one (a topic added in the staff console has no Spanish yet).
tests/test_spanish.py keeps every reply the project ships translated.
"""

from __future__ import annotations

from clinic.wording import language_problems
from staff_tools.check_data.layout import LANGUAGES_FILE
from staff_tools.check_data.project import Project
from staff_tools.check_data.yaml_nodes import construct, node_line, pairs


def check_languages_file(project: Project) -> None:
    """settings/languages.yml as the action server loads it."""
    root = project.read(project.root / LANGUAGES_FILE)
    if root is None:
        return
    lines = {key.value: node_line(key) for key, _ in pairs(root)}
    for problem in language_problems(construct(root)):
        section = problem.split(":", 1)[0]
        project.add(LANGUAGES_FILE, lines.get(section, 1), problem,
                    "keep each {name} in braces exactly as the English text has it")
