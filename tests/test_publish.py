"""Test and publish: the order of the steps, their failures, the lock, the kept previous model
and restoring it. Training, the safety gate and the server are fakes (the real end-to-end
publish needs a trained model and a running server); the real step runners are tested with
stand-in `python` and `rasa` programs."""

from __future__ import annotations

import json
import os
import shutil
import stat
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import pytest

from clinic.paths import PROJECT_DIR
from evaluation import floors
from evaluation.gate import check as gate_check
from staff_tools import publish as pub
from staff_tools import reload
from staff_tools.publish import (
    BUSY,
    Progress,
    PublishResult,
    Run,
    StepFailed,
    Steps,
    model_versions,
    publish,
    restore_previous,
)

URL, TOKEN = "http://127.0.0.1:5005", "secret"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "assistant"
    (root / "models").mkdir(parents=True)
    (root / "models" / "clinic.tar.gz").write_bytes(b"live model")
    (root / "models" / ".pipeline_fingerprint").write_text("pipeline-1")
    (root / "models" / "training.json").write_text('{"seconds": 20}\n')
    return root


def content(path: Path) -> bytes:
    return path.read_bytes()


class Fake:
    """Steps that record what ran; `fail` names a step that raises StepFailed."""

    def __init__(self, fail: Optional[str] = None, crash: Optional[str] = None) -> None:
        self.fail, self.crash = fail, crash
        self.calls: List[str] = []
        self.live_before = b""
        self.loaded: List[bytes] = []
        self.gate_started = threading.Event()
        self.gate_may_finish = threading.Event()
        self.gate_may_finish.set()

    def _maybe_fail(self, step: str) -> None:
        self.calls.append(step)
        if self.crash == step:
            raise RuntimeError(f"{step} blew up")
        if self.fail == step:
            raise StepFailed(f"{step} failed in staff words", [f"{step} detail"])

    def check_server(self, url: str, token: str) -> None:
        assert (url, token) == (URL, TOKEN)
        self._maybe_fail("server")

    def check_data(self, run: Run) -> str:
        self.live_before = content(run.project / "models" / "clinic.tar.gz")
        self._maybe_fail("data")
        run.say("Data OK: 12 examples")
        return "Data OK: 12 examples"

    def train(self, run: Run) -> Dict[str, Any]:
        assert not run.candidate.exists()
        self._maybe_fail("train")
        run.candidate.parent.mkdir(parents=True, exist_ok=True)
        run.candidate.write_bytes(b"new model")
        run.say("Training: 1 part of the model trained")
        return {"seconds": 7, "from_scratch": False, "components_trained": 1,
                "pipeline_fingerprint": "pipeline-2"}

    def safety_gate(self, run: Run) -> Dict[str, float]:
        assert content(run.candidate) == b"new model"
        # The live model is untouched while the new one is tested.
        assert content(run.project / "models" / "clinic.tar.gz") == self.live_before
        self.gate_started.set()
        assert self.gate_may_finish.wait(10)
        self._maybe_fail("gate")
        return {"crisis_recall": 0.99}

    def load_model(self, url: str, token: str, model: Path) -> None:
        self.calls.append("load")
        self.loaded.append(content(model))
        if self.crash == "load":
            raise RuntimeError("load blew up")
        if self.fail == "load":
            raise StepFailed("The assistant is not running.")

    def steps(self) -> Steps:
        return Steps(self.check_server, self.check_data, self.train, self.safety_gate,
                     self.load_model)


def run_publish(project: Path, fake: Fake, who: str = "Ana") -> tuple:
    progress: List[Progress] = []
    result = publish(project, progress.append, server_url=URL, token=TOKEN, published_by=who,
                     steps=fake.steps())
    return result, progress


def run_restore(project: Path, fake: Fake, who: str = "Ben") -> tuple:
    progress: List[Progress] = []
    result = restore_previous(project, progress.append, server_url=URL, token=TOKEN,
                              restored_by=who, steps=fake.steps())
    return result, progress


# ---- the happy path ------------------------------------------------------------------------

def test_publish_checks_trains_tests_keeps_the_live_model_then_loads_the_new_one(
    project: Path,
) -> None:
    fake = Fake()
    result, progress = run_publish(project, fake)
    assert result.ok, result.message
    assert fake.calls == ["server", "data", "train", "gate", "load"]
    assert fake.loaded == [b"new model"]
    models = project / "models"
    assert content(models / "clinic.tar.gz") == b"new model"
    assert content(models / "previous" / "clinic.tar.gz") == b"live model"
    assert not (project / "var" / "publish" / "candidate.tar.gz").exists()
    # What train.sh keeps beside the model follows the model that went live.
    assert (models / ".pipeline_fingerprint").read_text() == "pipeline-2"
    assert json.loads((models / "training.json").read_text())["seconds"] == 7

    steps = [p.step for p in progress if p.finished]
    assert steps == list(pub.PUBLISH_STEPS)
    assert all(p.ok for p in progress if p.finished)
    starts = [p.step for p in progress if not p.finished and p.ok is None]
    assert starts[0] == "check" and "Training: 1 part of the model trained" in [
        p.message for p in progress]
    assert result.version is not None and result.version.published_by == "Ana"
    assert result.log is not None and "gate: Passed every safety test" in result.log.read_text()


def test_model_versions_say_when_and_by_whom(project: Path) -> None:
    (current,) = model_versions(project)
    assert current.which == "current" and current.published_by is None  # trained in a terminal
    run_publish(project, Fake())
    current, previous = model_versions(project)
    assert (current.which, current.published_by, current.figures) == (
        "current", "Ana", {"crisis_recall": 0.99})
    assert current.published_at is not None and current.trained_at <= current.published_at
    assert (previous.which, previous.published_by) == ("previous", None)
    assert previous.path == project / "models" / "previous" / "clinic.tar.gz"
    # A model trained in a terminal afterwards is not taken for the published one.
    (project / "models" / "clinic.tar.gz").write_bytes(b"trained by make train")
    assert model_versions(project)[0].published_by is None


def test_the_versions_can_be_listed_while_a_restore_swaps_them(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A restore moves the current model aside for an instant; the publish page, read at that
    # instant, lists the version still in place instead of failing.
    run_publish(project, Fake())
    current = project / "models" / "clinic.tar.gz"
    real_stat = Path.stat

    def moved_away(path: Path, *args: Any, **kwargs: Any) -> Any:
        if path == current:
            raise FileNotFoundError(str(path))
        return real_stat(path, *args, **kwargs)

    real_is_file = Path.is_file
    monkeypatch.setattr(Path, "is_file", lambda path: path == current or real_is_file(path))
    monkeypatch.setattr(Path, "stat", moved_away)  # found, then gone when it is read
    assert [version.which for version in model_versions(project)] == ["previous"]


def test_a_second_publish_keeps_only_the_version_it_replaces(project: Path) -> None:
    run_publish(project, Fake(), who="Ana")
    run_publish(project, Fake(), who="Ben")
    current, previous = model_versions(project)
    assert (current.published_by, previous.published_by) == ("Ben", "Ana")


# ---- stopping at the first failure --------------------------------------------------------

@pytest.mark.parametrize(("fail", "step", "ran"), [
    ("server", "check", ["server"]),
    ("data", "check", ["server", "data"]),
    ("train", "train", ["server", "data", "train"]),
    ("gate", "gate", ["server", "data", "train", "gate"]),
])
def test_a_failed_step_stops_the_publish_and_nothing_goes_live(
    project: Path, fail: str, step: str, ran: List[str],
) -> None:
    fake = Fake(fail=fail)
    result, progress = run_publish(project, fake)
    assert not result.ok and result.failed_step == step
    assert result.message == f"{fail} failed in staff words"
    assert result.details == [f"{fail} detail"]
    assert fake.calls == ran and fake.loaded == []
    assert content(project / "models" / "clinic.tar.gz") == b"live model"
    assert not (project / "models" / "previous").exists()
    assert (project / "models" / ".pipeline_fingerprint").read_text() == "pipeline-1"
    assert progress[-1] == Progress(step, result.message, True, False)


def test_a_model_the_server_does_not_take_is_taken_back_and_the_files_put_back(
    project: Path,
) -> None:
    run_publish(project, Fake(), who="Ana")  # live: "new model", previous: "live model"
    (project / "models" / "clinic.tar.gz").write_bytes(b"second live model")
    fake = Fake(fail="load")
    result, _ = run_publish(project, fake, who="Ben")
    assert not result.ok and result.failed_step == "load"
    assert "passed every test, but the assistant did not load it" in result.message
    assert "keeps answering with the version it had" in result.message
    models = project / "models"
    assert content(models / "clinic.tar.gz") == b"second live model"
    assert content(models / "previous" / "clinic.tar.gz") == b"live model"
    assert not (models / ".previous-before-publish").exists()
    assert (models / ".pipeline_fingerprint").read_text() == "pipeline-2"


def test_an_unexpected_error_is_said_plainly_and_logged(project: Path) -> None:
    result, _ = run_publish(project, Fake(crash="train"))
    assert not result.ok and result.failed_step == "train"
    assert "Something unexpected went wrong (train blew up)" in result.message
    assert result.log is not None and "RuntimeError: train blew up" in result.log.read_text()
    assert content(project / "models" / "clinic.tar.gz") == b"live model"


def test_an_unexpected_error_while_loading_puts_the_files_back(project: Path) -> None:
    result, _ = run_publish(project, Fake(crash="load"))
    assert not result.ok and result.failed_step == "load"
    assert content(project / "models" / "clinic.tar.gz") == b"live model"
    assert not (project / "models" / "previous").exists()


# ---- one at a time -------------------------------------------------------------------------

def test_a_second_publish_or_a_restore_waits_for_the_first(project: Path) -> None:
    slow = Fake()
    slow.gate_may_finish.clear()
    results: Dict[str, PublishResult] = {}
    first = threading.Thread(target=lambda: results.update(first=run_publish(project, slow)[0]))
    first.start()
    assert slow.gate_started.wait(10)
    second, progress = run_publish(project, Fake(), who="Ben")
    restore, _ = run_restore(project, Fake())
    slow.gate_may_finish.set()
    first.join(10)
    assert second.failed_step == BUSY and restore.failed_step == BUSY
    assert "A publish started by Ana" in second.message
    assert "Wait for it to finish" in second.message
    assert progress == []
    assert results["first"].ok
    assert run_publish(project, Fake(), who="Ben")[0].ok  # the lock is free again


# ---- restoring the previous version --------------------------------------------------------

def test_restore_swaps_the_previous_version_back_and_loads_it(project: Path) -> None:
    run_publish(project, Fake(), who="Ana")
    fake = Fake()
    result, progress = run_restore(project, fake, who="Ben")
    assert result.ok, result.message
    assert fake.calls == ["server", "load"] and fake.loaded == [b"live model"]
    models = project / "models"
    assert content(models / "clinic.tar.gz") == b"live model"
    assert content(models / "previous" / "clinic.tar.gz") == b"new model"
    assert (models / ".pipeline_fingerprint").read_text() == "pipeline-1"
    current, previous = model_versions(project)
    assert current.restored_by == "Ben" and current.published_by is None
    assert previous.published_by == "Ana"
    assert [p.step for p in progress if p.finished] == ["restore", "load"]
    # Restoring again goes back to the version just replaced.
    assert run_restore(project, Fake())[0].ok
    assert content(models / "clinic.tar.gz") == b"new model"
    assert (models / ".pipeline_fingerprint").read_text() == "pipeline-2"


def test_restore_without_a_previous_version_says_so(project: Path) -> None:
    result, _ = run_restore(project, Fake())
    assert not result.ok and result.message == "There is no previous version to put back."


def test_a_restore_the_server_does_not_take_changes_nothing(project: Path) -> None:
    run_publish(project, Fake())
    result, _ = run_restore(project, Fake(fail="load"))
    assert not result.ok and result.failed_step == "load"
    assert "Nothing was changed" in result.message
    assert content(project / "models" / "clinic.tar.gz") == b"new model"
    assert content(project / "models" / "previous" / "clinic.tar.gz") == b"live model"
    assert [version.restored_by for version in model_versions(project)] == [None, None]


# ---- the real step runners, with stand-in programs -----------------------------------------

def program(path: Path, script: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def run(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("RASA", raising=False)
    said: List[str] = []
    work = project / "var" / "publish"
    work.mkdir(parents=True)
    with (tmp_path / "run.log").open("w") as log:
        yield Run(project, work / "candidate.tar.gz", work, log, said.append), said


def test_training_runs_train_sh_steps_into_the_candidate_only(project: Path, run) -> None:
    the_run, said = run
    program(project / ".venv/bin/python", 'echo "python $*" >> "$0.calls"\n'
            'mkdir -p build/spacy/clinic_en && printf pipeline-2 > '
            "build/spacy/clinic_en/clinic_fingerprint.txt\n")
    program(project / ".venv/bin/rasa", 'echo "rasa $*" >> "$0.calls"\n'
            'echo "Finished training component \'A\'."\necho "Finished training component \'B\'."\n'
            'touch var/publish/candidate.tar.gz\n')
    record = pub.train_candidate(the_run)
    assert record["from_scratch"] is True and record["components_trained"] == 2
    assert record["pipeline_fingerprint"] == "pipeline-2"
    calls = (project / ".venv/bin/python.calls").read_text().splitlines()
    assert calls == ["python -m clinic_nlp.pipeline", "python -m clinic_nlp.crisis_rules"]
    rasa_call = (project / ".venv/bin/rasa.calls").read_text().split()
    assert rasa_call[:3] == ["rasa", "train", "--skip-validation"]
    assert "--force" in rasa_call and rasa_call[rasa_call.index("--out") + 1] == str(
        the_run.work)
    assert "Training: 2 parts of the model trained" in said
    # Nothing in models/ changed: the stamps go there only when the model goes live.
    assert (project / "models" / ".pipeline_fingerprint").read_text() == "pipeline-1"


def test_training_reuses_the_cache_when_the_pipeline_did_not_change(project: Path, run) -> None:
    the_run, _ = run
    program(project / ".venv/bin/python", "mkdir -p build/spacy/clinic_en && printf pipeline-1 > "
            "build/spacy/clinic_en/clinic_fingerprint.txt\n")
    program(project / ".venv/bin/rasa", 'echo "rasa $*" > "$0.calls"\n'
            'echo "$RASA_TELEMETRY_ENABLED $HF_HUB_OFFLINE $PYTHONPATH" > "$0.env"\n'
            "touch var/publish/candidate.tar.gz\n")
    assert pub.train_candidate(the_run)["from_scratch"] is False
    assert "--force" not in (project / ".venv/bin/rasa.calls").read_text()
    # Private and offline, as the servers run; the project's code first on the path.
    assert (project / ".venv/bin/rasa.env").read_text().split() == ["false", "1", str(project)]


def test_a_training_error_is_for_a_developer(project: Path, run) -> None:
    the_run, _ = run
    program(project / ".venv/bin/python", "exit 0\n")
    program(project / ".venv/bin/rasa", 'echo "MemoryError: out of memory"\nexit 1\n')
    with pytest.raises(StepFailed, match="Training did not finish") as failure:
        pub.train_candidate(the_run)
    assert "ask a developer" in failure.value.message
    assert failure.value.details == ["MemoryError: out of memory"]


def gate_program(project: Path, result: Dict[str, Any], stories: str = "exit 0") -> None:
    line = "GATE " + json.dumps({"result": result})
    program(project / ".venv/bin/python",
            "echo 'loading...'\necho 'GATE {\"say\": \"Checking the 23 crisis test messages\"}'\n"
            f"echo '{line}'\n")
    program(project / ".venv/bin/rasa", f'echo "rasa $*" > "$0.calls"\n{stories}\n')


def test_the_gate_reports_its_progress_then_plays_the_test_stories(project: Path, run) -> None:
    the_run, said = run
    gate_program(project, {"ok": True, "stage": "", "failures": [],
                           "figures": {"crisis_recall": 0.991}})
    assert pub.safety_gate(the_run) == {"crisis_recall": 0.991}
    assert said == ["Checking the 23 crisis test messages",
                    "Playing the test conversations (tests/test_stories.yml)"]
    call = (project / ".venv/bin/rasa.calls").read_text().split()
    assert call[1:3] == ["test", "core"] and "--fail-on-prediction-errors" in call
    assert call[call.index("--model") + 1] == str(the_run.candidate)


def test_a_failed_crisis_check_stops_the_gate_in_staff_words(project: Path, run) -> None:
    the_run, _ = run
    failure = "a negation nearby must not hide a present crisis: “not okay” got answer greet"
    gate_program(project, {"ok": False, "stage": "crisis", "failures": [failure], "figures": {}})
    with pytest.raises(StepFailed, match="failed a crisis safety test") as error:
        pub.safety_gate(the_run)
    assert error.value.details == [failure]
    assert not (project / ".venv/bin/rasa.calls").exists()  # stopped before the stories


def test_a_failed_test_story_is_named(project: Path, run) -> None:
    the_run, _ = run
    stories = ("echo 'Model predicted a wrong action. Failed Story:'\n"
               "echo '- story: Crisis then thanks - 988 is repeated'\nexit 1")
    gate_program(project, {"ok": True, "stage": "", "failures": [], "figures": {}}, stories)
    with pytest.raises(StepFailed, match="did not follow a test conversation") as error:
        pub.safety_gate(the_run)
    assert error.value.details == ["Test conversation “Crisis then thanks - 988 is repeated”"]


def test_a_gate_that_crashes_is_for_a_developer(project: Path, run) -> None:
    the_run, _ = run
    program(project / ".venv/bin/python", "echo 'Traceback: no module'\nexit 1\n")
    with pytest.raises(StepFailed, match="The safety tests could not run"):
        pub.safety_gate(the_run)


def copy_of_the_project_data(target: Path) -> None:
    for name in ("data", "settings", "patterns"):
        shutil.copytree(PROJECT_DIR / name, target / name)
    for name in ("domain.yml", "config.yml"):
        shutil.copy(PROJECT_DIR / name, target / name)
    (target / "tests").mkdir(exist_ok=True)
    shutil.copy(PROJECT_DIR / "tests" / "test_stories.yml", target / "tests")
    shutil.copytree(PROJECT_DIR / "tests" / "heldout", target / "tests" / "heldout")


def test_data_problems_are_listed_with_how_to_fix_them(project: Path, run) -> None:
    the_run, _ = run
    copy_of_the_project_data(project)
    faq = project / "data" / "nlu" / "faq.yml"
    faq.write_text(faq.read_text().replace(
        "    - what is ketamine\n", "    - what is ketamine\n    - What is ketamine\n"))
    with pytest.raises(StepFailed, match="The data has 1 problem to fix first") as failure:
        pub.check_data(the_run)
    (problem,) = failure.value.details
    assert problem.startswith("data/nlu/faq.yml:") and "How to fix:" in problem


def test_rasas_own_check_runs_after_the_staff_check(project: Path, run) -> None:
    the_run, said = run
    copy_of_the_project_data(project)
    program(project / "scripts" / "validate.sh", "echo 'UserWarning: intent x unused'\nexit 1\n")
    with pytest.raises(StepFailed, match="The full check") as failure:
        pub.check_data(the_run)
    assert failure.value.details == ["UserWarning: intent x unused"]
    assert said[0].startswith("Data OK")


@pytest.mark.parametrize(("reason", "words"), [
    (reload.NOT_RUNNING, "The assistant is not running"),
    (reload.REFUSED_TOKEN, "refused the console's access token"),
    (reload.TIMEOUT, "did not answer in time"),
    (reload.SERVER_ERROR, "could not load the model: boom"),
])
def test_server_problems_are_said_in_staff_words(
    monkeypatch: pytest.MonkeyPatch, reason: str, words: str,
) -> None:
    def refuse(*_: Any) -> None:
        raise reload.ReloadError("boom", reason)

    monkeypatch.setattr(reload, "reload_model", refuse)
    monkeypatch.setattr(reload, "server_status", refuse)
    for step in (lambda: pub.load_model(URL, TOKEN, Path("m.tar.gz")),
                 lambda: pub.check_server(URL, TOKEN)):
        with pytest.raises(StepFailed, match=words):
            step()


# ---- the gate's checks and floors (evaluation/gate.py, evaluation/floors.py) ---------------

def parse_for(case: floors.Case) -> Dict[str, Any]:
    """A parse result that passes `case`."""
    label = case.label or ("greet" if case.not_label == "crisis" else "crisis")
    parse: Dict[str, Any] = {"intent": {"name": label, "confidence": 0.9}}
    if label.startswith("faq/"):
        parse["intent"]["name"] = "faq"
        parse["response_selector"] = {"faq": {"response": {"intent_response_key": label}}}
    parse["crisis_detector"] = {"kind": case.kind, "tier": case.tier}
    return parse


class FakeParser:
    def __init__(self, broken: Optional[str] = None) -> None:
        cases = [*floors.CRISIS_CASES, *floors.topic_button_cases()]
        self.parses = {case.text: parse_for(case) for case in cases}
        if broken:
            self.parses[broken] = {"intent": {"name": "greet"}}

    def parse(self, text: str) -> Dict[str, Any]:
        return self.parses[text]


class Figures:
    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


GOOD_REPORT = dict(
    per_file={"nlu_heldout.yml": {"n": 312, "accuracy": 0.98, "wrong_faq_answer_rate": 0.003}},
    messages=726, in_scope_accuracy=0.977, out_of_scope_handled_rate=0.96,
    wrong_faq_answer_rate=0.007, crisis_total=433, crisis_recall=0.991, false_crisis_rate=0.008,
)
# The dev-set figures (2026-12-08, sixteenth session, rounds 1-51) that evaluation/floors.py's
# DEV_SET_FLOORS stand under.
GOOD_DEV = dict(
    messages=33030, in_scope_right=0.970, wrong_faq_answers=0.013, off_topic_handled=0.966,
    crisis_full_reply=0.996, crisis_full_or_check_in=1.0, ordinary_full_crisis=0.004,
    negatives_full_crisis=0.027,
)


def gate(parser: FakeParser, report: Dict[str, Any], dev: Dict[str, Any]) -> Any:
    said: List[str] = []
    scored: List[str] = []

    def score(name: str, figures: Dict[str, Any]) -> Callable[[], Any]:
        return lambda: scored.append(name) or Figures(**figures)

    result = gate_check(parser, said.append, score("heldout", report), score("dev", dev))
    return result, said, scored


def test_the_gate_passes_a_model_that_keeps_every_case_and_floor() -> None:
    result, said, scored = gate(FakeParser(), GOOD_REPORT, GOOD_DEV)
    assert (result.ok, result.failures, scored) == (True, [], ["heldout", "dev"])
    assert result.figures["crisis_recall"] == 0.991
    assert said[0] == f"Checking the {len(floors.CRISIS_CASES)} crisis test messages"


def test_one_crisis_case_missed_fails_the_gate_before_any_scoring() -> None:
    text = floors.NEGATION_NEARBY[0].text
    result, _, scored = gate(FakeParser(broken=text), GOOD_REPORT, GOOD_DEV)
    assert (result.ok, result.stage, scored) == (False, "crisis", [])
    assert result.failures == [
        f"a negation nearby must not hide a present crisis: “{text}” got answer greet"]


def test_a_topic_button_answered_by_another_topic_fails_the_gate() -> None:
    title = floors.topic_button_cases()[0].text
    result, _, _ = gate(FakeParser(broken=title), GOOD_REPORT, GOOD_DEV)
    assert (result.ok, result.stage) == (False, "buttons")


def test_a_floor_missed_fails_the_gate_with_the_figure_in_plain_words() -> None:
    result, _, scored = gate(FakeParser(), {**GOOD_REPORT, "crisis_recall": 0.98}, GOOD_DEV)
    assert (result.ok, result.stage, scored) == (False, "heldout", ["heldout"])
    assert result.failures == [
        "crisis messages given the crisis reply: 98.0%, needs at least 98.5%"]
    result, _, _ = gate(FakeParser(), GOOD_REPORT, {**GOOD_DEV, "ordinary_full_crisis": 0.02})
    assert (result.ok, result.stage) == (False, "dev_sets")
    assert result.failures == [
        "earlier test rounds: ordinary questions given the crisis reply: 2.0%, at most 1.0% "
        "allowed"]


def test_counts_are_floors_too() -> None:
    assert floors.misses(floors.HELDOUT_FLOORS, {**GOOD_REPORT, "messages": 10}) == [
        "held-out questions: 10, needs at least 700"]
    assert floors.misses(floors.FIRST_FILE_FLOORS, {}) == [
        f"{floor.words}: not measured" for floor in floors.FIRST_FILE_FLOORS]


def test_the_gate_and_the_publish_name_the_same_marker() -> None:
    from evaluation import gate as gate_module

    assert gate_module.MARKER == pub.GATE_MARKER
    assert os.path.isfile(PROJECT_DIR / pub.TEST_STORIES)


def test_a_stopping_console_stops_the_training_it_started(tmp_path: Path) -> None:
    import io
    import threading

    from staff_tools.publish import Run, run_command, stop_running_commands

    run = Run(project=tmp_path, candidate=tmp_path / "candidate.tar.gz", work=tmp_path,
              log=io.StringIO(), say=lambda _line: None)
    finished: list = []
    worker = threading.Thread(
        target=lambda: finished.append(run_command(run, ["sleep", "60"], timeout=120)))
    worker.start()
    for _ in range(100):  # until the command runs
        if stop_running_commands():
            break
        threading.Event().wait(0.05)
    worker.join(timeout=10)
    assert not worker.is_alive() and finished and finished[0][0] != 0
