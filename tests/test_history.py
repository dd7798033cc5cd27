"""The history of staff changes: commits with the staff member as author, plain-words diffs,
undo as a new commit. Every test works on a temporary `git init` folder."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path
from typing import List

import pytest

from staff_tools.history import (
    HistoryError,
    NoChanges,
    UndoConflict,
    commit_change,
    describe_change,
    head_commit,
    list_changes,
    undo_change,
)

ANA = ("Ana Nurse", "ana@clinic.test")
BEN = ("Ben Front-Desk", "ben@clinic.test")

NLU = """\
version: "3.1"

# FAQ topics: one block per topic.
nlu:
- intent: faq/cost_insurance
  examples: |
    - how much does it cost
    - is it covered by insurance
    - what's the price
- intent: faq/speed
  examples: |
    - how fast does it work
    - when will i feel better
- intent: greet
  examples: |
    - hello
    - hi there
"""
DOMAIN = """\
version: "3.1"
intents:
  - greet
  - faq
responses:
  utter_greet:
    - text: Hello! I'm the clinic's assistant.
  utter_faq/cost_insurance:
    - text: Our article does not cover prices.
  utter_faq/speed:
    - text: Many people feel better within hours.
"""
TOPICS = """\
cost_insurance:
  title: "How much does it cost?"
  answered_by_article: false
  related: []
speed:
  title: "How fast does it work?"
  answered_by_article: true
  related: [cost_insurance]
"""
CLINIC = """\
phone: "415-249-2580"
opening_hours:
  monday: "09:00-17:00"
  saturday: closed
widget_origins:
  - "http://localhost:8080"
"""
CRISIS = """\
# Crisis phrases.
suicide:
  - kill myself
  - end my life
"""


def git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(project), "-c", "user.name=Dev", "-c", "user.email=dev@x.test",
         *args], check=True, capture_output=True, text=True,
    ).stdout


def write(project: Path, path: str, text: str) -> Path:
    full = project / path
    full.parent.mkdir(parents=True, exist_ok=True)
    full.write_text(text, encoding="utf-8")
    return full


def edit(project: Path, path: str, old: str, new: str) -> Path:
    full = project / path
    text = full.read_text(encoding="utf-8")
    assert old in text, old
    full.write_text(text.replace(old, new, 1), encoding="utf-8")
    return full


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "assistant"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for path, text in [("data/nlu/faq.yml", NLU), ("domain.yml", DOMAIN),
                       ("settings/faq_topics.yml", TOPICS), ("settings/clinic.yml", CLINIC),
                       ("patterns/crisis.yml", CRISIS), ("actions/code.py", "x = 1\n")]:
        write(root, path, text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "The assistant")
    return root


def add_example(project: Path, after: str, text: str, who=ANA) -> str:
    path = edit(project, "data/nlu/faq.yml", f"    - {after}\n", f"    - {after}\n    - {text}\n")
    return commit_change(project, [path], f"Added an example: {text}", *who)


def files_in(project: Path, sha: str) -> List[str]:
    return git(project, "show", "--format=", "--name-only", sha).split()


# ---- saving ------------------------------------------------------------------------------

def test_a_change_is_a_commit_by_the_staff_member_of_the_given_files_only(project: Path) -> None:
    write(project, "notes.txt", "a developer's work in progress\n")
    git(project, "add", "notes.txt")
    path = edit(project, "domain.yml", "Our article does not cover prices.",
                "Prices depend on the treatment plan.")
    sha = commit_change(project, [path], "Cost: answer changed", *ANA)
    assert sha == head_commit(project)
    assert git(project, "log", "-1", "--format=%an|%ae|%cn|%s", sha).strip() == (
        "Ana Nurse|ana@clinic.test|Ana Nurse|Cost: answer changed")
    assert files_in(project, sha) == ["domain.yml"]
    # The other staged work is still staged, not committed.
    assert git(project, "diff", "--cached", "--name-only").split() == ["notes.txt"]


def test_new_and_deleted_files_are_saved_and_paths_may_be_relative(project: Path) -> None:
    write(project, "data/nlu/new_topic.yml", 'version: "3.1"\nnlu:\n- intent: faq/parking\n'
          "  examples: |\n    - where do i park\n")
    (project / "patterns" / "crisis.yml").unlink()
    sha = commit_change(project, [Path("data/nlu/new_topic.yml"), project / "patterns/crisis.yml"],
                        "New topic, crisis file removed", *BEN)
    assert sorted(files_in(project, sha)) == ["data/nlu/new_topic.yml", "patterns/crisis.yml"]
    assert git(project, "status", "--porcelain").strip() == ""


def test_nothing_to_save_and_bad_paths_are_refused(project: Path) -> None:
    with pytest.raises(NoChanges):
        commit_change(project, [project / "domain.yml"], "nothing", *ANA)
    with pytest.raises(HistoryError, match="outside the project"):
        commit_change(project, [project.parent / "elsewhere.yml"], "x", *ANA)
    with pytest.raises(HistoryError, match="name and e-mail"):
        commit_change(project, [project / "domain.yml"], "x", "", "ana@clinic.test")


def test_a_folder_that_is_not_a_repository_says_so(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="not kept in git"):
        list_changes(tmp_path)


def test_saves_from_several_threads_do_not_trip_over_each_other(project: Path) -> None:
    errors: List[Exception] = []

    def save(index: int) -> None:
        try:
            path = write(project, f"data/nlu/extra_{index}.yml",
                         f'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n'
                         f"    - hello number {index}\n")
            commit_change(project, [path], f"Example {index}", *ANA)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(list_changes(project)) == 6


# ---- listing, in plain words -------------------------------------------------------------

def test_examples_added_and_removed_are_named_with_their_topic(project: Path) -> None:
    add_example(project, "what's the price", "how much is it")
    path = edit(project, "data/nlu/faq.yml", "    - hi there\n", "")
    commit_change(project, [path], "Removed an example", *BEN)
    newest, added, first = list_changes(project)
    assert newest.author == "Ben Front-Desk" and newest.summary == "Removed an example"
    assert newest.details == ["Removed example “hi there” from intent greet"]
    assert added.details == [
        "Added example “how much is it” to topic “How much does it cost?”"]
    assert added.author == "Ana Nurse" and added.author_email == "ana@clinic.test"
    assert added.files == ["data/nlu/faq.yml"] and added.can_undo
    assert first.summary == "The assistant" and newest.when >= first.when


def test_an_example_moved_to_another_topic_reads_as_removed_and_added(project: Path) -> None:
    edit(project, "data/nlu/faq.yml", "    - when will i feel better\n", "")
    path = edit(project, "data/nlu/faq.yml", "    - what's the price\n",
                "    - what's the price\n    - when will i feel better\n")
    commit_change(project, [path], "Moved", *ANA)
    assert list_changes(project, 1)[0].details == [
        "Added example “when will i feel better” to topic “How much does it cost?”",
        "Removed example “when will i feel better” from topic “How fast does it work?”",
    ]


def test_answers_titles_related_topics_settings_and_crisis_phrases(project: Path) -> None:
    paths = [
        edit(project, "domain.yml", "Many people feel better within hours.",
             "Many people notice a change within a day."),
        edit(project, "settings/faq_topics.yml", '"How much does it cost?"',
             '"What does it cost?"'),
        edit(project, "settings/faq_topics.yml", "related: [cost_insurance]", "related: []"),
        edit(project, "settings/clinic.yml", "415-249-2580", "415-249-2581"),
        edit(project, "settings/clinic.yml", "saturday: closed", 'saturday: "10:00-12:00"'),
        edit(project, "patterns/crisis.yml", "  - end my life\n",
             "  - end my life\n  - not wake up\n"),
    ]
    commit_change(project, paths, "Several edits", *ANA)
    assert list_changes(project, 1)[0].details == [  # file by file, in the files' order
        "Topic “How fast does it work?”: answer changed to "
        "“Many people notice a change within a day.”",
        "Added crisis phrase “not wake up” to suicide",
        "Setting opening_hours.saturday changed from “closed” to “10:00-12:00”",
        "Setting phone changed from “415-249-2580” to “415-249-2581”",
        "Topic “How fast does it work?”: related topics now none",
        "Topic “How much does it cost?”: button title changed to “What does it cost?”",
    ]


def test_a_new_topic_end_to_end_reads_as_topic_examples_and_answer(project: Path) -> None:
    paths = [
        edit(project, "data/nlu/faq.yml", "- intent: greet\n",
             "- intent: faq/parking\n  examples: |\n    - where do i park\n"
             "    - is there parking\n- intent: greet\n"),
        edit(project, "domain.yml", "  utter_faq/speed:\n",
             "  utter_faq/parking:\n    - text: There is free parking behind the clinic.\n"
             "  utter_faq/speed:\n"),
        edit(project, "settings/faq_topics.yml", "speed:\n",
             'parking:\n  title: "Where do I park?"\n  answered_by_article: false\n'
             "  related: []\nspeed:\n"),
    ]
    commit_change(project, paths, "New topic: parking", *ANA)
    assert list_changes(project, 1)[0].details == [
        "Added example “is there parking” to topic “Where do I park?”",
        "Added example “where do i park” to topic “Where do I park?”",
        "Topic “Where do I park?”: new answer “There is free parking behind the clinic.”",
        "New topic “Where do I park?”",
    ]


def test_many_examples_at_once_are_one_line(project: Path) -> None:
    lines = "".join(f"    - greeting number {i}\n" for i in range(40))
    path = edit(project, "data/nlu/faq.yml", "    - hi there\n", "    - hi there\n" + lines)
    commit_change(project, [path], "Forty greetings", *ANA)
    (detail,) = list_changes(project, 1)[0].details
    assert detail.startswith("Added 40 examples to intent greet (“greeting number")


def test_a_broken_yaml_file_is_described_by_its_lines(project: Path) -> None:
    path = edit(project, "settings/clinic.yml", 'phone: "415-249-2580"', "phone: [unclosed")
    commit_change(project, [path], "Broken", *ANA)
    assert list_changes(project, 1)[0].details == [
        "File settings/clinic.yml changed (1 lines added, 1 removed)"]


def test_a_developers_change_lists_only_the_staff_files_and_cannot_be_undone(
    project: Path,
) -> None:
    write(project, "actions/code.py", "x = 2\n")
    edit(project, "domain.yml", "Hello! I'm the clinic's assistant.", "Hi! I'm the assistant.")
    git(project, "commit", "-q", "-am", "Code and greeting")
    change = list_changes(project, 1)[0]
    assert change.details == [
        "Reply utter_greet: answer changed to “Hi! I'm the assistant.”",
        "Also changed 1 program file (a developer's change)",
    ]
    assert not change.can_undo
    with pytest.raises(HistoryError, match="a developer must undo it"):
        undo_change(project, change.sha, *ANA)


def test_changes_to_other_files_only_are_not_listed(project: Path) -> None:
    write(project, "actions/code.py", "x = 3\n")
    git(project, "commit", "-q", "-am", "Code only")
    assert [change.summary for change in list_changes(project)] == ["The assistant"]
    assert describe_change(project, "HEAD") == [
        "Also changed 1 program file (a developer's change)"]


# ---- undo ----------------------------------------------------------------------------------

def test_undo_is_a_new_commit_that_takes_one_change_back(project: Path) -> None:
    first = add_example(project, "what's the price", "how much is it")
    second = add_example(project, "how much is it", "what does a session cost", who=BEN)
    undo = undo_change(project, first, *BEN)
    text = (project / "data/nlu/faq.yml").read_text()
    assert "how much is it" not in text and "    - what does a session cost\n" in text
    assert git(project, "log", "-1", "--format=%an|%s", undo).strip() == (
        "Ben Front-Desk|Undo: Added an example: how much is it")
    assert git(project, "status", "--porcelain").strip() == ""
    newest, *_ = changes = list_changes(project)
    assert newest.sha == undo and newest.undoes == first
    assert newest.details == [
        "Removed example “how much is it” from topic “How much does it cost?”"]
    by_sha = {change.sha: change for change in changes}
    assert by_sha[first].undone_by == undo and by_sha[second].undone_by is None


def test_undoing_a_removal_puts_the_example_back_in_its_topic(project: Path) -> None:
    path = edit(project, "data/nlu/faq.yml", "    - how fast does it work\n", "")
    removed = commit_change(project, [path], "Removed", *ANA)
    add_example(project, "when will i feel better", "does it work quickly")
    add_example(project, "what's the price", "cost per infusion")
    undo_change(project, removed, *ANA)
    assert list_changes(project, 1)[0].details == [
        "Added example “how fast does it work” to topic “How fast does it work?”"]


def test_undoing_the_undo_brings_the_change_back(project: Path) -> None:
    first = add_example(project, "what's the price", "how much is it")
    undo = undo_change(project, first, *ANA)
    again = undo_change(project, undo, *ANA)
    assert "    - how much is it\n" in (project / "data/nlu/faq.yml").read_text()
    assert list_changes(project, 1)[0].sha == again


def test_a_later_change_to_the_same_answer_makes_the_undo_a_clear_error(project: Path) -> None:
    path = edit(project, "domain.yml", "Our article does not cover prices.", "Call us for prices.")
    first = commit_change(project, [path], "Cost answer", *ANA)
    edit(project, "domain.yml", "Call us for prices.", "Prices are on our website.")
    later = commit_change(project, [path], "Cost answer again", *BEN)
    with pytest.raises(UndoConflict, match="a later change edited the same part"):
        undo_change(project, first, *ANA)
    assert head_commit(project) == later
    assert "Prices are on our website." in (project / "domain.yml").read_text()
    assert git(project, "status", "--porcelain").strip() == ""


def test_undo_refuses_files_with_unsaved_edits_and_unknown_changes(project: Path) -> None:
    first = add_example(project, "what's the price", "how much is it")
    edit(project, "data/nlu/faq.yml", "    - hello\n", "    - hello\n    - hand edit\n")
    with pytest.raises(HistoryError, match="not saved in the history yet"):
        undo_change(project, first, *ANA)
    with pytest.raises(HistoryError, match="no change"):
        undo_change(project, "0" * 40, *ANA)


def test_undo_leaves_other_staged_work_alone(project: Path) -> None:
    first = add_example(project, "what's the price", "how much is it")
    write(project, "notes.txt", "work in progress\n")
    git(project, "add", "notes.txt")
    undo = undo_change(project, first, *ANA)
    assert files_in(project, undo) == ["data/nlu/faq.yml"]
    assert git(project, "diff", "--cached", "--name-only").split() == ["notes.txt"]


def test_undoing_a_new_file_removes_it(project: Path) -> None:
    path = write(project, "data/nlu/new_topic.yml",
                 'version: "3.1"\nnlu:\n- intent: faq/parking\n  examples: |\n'
                 "    - where do i park\n")
    added = commit_change(project, [path], "New file", *ANA)
    undo_change(project, added, *ANA)
    assert not path.exists()
    assert git(project, "status", "--porcelain").strip() == ""
    assert list_changes(project, 1)[0].details == [
        "Removed example “where do i park” from topic parking"]
