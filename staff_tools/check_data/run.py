"""Every check, in order, on one project folder."""

from __future__ import annotations

from pathlib import Path

from staff_tools.check_data.contact_details import check_contact_details
from staff_tools.check_data.domain import (
    check_answers_and_examples,
    check_button_payloads,
    read_domain,
)
from staff_tools.check_data.examples import check_counts, check_duplicates
from staff_tools.check_data.faq_topics import check_faq_topics, read_topics
from staff_tools.check_data.layout import OTHER_YAML_GLOBS
from staff_tools.check_data.nlu import check_heldout, read_nlu
from staff_tools.check_data.project import Project
from staff_tools.check_data.report import Report
from staff_tools.check_data.spanish import check_languages_file
from staff_tools.check_data.stories import check_rules_and_stories


def check_project(root: Path) -> Report:
    """Run every check on the project in `root`."""
    project = Project(root)
    nlu = read_nlu(project)
    domain = read_domain(project)
    topics = read_topics(project)
    check_rules_and_stories(project, nlu, domain)
    check_heldout(project, nlu)
    for pattern in OTHER_YAML_GLOBS:  # patterns and config: only check that they can be read
        for path in project.files(pattern):
            project.read(path)
    check_duplicates(project)
    check_counts(project, nlu, domain)
    check_answers_and_examples(project, nlu, domain)
    check_button_payloads(project, domain)
    check_faq_topics(project, nlu, domain, topics)
    check_contact_details(project, domain)
    check_languages_file(project)
    report = project.report
    report.problems = sorted(set(report.problems))
    return report
