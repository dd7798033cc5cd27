"""The staff console's publish, end to end in headless Chromium against the real servers.

A staff member (an account made with `python -m staff_console.accounts add`) signs in, edits a
topic's answer (a commit with them as author, shown in History), adds a question from the inbox
to that topic, presses Publish with the keyboard, and waits while the console checks the data,
trains, runs the safety gate and loads the new model into the running Rasa server; the chat
widget then gives the new answer. Restoring the previous version from the console brings the
old answer back. axe-core scans the publish page while the publish runs and after it.

Everything runs on a git clone of the project's HEAD in a temporary folder (`.venv` and the
sentence-vector model linked; the rest of build/ and models/ copied): the action server, the
Rasa server, the demo page and the console are started with the clone's `python -m ...` from
the clone's folder, so `clinic.paths.PROJECT_DIR` is the clone and nothing of this folder is
committed, rebuilt or retrained. Changes not committed yet are not in the clone. Slow (the
publish trains and runs the safety gate: about five minutes on two cores); screenshots, the
publish's step timings (reports/console/publish-timings.json) and the servers' and publish's
logs (reports/console/publish-logs/) go to reports/console/. The servers, and a training or
gate a failed test leaves running, are stopped whatever happens.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time
import uuid
import warnings
from contextlib import closing, suppress
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
import requests
import yaml
from playwright.sync_api import Browser, Page, expect, sync_playwright

from clinic import launcher
from tests.conftest import PROJECT_DIR
from tests.test_console_browser import SCREENSHOTS, screenshot, serious_issues
from tests.test_widget_browser import AXE, CHROMIUM, CHROMIUM_ARGS, REPLY_MS

pytestmark = pytest.mark.e2e

NAME, PASSWORD, EMAIL = "rosa", "publish test password 1", "rosa@clinic.test"
TOKEN = "publish-test-" + uuid.uuid4().hex
TOPIC, TOPIC_TITLE = "speed", "How fast does it work?"
# Said to the assistant before the inbox is opened: questions about TOPIC worded unlike its
# examples, which the shipped model is not sure of ("kick in time?": "did you mean", speed
# first at 0.49; "onset?": speed at 0.54, under the inbox's 0.7). The first one listed in the
# inbox is assigned to TOPIC.
UNSURE_QUESTIONS = ("kick in time?", "onset?", "when will i know")
PUBLISH_SECONDS = 15 * 60  # check, train, safety gate, load
RESTORE_SECONDS = 5 * 60
SERVER_START_SECONDS = 300
LOGS = SCREENSHOTS / "publish-logs"


# ---- the project's clone and its servers ----------------------------------------------------

def git(project: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True,
                          text=True).stdout


def clone_project(target: Path) -> Path:
    """HEAD of this project in `target`, with this folder's `.venv`, build and models.

    `.venv` and the sentence-vector model (build/minilm) are linked: nothing writes there.
    The rest of build/ (the spaCy pipeline, the embedding cache, the classifiers' calibration)
    is copied, not linked: a publish rebuilds the pipeline when the clone's patterns differ
    from the ones it was built from and adds to the caches, which must not change this
    folder's. `models/` is copied.
    """
    assert (PROJECT_DIR / ".git").exists(), "the project folder must be a git clone"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(PROJECT_DIR),
                    str(target)], check=True)
    (target / ".venv").symlink_to(PROJECT_DIR / ".venv")
    # `.venv/` in .gitignore matches a folder, not a link to one.
    with open(target / ".git" / "info" / "exclude", "a", encoding="utf-8") as exclude:
        exclude.write("/.venv\n")
    (target / "build").mkdir()
    for source in sorted((PROJECT_DIR / "build").iterdir()):
        copy = target / "build" / source.name
        if source.name == "minilm":
            copy.symlink_to(source.resolve())
        elif source.is_dir():
            shutil.copytree(source, copy, symlinks=True)
        elif source.suffix == ".sqlite":  # a consistent copy, even while it is written to
            with closing(sqlite3.connect(source)) as cache, \
                    closing(sqlite3.connect(copy)) as copied:
                cache.backup(copied)
        else:
            shutil.copy2(source, copy)
    shutil.copytree(PROJECT_DIR / "models", target / "models", symlinks=True)
    (target / "var").mkdir(exist_ok=True)
    return target


def _process_stat(pid: int) -> Optional[Tuple[int, str]]:
    """(parent pid, start time) of a running process, or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] == "Z" else (int(fields[1]), fields[19])


def descendants(pid: int) -> List[Tuple[int, str]]:
    """(pid, start time) of every process started by `pid`, its children's, and so on."""
    children: Dict[int, List[Tuple[int, str]]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _process_stat(int(entry.name))
            if stat:
                children.setdefault(stat[0], []).append((int(entry.name), stat[1]))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child[0])
    return found


def stop_processes(processes: List[Tuple[int, str]], seconds: float = 10) -> None:
    """SIGTERM, then SIGKILL, each process still running (the same one: same start time)."""
    def alive() -> List[int]:
        return [pid for pid, started in processes
                if (_process_stat(pid) or (0, ""))[1] == started]

    for sent in (signal.SIGTERM, signal.SIGKILL):
        for pid in alive():
            with suppress(ProcessLookupError):
                os.kill(pid, sent)
        deadline = time.monotonic() + seconds
        while alive() and time.monotonic() < deadline:
            time.sleep(0.2)


class PublishSite:
    """The action server, Rasa server, demo page and staff console of a clone of the project."""

    def __init__(self, tmp: Path) -> None:
        self.project = clone_project(tmp / "project")
        self.logs_dir = tmp / "logs"
        self.logs_dir.mkdir()
        ports = {name: launcher.free_port() for name in ("rasa", "action", "widget", "console")}
        self.rasa_url = f"http://127.0.0.1:{ports['rasa']}"
        self.widget_url = f"http://127.0.0.1:{ports['widget']}"
        self.console_url = f"http://127.0.0.1:{ports['console']}"
        self.db = self.project / "var" / "console.sqlite"
        self.python = str(self.project / ".venv" / "bin" / "python")
        self.env = launcher.environment({
            # The clone's packages, whatever this process's PYTHONPATH says.
            "PYTHONPATH": str(self.project),
            "RASA": str(self.project / ".venv" / "bin" / "rasa"),
            "RASA_HOST": launcher.LOOPBACK, "RASA_PORT": str(ports["rasa"]),
            "RASA_AUTH_TOKEN": TOKEN,
            "ACTION_PORT": str(ports["action"]),
            "ACTION_ENDPOINT_URL": launcher.action_endpoint_url(ports["action"]),
            "WIDGET_PORT": str(ports["widget"]), "CONSOLE_PORT": str(ports["console"]),
            "CONSOLE_DB": str(self.db),
            "TRACKER_STORE_URL": f"sqlite:///{self.project / 'var' / 'tracker.db'}",
            "RUN_STATE_DB": str(self.project / "var" / "run-state.sqlite"),
        })
        self.processes: List[subprocess.Popen] = []
        self.logs: List[Any] = []
        try:
            self._start_all(ports)
        except BaseException:
            self.stop()
            raise

    def _start(self, name: str, command: List[str]) -> subprocess.Popen:
        log = open(self.logs_dir / f"{name}.log", "w", encoding="utf-8")
        self.logs.append(log)
        process = launcher.start(command, self.env, log, cwd=self.project)
        self.processes.append(process)
        return process

    def _start_all(self, ports: Dict[str, int]) -> None:
        actions = self._start("actions", launcher.action_server_command(ports["action"],
                                                                        self.env))
        rasa = self._start("rasa", launcher.rasa_server_command(
            ports["rasa"], model="models/clinic.tar.gz", auth_token=TOKEN,
            cors=[self.widget_url], server=(self.python, "-m", "clinic_speedups", "run")))
        widget = self._start("widget", [self.python, "-m", "webchat.serve", "--port",
                                        str(ports["widget"]), "--rasa-url", self.rasa_url])
        console = self._start("console", [self.python, "-m", "staff_console", "--port",
                                          str(ports["console"]), "--project",
                                          str(self.project), "--db", str(self.db)])
        launcher.wait_until_up(self.console_url + "/sign-in", [console], 60, interval=0.25)
        launcher.wait_until_up(self.widget_url + "/", [widget], 60, interval=0.25)
        launcher.wait_until_up(f"http://127.0.0.1:{ports['action']}/health", [actions],
                               SERVER_START_SECONDS)
        launcher.wait_until_up(self.rasa_url + "/", [rasa], SERVER_START_SECONDS)

    def add_account(self) -> str:
        """The staff account, made as the README says (the password on standard input)."""
        done = subprocess.run(
            [self.python, "-m", "staff_console.accounts", "--db", str(self.db), "add", NAME,
             "--email", EMAIL, "--password-stdin"],
            input=PASSWORD + "\n", cwd=self.project, env=self.env, capture_output=True,
            text=True, check=True)
        return done.stdout

    def say(self, text: str, sender: str) -> List[Dict[str, Any]]:
        """A visitor's message through the chat webhook, as the widget sends it."""
        response = requests.post(self.rasa_url + "/webhooks/rest/webhook",
                                 json={"sender": sender, "message": text}, timeout=60)
        response.raise_for_status()
        return list(response.json())

    def parse(self, text: str) -> Dict[str, Any]:
        response = requests.post(self.rasa_url + "/model/parse", params={"token": TOKEN},
                                 json={"text": text}, timeout=60)
        response.raise_for_status()
        return dict(response.json())

    def publish_log(self, kind: str = "publish") -> str:
        logs = sorted((self.project / "var" / "publish" / "logs").glob(f"{kind}-*.log"))
        return logs[-1].read_text(encoding="utf-8") if logs else ""

    def stop(self) -> None:
        # A publish stopped half-way leaves its training or gate running: those too.
        children = [child for process in self.processes for child in descendants(process.pid)]
        launcher.stop(self.processes, self.logs, seconds=20)
        stop_processes(children)
        # Kept for whoever reads a failure: the servers' and the publish's logs.
        LOGS.mkdir(parents=True, exist_ok=True)
        for log in self.logs_dir.glob("*.log"):
            shutil.copy2(log, LOGS / log.name)
        for log in (self.project / "var" / "publish" / "logs").glob("*.log"):
            shutil.copy2(log, LOGS / log.name)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublishSite]:
    assert (PROJECT_DIR / "models" / "clinic.tar.gz").exists(), \
        "no trained model: the test command trains one first"
    started = PublishSite(tmp_path_factory.mktemp("console-publish"))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def browser(site: PublishSite) -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Chromium is missing: apt-get install -y chromium"
    assert AXE.exists(), "axe-core is missing: cd webchat && npm ci"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


# ---- the publish's timings, from its log ----------------------------------------------------

LOG_LINE = re.compile(r"^\[(\d\d:\d\d:\d\d)\] (\w+): (.*)$")


def step_timings(log: str) -> List[Tuple[str, str, float]]:
    """(step, what it was doing, seconds) for each progress line, until the next line."""
    lines = [(datetime.strptime(m.group(1), "%H:%M:%S"), m.group(2), m.group(3))
             for m in map(LOG_LINE.match, log.splitlines()) if m]
    timings = []
    for (when, step, message), (later, _, _) in zip(lines, lines[1:], strict=False):
        seconds = (later - when).total_seconds() % 86400  # past midnight
        timings.append((step, message, seconds))
    return timings


def save_timings(timings: Dict[str, Any]) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "publish-timings.json").write_text(json.dumps(timings, indent=2) + "\n")


def step_totals(log: str) -> Dict[str, float]:
    totals: Dict[str, float] = {}
    for step, _, seconds in step_timings(log):
        totals[step] = totals.get(step, 0.0) + seconds
    return totals


# ---- the pages ------------------------------------------------------------------------------

def console_page(browser: Browser, site: PublishSite) -> Page:
    # bypass_csp: axe-core is injected as an inline script.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto(site.console_url + "/sign-in")
    return page


def widget_page(browser: Browser, site: PublishSite) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(site.widget_url + "/")
    page.get_by_role("button", name="Chat with us").click()
    expect(page.get_by_role("dialog", name="Ketamine Infusion Clinic")).to_be_visible()
    return page


def widget_answer(page: Page, question: str, expected: str) -> str:
    """Ask in the widget; the bot's replies (one text) once one of them contains `expected`."""
    replies = page.locator(".cc-msg-bot")
    before = replies.count()
    box = page.get_by_label("Type your message")
    box.fill(question)
    box.press("Enter")
    expect(page.locator(".cc-msg-user").last).to_contain_text(question)
    deadline = time.monotonic() + REPLY_MS / 1000
    while time.monotonic() < deadline:
        texts = replies.all_text_contents()[before:]
        if texts and any(expected in text for text in texts):
            return " ".join(texts)
        time.sleep(0.25)
    raise AssertionError(f"the widget never said {expected!r} to {question!r}; it said "
                         f"{replies.all_text_contents()[before:]}")


def tab_to(page: Page, selector: str, limit: int = 150) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def wait_for_job(page: Page, site: PublishSite, seconds: float) -> Dict[str, Any]:
    """Poll the page's own status (/api/publish/status) until the job ends; print progress."""
    deadline = time.monotonic() + seconds
    shown = ""
    while time.monotonic() < deadline:
        response = page.request.get(site.console_url + "/api/publish/status")
        assert response.ok, response.status
        job = response.json()["job"]
        running = [s for s in job["steps"] if s["state"] == "running"] if job else []
        line = f"{running[0]['name']}: {running[0]['message']}" if running else ""
        if line and line != shown:
            print(f"  [{time.strftime('%H:%M:%S')}] {line}", flush=True)
            shown = line
        if job and job["finished"]:
            return dict(job)
        time.sleep(2)
    raise AssertionError(f"the {job and job['kind']} did not finish in {seconds:.0f} s; its "
                         f"last steps: {job and job['steps']}")


def answer_text(project: Path, topic: str) -> str:
    domain = yaml.safe_load((project / "domain.yml").read_text(encoding="utf-8"))
    return str(domain["responses"][f"utter_faq/{topic}"][0]["text"])


def say_unsure_questions(site: PublishSite) -> None:
    """Each of UNSURE_QUESTIONS through the chat webhook, as a visitor of its own."""
    for question in UNSURE_QUESTIONS:
        parse = site.parse(question)
        site.say(question, "visitor-" + uuid.uuid4().hex)
        intent = parse["intent"]
        selector = parse.get("response_selector", {}).get("faq", {}).get("response", {})
        print(f"  asked {question!r}: intent {intent['name']} {intent['confidence']:.2f}, "
              f"topic {selector.get('intent_response_key')} "
              f"{selector.get('confidence') or 0:.2f}", flush=True)


# ---- the test -------------------------------------------------------------------------------

@pytest.mark.timeout(PUBLISH_SECONDS + RESTORE_SECONDS + 20 * 60)
def test_staff_edit_an_answer_publish_it_see_it_in_the_widget_and_restore_the_old_one(
    site: PublishSite, browser: Browser,
) -> None:
    timings: Dict[str, Any] = {}
    phone = str(yaml.safe_load((site.project / "settings" / "clinic.yml").read_text())["phone"])
    old_answer = answer_text(site.project, TOPIC)
    # A sentence the clinic's article allows: the clinic's own number, as the settings say it.
    added = f"To talk it through for your own situation, call us on {phone}."
    head_before = git(site.project, "rev-parse", "HEAD").strip()

    # 1. Sign in as an account made with the accounts command.
    assert NAME in site.add_account()
    page = console_page(browser, site)
    page.get_by_label("Name").fill(NAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # 2. Edit the topic's answer and save it: a commit with the staff member as author.
    page.get_by_role("navigation").get_by_role("link", name="Topics and answers").click()
    page.get_by_role("link", name=TOPIC_TITLE, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(TOPIC_TITLE)
    answer = page.get_by_label("Answer", exact=True)
    new_answer = f"{answer.input_value().strip()} {added}"
    answer.fill(new_answer)
    page.get_by_role("button", name="Check").first.click()
    expect(page.get_by_role("status").filter(has_text="Checked: no problem found")).to_be_visible()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    assert answer_text(site.project, TOPIC) == new_answer
    assert git(site.project, "log", "-1", "--format=%an <%ae>").strip() == f"{NAME} <{EMAIL}>"
    page.get_by_role("navigation").get_by_role("link", name="History").click()
    latest = page.locator("li.change").first
    expect(latest).to_contain_text(f"By {NAME}")
    expect(latest).to_contain_text(f"Topic “{TOPIC_TITLE}”: answer changed to")
    screenshot(page, "publish-1-history-after-edit")

    # 3. A question the assistant was unsure of, from the inbox to the topic.
    say_unsure_questions(site)
    asked: Optional[str] = None
    assigned_at: Optional[float] = None
    page.get_by_role("navigation").get_by_role("link", name="Inbox").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inbox")
    for question in UNSURE_QUESTIONS:
        group = page.get_by_role("article").filter(has_text=f"“{question}”")
        if group.count():
            asked = question
            break
    if asked is None:
        reason = (f"none of {list(UNSURE_QUESTIONS)} is listed in the inbox (the model "
                  "answered each of them sure enough)")
        print(f"SKIPPED step 3 (assign an inbox question to a topic): {reason}")
        warnings.warn(f"step 3 (assign an inbox question to a topic) skipped: {reason}",
                      stacklevel=1)
        timings["inbox"] = f"skipped: {reason}"
        screenshot(page, "publish-3-inbox-empty")
    else:
        screenshot(page, "publish-3-inbox")
        group.get_by_label("Topic").select_option(f"faq/{TOPIC}")
        assigned_at = time.monotonic()
        group.get_by_role("button", name="Add to this topic").click()
        expect(page.get_by_role("status").filter(has_text="added as a training example")
               ).to_be_visible()
        faq = (site.project / "data" / "nlu" / "faq.yml").read_text(encoding="utf-8")
        assert f"    - {asked}\n" in faq
        assert git(site.project, "log", "-1", "--format=%an").strip() == NAME

    # 4. Publish, with the keyboard only; axe while it runs and after.
    page.get_by_role("navigation").get_by_role("link", name="Test and publish").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Test and publish")
    tab_to(page, "#publish-form button")
    outline = page.evaluate("(() => { const s = getComputedStyle(document.activeElement);"
                            " return s.outlineStyle + ' ' + s.outlineWidth; })()")
    assert not outline.startswith("none"), f"the focused Publish button shows no outline: {outline}"
    started = time.monotonic()
    page.keyboard.press("Enter")
    expect(page.locator("#progress")).to_have_attribute("data-running", "true")
    expect(page.get_by_role("button", name="Publish", exact=True)).to_be_disabled()
    issues = serious_issues(page)
    screenshot(page, "publish-4-running")
    job = wait_for_job(page, site, PUBLISH_SECONDS)
    timings["publish_seconds"] = round(time.monotonic() - started)
    log = site.publish_log()
    timings["publish_steps"] = step_totals(log)
    timings["publish_lines"] = [list(line) for line in step_timings(log)]
    save_timings(timings)
    # The page follows by itself (console.js polls the same status).
    expect(page.locator("#job-result a", has_text="Show the versions now")).to_be_visible()
    screenshot(page, "publish-5-finished")
    assert job["ok"], (f"the publish failed: {job['message']} {job['details']}\n"
                       f"{log[-4000:]}")
    expect(page.locator("#job-result")).to_contain_text("Published")
    page.goto(site.console_url + "/publish")
    expect(page.locator("dl.versions")).to_contain_text(f"published by {NAME}")
    issues += serious_issues(page)
    screenshot(page, "publish-6-published")
    assert issues == [], issues
    assert git(site.project, "status", "--porcelain").strip() == ""
    assert git(site.project, "rev-parse", "HEAD").strip() != head_before

    # 5. The widget gives the new answer.
    chat = widget_page(browser, site)
    reply = widget_answer(chat, TOPIC_TITLE, added)
    assert added in reply
    if assigned_at is not None and asked:
        # The question from the inbox is now an example of the topic: it gets its answer.
        widget_answer(chat, asked, added)
        timings["assign_to_widget_answer_seconds"] = round(time.monotonic() - assigned_at)
    chat.screenshot(path=str(SCREENSHOTS / "publish-7-widget-new-answer.png"))
    chat.context.close()

    # 6. Restore the previous version from the console: the old answer again.
    started = time.monotonic()
    page.get_by_role("button", name="Restore the previous version").click()
    expect(page.locator("#job-summary")).to_contain_text(f"Restore started by {NAME}")
    job = wait_for_job(page, site, RESTORE_SECONDS)
    timings["restore_seconds"] = round(time.monotonic() - started)
    timings["restore_steps"] = step_totals(site.publish_log("restore"))
    assert job["ok"], f"the restore failed: {job['message']} {job['details']}"
    page.goto(site.console_url + "/publish")
    expect(page.locator("dl.versions dd").first).to_contain_text(f"restored by {NAME}")
    assert serious_issues(page) == []
    screenshot(page, "publish-8-restored")
    chat = widget_page(browser, site)
    first_words = old_answer.split(".")[0]
    reply = widget_answer(chat, TOPIC_TITLE, first_words)
    assert added not in reply
    chat.screenshot(path=str(SCREENSHOTS / "publish-9-widget-old-answer.png"))
    chat.context.close()
    page.context.close()

    save_timings(timings)
    print("publish timings:", json.dumps({k: v for k, v in timings.items()
                                          if k != "publish_lines"}, indent=2))
    for step, message, seconds in timings["publish_lines"]:
        print(f"  {seconds:6.0f} s  {step}: {message}")
