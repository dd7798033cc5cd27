"""Editing the training data, answers and topics (staff_tools/training_data.py) on a copy of the
project's real files: only the lines an edit is about change, and the data checker's new
problems are reported before anything is written."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

from clinic.paths import PROJECT_DIR
from clinic.topics import load_topics
from staff_tools.check_data import check_project
from staff_tools.training_data import (
    Draft,
    EditError,
    answer_problems,
    example_problems,
    home_file,
    key_problems,
    read_topic,
    title_problems,
)

COPIED = ("data", "domain.yml", "settings", "patterns", "config.yml", "tests/test_stories.yml",
          "tests/heldout")
FILES = ("domain.yml", "settings/faq_topics.yml", "data/nlu/faq.yml",
         "data/nlu/out_of_scope.yml", "data/nlu/hard_negatives.yml")
ANSWER = ("Our article doesn't compare ketamine infusions with TMS (transcranial magnetic "
          "stimulation) or ECT (electroconvulsive therapy), so I can't say how they differ or "
          "which would suit you. Our clinicians can go through the options with you.")
EXAMPLES = ["how is ketamine different from tms", "ketamine vs ect",
            "is ketamine better than electroconvulsive therapy",
            "what's the difference between ketamine and TMS",
            "is ketamine like shock therapy", "compare ketamine infusions with ECT",
            "tms vs ketamine infusion", "does ketamine work better than magnetic stimulation",
            "is ketamine an alternative to ECT", "i already tried tms, how is ketamine different"]


def copy_project(target: Path) -> Path:
    for name in COPIED:
        source = PROJECT_DIR / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        else:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


def texts(project: Path) -> Dict[str, str]:
    return {rel: (project / rel).read_text(encoding="utf-8") for rel in FILES}


def diff(before: str, after: str) -> List[str]:
    """The added and removed lines, without the diff's headers."""
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(),
                                                  lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_an_example_goes_to_the_end_of_its_topic_block_in_its_home_file(project: Path) -> None:
    before = texts(project)
    draft = Draft(project)
    assert draft.add_examples("faq/cost_insurance", ["  will my  employer's plan pay for it "])
    assert draft.problems() == []
    assert [p.relative_to(project).as_posix() for p in draft.save()] == ["data/nlu/faq.yml"]
    after = texts(project)
    assert diff(before["data/nlu/faq.yml"], after["data/nlu/faq.yml"]) == [
        "+    - will my employer's plan pay for it"]
    lines = after["data/nlu/faq.yml"].splitlines()
    added = lines.index("    - will my employer's plan pay for it")
    # at the end of faq/cost_insurance's block, before the next topic's
    assert lines[added + 2] == "- intent: faq/number_of_sessions"
    assert {rel for rel in FILES if before[rel] != after[rel]} == {"data/nlu/faq.yml"}
    assert "will my employer's plan pay for it" in [
        ref.text for ref in read_topic(project, "cost_insurance").examples]


def test_off_topic_examples_go_to_the_off_topic_file(project: Path) -> None:
    assert home_file(project, "out_of_scope") == "data/nlu/out_of_scope.yml"
    assert home_file(project, "faq/speed") == "data/nlu/faq.yml"
    before = texts(project)
    draft = Draft(project)
    draft.add_examples("out_of_scope", ["recommend a good pizza place in oakland"])
    draft.save()
    assert diff(before["data/nlu/out_of_scope.yml"],
                texts(project)["data/nlu/out_of_scope.yml"]) == [
        "+    - recommend a good pizza place in oakland"]


def test_an_example_already_there_is_not_added_twice(project: Path) -> None:
    draft = Draft(project)
    assert draft.add_examples("faq/cost_insurance", ["How much does it cost"]) == []
    assert draft.changed() == []


def test_an_example_of_another_topic_is_a_problem_named_before_saving(project: Path) -> None:
    draft = Draft(project)
    draft.add_examples("faq/speed", ["How much does it cost?"])
    problems = draft.problems()
    assert problems  # "How much does it cost?" and "how much does it cost" are both there
    assert all("under faq/cost_insurance here and also under faq/speed" in problem.what
               and problem.path == "data/nlu/faq.yml" for problem in problems)


def test_removing_an_example_removes_that_line_only(project: Path) -> None:
    before = texts(project)
    draft = Draft(project)
    draft.remove_example("faq/cost_insurance", "price?")
    draft.save()
    assert diff(before["data/nlu/faq.yml"], texts(project)["data/nlu/faq.yml"]) == [
        "-    - price?"]
    with pytest.raises(EditError):
        Draft(project).remove_example("faq/cost_insurance", "price?")


def test_an_example_in_another_file_is_removed_from_that_file(project: Path) -> None:
    topic = read_topic(project, "aftercare")
    elsewhere = next(ref for ref in topic.examples if ref.path == "data/nlu/hard_negatives.yml")
    before = texts(project)
    draft = Draft(project)
    draft.remove_example("faq/aftercare", elsewhere.text, elsewhere.path)
    draft.save()
    after = texts(project)
    assert diff(before["data/nlu/hard_negatives.yml"], after["data/nlu/hard_negatives.yml"]) == [
        f"-    - {elsewhere.text}"]
    assert before["data/nlu/faq.yml"] == after["data/nlu/faq.yml"]


def test_an_answer_is_rewritten_folded_and_the_rest_of_the_domain_is_kept(project: Path) -> None:
    before = texts(project)
    text = ("I'm sorry, our article doesn't cover prices, insurance or payment options.\n\n"
            "The clinic's team   can tell you, and they are happy to help with any question "
            "you have about paying for a course of infusions.")
    draft = Draft(project)
    assert draft.set_answer("cost_insurance", text)
    assert draft.problems() == []
    draft.save()
    after = texts(project)
    changes = diff(before["domain.yml"], after["domain.yml"])
    assert changes[:2] == [
        "-        I'm sorry, our article doesn't cover prices, insurance or payment options, "
        "and I",
        "-        don't want to guess. The clinic's team can tell you."]
    assert all(len(line) <= 97 for line in changes)
    domain = yaml.safe_load(after["domain.yml"])
    english, spanish = domain["responses"]["utter_faq/cost_insurance"]
    assert english == {"text": (
        "I'm sorry, our article doesn't cover prices, insurance or payment options.\n"
        "The clinic's team can tell you, and they are happy to help with any question you have "
        "about paying for a course of infusions.")}
    # The Spanish variant is kept as it was (a fluent reader updates it).
    assert spanish["condition"] == [{"type": "slot", "name": "language", "value": "es"}]
    assert spanish["text"].startswith("Lo siento, nuestro artículo no habla de precios")
    assert read_topic(project, "cost_insurance").answer.startswith("I'm sorry")
    # The same text again changes nothing.
    assert not Draft(project).set_answer("cost_insurance", domain["responses"][
        "utter_faq/cost_insurance"][0]["text"])


def test_an_answer_with_another_phone_number_or_address_is_a_problem(project: Path) -> None:
    draft = Draft(project)
    draft.set_answer("cost_insurance", "Call us at 415-555-0199 or see www.prices.example.org")
    problems = draft.problems()
    assert {("domain.yml", "phone number 415-555-0199"), ("domain.yml", "web address")} == {
        (problem.path, "phone number 415-555-0199" if "415-555-0199" in problem.what
         else "web address") for problem in problems}
    assert len(problems) == 2


def test_title_and_related_topics_change_in_place_and_the_title_becomes_an_example(
    project: Path,
) -> None:
    before = texts(project)
    draft = Draft(project)
    changed = draft.set_topic("cost_insurance", title="What does a course of infusions cost?",
                              related=["number_of_sessions", "eligibility"])
    assert len(changed) == 2
    assert draft.problems() == []
    draft.save()
    after = texts(project)
    assert diff(before["settings/faq_topics.yml"], after["settings/faq_topics.yml"]) == [
        '-  title: "How much does it cost?"',
        '+  title: "What does a course of infusions cost?"',
        "-  related: []",
        "+  related: [number_of_sessions, eligibility]",
    ]
    assert diff(before["data/nlu/faq.yml"], after["data/nlu/faq.yml"]) == [
        "+    - What does a course of infusions cost?"]
    topics = load_topics(project / "settings" / "faq_topics.yml")
    assert topics["cost_insurance"].related == ("number_of_sessions", "eligibility")


def test_an_unknown_related_topic_is_a_problem(project: Path) -> None:
    draft = Draft(project)
    draft.set_topic("cost_insurance", related=["pricing"])
    problems = draft.problems()
    assert len(problems) == 1 and "lists 'pricing' as related" in problems[0].what


@pytest.mark.parametrize("answered", [True, False])
def test_a_new_topic_end_to_end_passes_the_data_checker(project: Path, answered: bool) -> None:
    before = texts(project)
    draft = Draft(project)
    draft.new_topic("tms_ect", title="How does it compare with TMS or ECT?", answer=ANSWER,
                    answered_by_article=answered, related=["with_other_treatment"],
                    examples=EXAMPLES)
    assert draft.problems() == []
    assert sorted(p.relative_to(project).as_posix() for p in draft.save()) == [
        "data/nlu/faq.yml", "domain.yml", "settings/faq_topics.yml"]
    assert check_project(project).ok
    after = texts(project)
    assert diff(before["settings/faq_topics.yml"], after["settings/faq_topics.yml"]) == [
        "+tms_ect:", '+  title: "How does it compare with TMS or ECT?"',
        f"+  answered_by_article: {'true' if answered else 'false'}",
        "+  related: [with_other_treatment]"]
    faq = diff(before["data/nlu/faq.yml"], after["data/nlu/faq.yml"])
    assert faq[:4] == ["+", "+- intent: faq/tms_ect", "+  examples: |",
                       "+    - How does it compare with TMS or ECT?"]
    assert len(faq) == 4 + len(EXAMPLES)
    domain_lines = after["domain.yml"].splitlines()
    start = domain_lines.index("  utter_faq/tms_ect:")
    assert domain_lines[start + 1] == "    - text: >-"
    assert domain_lines[start + 2].startswith("        Our article doesn't compare")
    # Beside the topics of its kind: before the comment that starts the unanswered ones, or
    # after the last of them.
    comment = next(i for i, line in enumerate(domain_lines) if "article does not answer" in line)
    assert (start < comment) == answered
    view = read_topic(project, "tms_ect")
    assert view.answer == ANSWER and view.entry.answered_by_article is answered
    assert len(view.examples) == 1 + len(EXAMPLES)
    assert load_topics(project / "settings" / "faq_topics.yml")["tms_ect"].title == (
        "How does it compare with TMS or ECT?")


def test_a_new_topic_with_too_few_examples_or_a_taken_name_is_refused(project: Path) -> None:
    draft = Draft(project)
    draft.new_topic("tms_ect", title="How does it compare with TMS?", answer=ANSWER,
                    answered_by_article=False, related=[], examples=["ketamine vs ect"])
    assert ["faq/tms_ect has only 2 examples" in p.what for p in draft.problems()] == [True]
    assert key_problems(project, "cost_insurance")
    assert key_problems(project, "Bad Name")
    assert key_problems(project, "tms_ect") == []
    with pytest.raises(EditError):
        Draft(project).new_topic("speed", title="x", answer="y", answered_by_article=True,
                                 related=[], examples=[])


def test_field_checks_refuse_markup_entity_marks_and_empty_values() -> None:
    assert example_problems("what does [ketamine](medicine) cost")
    assert example_problems("my number is [phone]") == []
    assert example_problems("") and example_problems("two\nlines")
    assert answer_problems("<script>alert(1)</script>") and answer_problems("a &amp; b")
    assert answer_problems("Ketamine < 1 mg is not a dose we give") == []
    assert title_problems("") and title_problems("x" * 200)
    assert answer_problems("") and answer_problems("fine\n\nsecond paragraph") == []
    with pytest.raises(EditError):
        Draft(PROJECT_DIR).add_examples("faq/speed", ["<b>fast?</b>"])


def test_a_file_laid_out_unusually_is_not_rewritten(project: Path) -> None:
    path = project / "data" / "nlu" / "out_of_scope.yml"
    path.write_text(path.read_text().replace("examples: |", "examples:   |", 1))
    with pytest.raises(EditError, match="cannot edit without"):
        Draft(project).add_examples("out_of_scope", ["what's the weather on mars"])
