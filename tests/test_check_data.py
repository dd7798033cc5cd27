"""The staff data check: each mistake is reported with its file, its line and a fix.

Every case copies the small, valid project in tests/fixtures/check_data/minimal/, breaks one
thing the way a person editing the files might, and runs the check on it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from staff_tools.check_data import MIN_EXAMPLES, Problem, check_project
from tests.conftest import PROJECT_DIR

MINIMAL = Path(__file__).resolve().parent / "fixtures" / "check_data" / "minimal"
Edits = Dict[str, List[Tuple[str, str]]]


def broken_project(tmp_path: Path, edits: Edits) -> Path:
    """A copy of the minimal project with `old -> new` replacements applied per file."""
    root = tmp_path / "project"
    shutil.copytree(MINIMAL, root)
    for rel, replacements in edits.items():
        path = root / rel
        text = path.read_text(encoding="utf-8")
        for old, new in replacements:
            assert text.count(old) == 1, f"{old!r} must occur once in {rel}"
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
    return root


def line_no(root: Path, rel: str, needle: str) -> int:
    """The line of the file on which `needle` occurs (it must occur on exactly one line)."""
    lines = [i for i, text in enumerate((root / rel).read_text().splitlines(), 1) if needle in text]
    assert len(lines) == 1, f"{needle!r} is on lines {lines} of {rel}"
    return lines[0]


def only_problem(root: Path) -> Problem:
    problems = check_project(root).problems
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def assert_reported(problem: Problem, path: str, line: int, *words: str) -> None:
    printed = str(problem)
    assert printed.startswith(f"{path}:{line}: "), printed
    assert ". How to fix: " in printed and problem.fix, printed
    for word in words:
        assert word in printed, f"{word!r} not in: {printed}"


def test_the_minimal_fixture_and_the_real_project_pass() -> None:
    assert check_project(MINIMAL).problems == []
    report = check_project(PROJECT_DIR)
    assert report.problems == [], "\n".join(map(str, report.problems))
    assert len(report.examples) > 1000 and report.answers_checked > 20


@pytest.mark.parametrize(
    ("rel", "old", "new", "bad_line", "words"),
    [
        # An answer containing ": " without quotes.
        ("domain.yml", "    - text: Sorry, I can't help with that.",
         "    - text: Sorry: I can't help with that.", "Sorry: I can't", ["colon", "quotes"]),
        # A title whose closing quotation mark is missing.
        ("settings/faq_topics.yml", 'title: "How much does it cost?"',
         'title: "How much does it cost?', "How much does it cost?", ["quotation mark"]),
        # A new intent block indented one space too little.
        ("data/nlu/general.yml", "- intent: out_of_scope", " - intent: out_of_scope",
         "- intent: out_of_scope", ["indentation"]),
        # A tab instead of spaces.
        ("data/nlu/faq.yml", "    - do you take insurance", "\t- do you take insurance",
         "do you take insurance", ["tab"]),
        # A list of related topics without its closing bracket.
        ("settings/faq_topics.yml", "related: [cost_insurance]", "related: [cost_insurance",
         "related: [cost_insurance", ["square brackets"]),
    ],
)
def test_broken_yaml_is_reported_where_the_mistake_is(
    tmp_path: Path, rel: str, old: str, new: str, bad_line: str, words: List[str]
) -> None:
    root = broken_project(tmp_path, {rel: [(old, new)]})
    problem = only_problem(root)
    assert_reported(problem, rel, line_no(root, rel, bad_line), "cannot be read", *words)
    assert "Traceback" not in str(problem) and "<block" not in str(problem)


def test_one_broken_nlu_file_does_not_cause_a_flood_of_other_messages(tmp_path: Path) -> None:
    # faq.yml cannot be read, so its topics look missing: only the real mistake is reported.
    root = broken_project(tmp_path, {"data/nlu/faq.yml": [("  examples: |\n    - How much",
                                                          "  examples |\n    - How much")]})
    problem = only_problem(root)
    assert_reported(problem, "data/nlu/faq.yml", line_no(root, "data/nlu/faq.yml", "examples |"),
                    "no colon")


def test_the_same_example_under_two_topics_names_both_places(tmp_path: Path) -> None:
    # Differs only in case and final punctuation: the model sees the same question.
    root = broken_project(tmp_path, {"data/nlu/faq.yml": [
        ("    - price per infusion\n", "    - price per infusion\n    - HOW FAST DOES IT WORK\n"),
    ]})
    first = line_no(root, "data/nlu/faq.yml", "How fast does it work?")
    second = line_no(root, "data/nlu/faq.yml", "HOW FAST DOES IT WORK")
    problem = only_problem(root)
    assert_reported(problem, "data/nlu/faq.yml", second, "faq/cost_insurance", "faq/speed",
                    f"data/nlu/faq.yml:{first}")


def test_an_example_written_twice_under_one_topic(tmp_path: Path) -> None:
    root = broken_project(tmp_path, {"data/nlu/general.yml": [
        ("    - howdy\n", "    - howdy\n    - Hiya\n"),
    ]})
    rel = "data/nlu/general.yml"
    assert_reported(only_problem(root), rel, line_no(root, rel, "Hiya"), "written twice",
                    f"also at {rel}:{line_no(root, rel, '- hiya')}")


def test_a_topic_with_too_few_examples(tmp_path: Path) -> None:
    kept = "    - How fast does it work?\n    - how quickly does ketamine work\n"
    text = (MINIMAL / "data/nlu/faq.yml").read_text()
    start = text.index(kept)
    end = text.index("\n- intent: faq/cost_insurance")
    root = broken_project(tmp_path, {"data/nlu/faq.yml": [(text[start:end], kept)]})
    problem = only_problem(root)
    assert_reported(problem, "data/nlu/faq.yml",
                    line_no(root, "data/nlu/faq.yml", "intent: faq/speed"),
                    "faq/speed has only 2 examples", f"at least {MIN_EXAMPLES}",
                    f"add at least {MIN_EXAMPLES - 2} more")


def test_examples_without_an_answer_and_an_answer_without_examples(tmp_path: Path) -> None:
    # A misspelt topic name in the training data: both halves lose their partner.
    root = broken_project(tmp_path, {"data/nlu/faq.yml": [
        ("- intent: faq/cost_insurance", "- intent: faq/cost_insurence"),
    ]})
    problems = check_project(root).problems
    assert len(problems) == 3, "\n".join(map(str, problems))
    assert_reported(problems[0], "data/nlu/faq.yml",
                    line_no(root, "data/nlu/faq.yml", "faq/cost_insurence"),
                    "faq/cost_insurence has examples but no answer",
                    "did you mean 'cost_insurance'?", "utter_faq/cost_insurence")
    assert_reported(problems[1], "domain.yml",
                    line_no(root, "domain.yml", "utter_faq/cost_insurance:"),
                    "utter_faq/cost_insurance has no examples", "faq/cost_insurance")
    # ... and the test story about prices now asks for a topic the model does not know.
    assert_reported(problems[2], "tests/test_stories.yml",
                    line_no(root, "tests/test_stories.yml", "faq/cost_insurance"),
                    "'faq/cost_insurance'", "did you mean 'faq/cost_insurence'?")


def test_an_faq_topic_setting_without_an_answer_and_a_misspelt_related_topic(
    tmp_path: Path,
) -> None:
    root = broken_project(tmp_path, {"settings/faq_topics.yml": [
        ("related: [cost_insurance]", "related: [cost]"),
        ("related: []\n", "related: []\nsafety:\n  title: \"Is it safe?\"\n"
                          "  answered_by_article: false\n  related: []\n"),
    ]})
    problems = check_project(root).problems
    assert len(problems) == 2, "\n".join(map(str, problems))
    rel = "settings/faq_topics.yml"
    assert_reported(problems[0], rel, line_no(root, rel, "related: [cost]"),
                    "'cost' as related", "no such topic")
    assert_reported(problems[1], rel, line_no(root, rel, "safety:"),
                    "'safety' has no answer", "utter_faq/safety")


def test_an_answer_without_a_topic_entry_and_a_title_that_is_no_example(tmp_path: Path) -> None:
    root = broken_project(tmp_path, {"settings/faq_topics.yml": [
        ('title: "How fast does it work?"', 'title: "How quickly will I feel better?"'),
        ("cost_insurance:\n  title: \"How much does it cost?\"\n  answered_by_article: false\n"
         "  related: []\n", ""),
        ("related: [cost_insurance]", "related: []"),
    ]})
    problems = check_project(root).problems
    assert len(problems) == 2, "\n".join(map(str, problems))
    assert_reported(problems[0], "domain.yml",
                    line_no(root, "domain.yml", "utter_faq/cost_insurance:"),
                    "no entry in settings/faq_topics.yml", "title")
    assert_reported(problems[1], "settings/faq_topics.yml",
                    line_no(root, "settings/faq_topics.yml", "How quickly will I feel better?"),
                    "not one of the examples of faq/speed", "data/nlu/faq.yml")


@pytest.mark.parametrize(
    ("added", "reported", "kind"),
    [
        ("call us at (415) 555-0100", "(415) 555-0100", "phone number"),
        ("or call 311", "311", "phone number"),
        ("see https://prices.other-clinic.com/ketamine", "https://prices.other-clinic.com/ketamine",
         "web address"),
        ("see www.ketamine-prices.com", "www.ketamine-prices.com", "web address"),
        ("e-mail billing@clinic.com", "clinic.com", "web address"),
    ],
)
def test_an_answer_stating_another_phone_number_or_web_address(
    tmp_path: Path, added: str, reported: str, kind: str
) -> None:
    root = broken_project(tmp_path, {"domain.yml": [
        ("The clinic's team can tell you.", f"The clinic's team can tell you: {added}."),
    ]})
    problem = only_problem(root)
    assert_reported(problem, "domain.yml", line_no(root, "domain.yml", added),
                    f"utter_faq/cost_insurance contains the {kind} {reported}",
                    "settings/clinic.yml")


def test_the_clinic_s_own_number_and_url_and_the_crisis_lines_are_allowed(tmp_path: Path) -> None:
    root = broken_project(tmp_path, {"domain.yml": [
        ("The clinic's team can tell you.",
         "Call 415-249-2580 or book at https://booking.clinic.test/consultation. In a crisis "
         "text HOME to 741741, call or text 988, or call 911."),
    ]})
    assert check_project(root).problems == []


def test_a_number_is_allowed_only_while_it_is_the_settings_phone(tmp_path: Path) -> None:
    # The clinic's number changed in the settings: the old one left in an answer is found.
    root = broken_project(tmp_path, {
        "domain.yml": [("The clinic's team can tell you.", "Call 415-249-2580.")],
        "settings/clinic.yml": [('"415-249-2580"', '"415-249-9999"')],
    })
    assert_reported(only_problem(root), "domain.yml", line_no(root, "domain.yml", "Call 415"),
                    "415-249-2580", "(415-249-9999)")


def test_rules_and_stories_with_unknown_names_or_misplaced_lines(tmp_path: Path) -> None:
    root = broken_project(tmp_path, {
        "data/rules/faq.yml": [("      - action: utter_greet",
                                "      - action: utter_gret\n    action: utter_greet")],
        "tests/test_stories.yml": [("intent: faq/cost_insurance", "intent: faq/costs")],
    })
    problems = check_project(root).problems
    assert len(problems) == 3, "\n".join(map(str, problems))
    rules, stories = "data/rules/faq.yml", "tests/test_stories.yml"
    assert_reported(problems[0], rules, line_no(root, rules, "utter_gret"),
                    "'utter_gret'", "did you mean 'utter_greet'?")
    assert_reported(problems[1], rules, line_no(root, rules, "    action: utter_greet"),
                    "not indented as one of its steps")
    assert_reported(problems[2], stories, line_no(root, stories, "faq/costs"),
                    "'faq/costs'", "did you mean 'faq/cost_insurance'?")


def test_held_out_questions_labelled_with_an_unknown_topic(tmp_path: Path) -> None:
    root = broken_project(tmp_path, {})
    heldout = root / "tests" / "heldout" / "nlu_heldout_speed.yml"
    heldout.parent.mkdir()
    heldout.write_text('version: "3.1"\nnlu:\n- intent: faq/sped\n  examples: |\n'
                       "    - will i feel better the same day\n")
    assert_reported(only_problem(root), "tests/heldout/nlu_heldout_speed.yml", 3,
                    "labelled 'faq/sped'", "did you mean 'faq/speed'?")


def test_example_lines_that_rasa_would_skip(tmp_path: Path) -> None:
    root = broken_project(tmp_path, {"data/nlu/general.yml": [
        ("    - hiya\n", "    - hiya\n\n    -\n    howdy there\n"),
    ]})
    rel = "data/nlu/general.yml"
    problems = check_project(root).problems
    assert [(p.line, p.what.split(" under")[0].split(" inside")[0]) for p in problems] == [
        (line_no(root, rel, "hiya") + 1, "an empty line"),
        (line_no(root, rel, "hiya") + 2, "an empty example"),
        (line_no(root, rel, "howdy there"), "this line"),
    ]
    assert all(p.path == rel and p.fix for p in problems)


def test_a_name_written_twice_keeps_only_one(tmp_path: Path) -> None:
    root = broken_project(tmp_path, {"domain.yml": [
        ("  utter_out_of_scope:\n", "  utter_greet:\n    - text: Hi!\n  utter_out_of_scope:\n"),
    ]})
    lines = [i for i, text in enumerate((root / "domain.yml").read_text().splitlines(), 1)
             if text == "  utter_greet:"]
    assert_reported(only_problem(root), "domain.yml", lines[1], "'utter_greet' is written twice",
                    f"also at line {lines[0]}")


def test_a_bad_settings_file_is_named(tmp_path: Path) -> None:
    root = broken_project(tmp_path, {"settings/clinic.yml": [('"415-249-2580"', '"call us"')]})
    assert_reported(only_problem(root), "settings/clinic.yml", 1, "'phone' is malformed")


def run_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "staff_tools.check_data", *args],
                          capture_output=True, text=True, cwd=PROJECT_DIR, timeout=60)


def test_the_command_prints_each_problem_and_exits_1(tmp_path: Path) -> None:
    root = broken_project(tmp_path, {"data/nlu/faq.yml": [
        ("- intent: faq/cost_insurance", "- intent: faq/cost_insurence"),
    ]})
    result = run_command("--project", str(root))
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("data/nlu/faq.yml:") and ". How to fix: " in lines[0]
    assert lines[1].startswith("domain.yml:")
    assert lines[-1].startswith("3 problems found.") and "docs/staff-guide.md" in lines[-1]
    assert "Traceback" not in result.stderr


def test_the_command_passes_on_the_real_project_quickly() -> None:
    started = time.monotonic()
    result = run_command()
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Data OK: ")
    assert elapsed < 5, f"took {elapsed:.1f} s"


def test_a_folder_that_is_not_the_project_gets_one_line(tmp_path: Path) -> None:
    result = run_command("--project", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "no domain.yml" in result.stderr


def test_the_rule_and_story_keys_are_rasas() -> None:
    # Written in the checker because Rasa's module costs about 0.3 s to import.
    from rasa.shared.core.training_data.story_reader import yaml_story_reader as rasa

    from staff_tools.check_data.rasa_names import RULE_KEYS, STORY_KEYS

    assert RULE_KEYS == {rasa.KEY_RULE_NAME, rasa.KEY_STEPS, rasa.KEY_RULE_CONDITION,
                         rasa.KEY_RULE_FOR_CONVERSATION_START,
                         rasa.KEY_WAIT_FOR_USER_INPUT_AFTER_RULE, rasa.KEY_METADATA}
    assert STORY_KEYS == {rasa.KEY_STORY_NAME, rasa.KEY_STEPS, rasa.KEY_METADATA}


def test_the_checker_loads_only_rasas_constants() -> None:
    # So that it stays fast: no Rasa training data, domain, NLU or core, no TensorFlow.
    heavy = ("rasa.core", "rasa.nlu", "rasa.engine", "rasa.shared.core.training_data",
             "rasa.shared.core.domain", "rasa.shared.nlu", "tensorflow", "sqlalchemy", "sanic")
    code = f"import sys, staff_tools.check_data; print(sorted(m for m in sys.modules "\
           f"if m.startswith({heavy!r})))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=PROJECT_DIR, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_no_function_of_the_checker_is_over_60_lines_nor_a_class_over_150() -> None:
    import ast

    too_long = {}
    for path in sorted((PROJECT_DIR / "staff_tools" / "check_data").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            limit = {ast.FunctionDef: 60, ast.ClassDef: 150}.get(type(node))
            if limit and node.end_lineno - node.lineno + 1 > limit:
                too_long[f"{path.name}:{node.name}"] = node.end_lineno - node.lineno + 1
    assert too_long == {}
