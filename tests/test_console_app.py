"""The staff console (staff_console/) as a real server on a free port, on a git copy of the
project and a tracker store of made-up conversations: sign-in guard, CSRF, rate limiting,
session expiry, and edits that write the YAML and commit as the staff member."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest
import requests
import yaml
from markupsafe import escape

from clinic import launcher
from clinic.paths import PROJECT_DIR
from staff_console.accounts import Accounts
from staff_console.app import create_app
from staff_console.config import ConsoleConfig
from staff_console.db import Database
from staff_console.pages.topics import edit_examples
from staff_console.sessions import Sessions
from staff_console.throttle import SignInThrottle, keys
from staff_console.web import Console
from staff_tools.check_data import check_project
from tests.fixtures.clinic_store import COST, MONDAY, TUESDAY, WEATHER, ClinicStore
from tests.test_training_data import EXAMPLES, copy_project

NAME, PASSWORD, EMAIL = "anna", "correct horse battery", "anna@clinic.test"
PERIOD = {"from": MONDAY.isoformat(), "to": TUESDAY.isoformat()}


def git(project: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True,
                          text=True).stdout


def git_project(target: Path) -> Path:
    """A copy of the project's data in a new git repository with one commit."""
    project = copy_project(target)
    shutil.copy2(PROJECT_DIR / ".gitignore", project / ".gitignore")  # var/, models/ ...
    git(project, "init", "--quiet")
    git(project, "add", "--all")
    git(project, "-c", "user.name=Developer", "-c", "user.email=dev@clinic.test", "commit",
        "--quiet", "-m", "The project's data")
    return project


class ConsoleServer:
    """`python -m staff_console` on a free loopback port, as clinic/launcher.py starts it."""

    def __init__(self, tmp: Path, project: Path, tracker_url: str = "",
                 env: Optional[Dict[str, str]] = None) -> None:
        self.db = tmp / "console.sqlite"
        Accounts(Database(self.db)).add(NAME, PASSWORD, EMAIL)
        self.port = launcher.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.project = project
        environment = launcher.environment({
            "CONSOLE_DB": str(self.db),
            "TRACKER_STORE_URL": tracker_url or f"sqlite:///{tmp / 'no-tracker.db'}",
            # No Rasa server there: a publish stops at its first step, and trains nothing.
            "RASA_PORT": str(launcher.free_port()), "RASA_AUTH_TOKEN": "test-token",
            **(env or {})})
        self.log = open(tmp / "console.log", "w")
        command = [sys.executable, "-m", "staff_console", "--port", str(self.port),
                   "--project", str(project), "--db", str(self.db)]
        self.process = launcher.start(command, environment, self.log)
        launcher.wait_until_up(self.url + "/sign-in", [self.process], 60, interval=0.25)

    def session(self) -> requests.Session:
        """A signed-in browser-like session."""
        session = requests.Session()
        response = sign_in(session, self.url, NAME, PASSWORD)
        assert response.status_code == 303, response.text
        return session

    def stop(self) -> None:
        launcher.stop([self.process], [self.log], seconds=10)


def sign_in(session: requests.Session, url: str, name: str, password: str,
            next_page: str = "/") -> requests.Response:
    page = session.get(url + "/sign-in")
    token = re.search(r'name="sign_in_token" value="([^"]+)"', page.text)
    assert token, page.text
    return session.post(url + "/sign-in", allow_redirects=False, data={
        "name": name, "password": password, "sign_in_token": token.group(1),
        "next": next_page})


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, clinic_store: ClinicStore
           ) -> Iterator[ConsoleServer]:
    tmp = tmp_path_factory.mktemp("console")
    started = ConsoleServer(tmp, git_project(tmp / "project"), clinic_store.url)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def staff(server: ConsoleServer) -> requests.Session:
    return server.session()


# ---- nothing without signing in --------------------------------------------------------------

def _routes(tmp: Path) -> List[tuple]:
    app = create_app(ConsoleConfig(db_path=tmp / "routes.sqlite"), name="console_routes")
    found = []
    for route in app.router.routes:
        path = "/" + re.sub(r"<(\w+)(:[^>]*)?>", lambda m: {"key": "cost_insurance",
                                                           "name": "out_of_scope",
                                                           "sha": "abc123"}.get(m.group(1), "x"),
                             route.path)
        for method in sorted(route.methods - {"HEAD"}):
            found.append((method, path))
    return found


def test_every_route_without_a_session_goes_to_sign_in_or_answers_401(
    server: ConsoleServer, tmp_path: Path,
) -> None:
    routes = _routes(tmp_path)
    assert len(routes) >= 20
    for method, path in routes:
        response = requests.request(method, server.url + path, allow_redirects=False,
                                    data={"csrf_token": "x"}, timeout=30)
        if path in ("/sign-in",) or path.startswith("/static/"):
            assert response.status_code in (200, 403, 404), (method, path)
            continue
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path)
            assert response.json() == {"error": "not signed in"}
            continue
        assert response.status_code == 303, (method, path, response.status_code)
        assert response.headers["location"].startswith("/sign-in"), (method, path)
    assert requests.get(server.url + "/static/console.css", timeout=30).status_code == 200


def test_a_wrong_password_or_name_is_refused_without_saying_which(server: ConsoleServer) -> None:
    wrong_password = sign_in(requests.Session(), server.url, NAME, "not the password")
    no_such_name = sign_in(requests.Session(), server.url, "nobody", PASSWORD)
    assert wrong_password.status_code == no_such_name.status_code == 401
    assert "The name or the password is wrong." in wrong_password.text
    assert "The name or the password is wrong." in no_such_name.text
    assert "console_session" not in wrong_password.headers.get("set-cookie", "")


def test_the_session_cookie_is_http_only_strict_and_signing_out_ends_it(
    server: ConsoleServer,
) -> None:
    session = requests.Session()
    response = sign_in(session, server.url, NAME, PASSWORD, next_page="/topics")
    assert response.status_code == 303 and response.headers["location"] == "/topics"
    cookie = response.headers["set-cookie"]
    assert "console_session=" in cookie and "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    page = session.get(server.url + "/topics")
    assert page.status_code == 200 and "How much does it cost?" in page.text
    session.post(server.url + "/sign-out", data={"csrf_token": csrf(page.text)})
    assert session.get(server.url + "/topics", allow_redirects=False).status_code == 303


def test_a_sign_in_form_from_elsewhere_is_refused(server: ConsoleServer) -> None:
    response = requests.post(server.url + "/sign-in", allow_redirects=False,
                             data={"name": NAME, "password": PASSWORD})
    assert response.status_code == 403
    assert "console_session" not in response.headers.get("set-cookie", "")


def test_a_next_page_elsewhere_is_not_followed(server: ConsoleServer) -> None:
    response = sign_in(requests.Session(), server.url, NAME, PASSWORD,
                       next_page="//evil.example/")
    assert response.headers["location"] == "/"


def test_another_host_name_is_refused(server: ConsoleServer) -> None:
    response = requests.get(server.url + "/sign-in", headers={"Host": "evil.example"})
    assert response.status_code == 400


def test_pages_have_strict_security_headers(server: ConsoleServer,
                                            staff: requests.Session) -> None:
    response = staff.get(server.url + "/topics")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


# ---- CSRF ------------------------------------------------------------------------------------

def test_a_forged_post_without_the_csrf_token_is_refused(server: ConsoleServer,
                                                         staff: requests.Session) -> None:
    domain = (server.project / "domain.yml").read_text()
    head = git(server.project, "rev-parse", "HEAD")
    page = staff.get(server.url + "/topics/safety")
    form = {"title": "Is ketamine therapy safe?", "answered": "no",
            "answer": "Forged answer.", "action": "save"}
    refused = [
        staff.post(server.url + "/topics/safety", data=form, allow_redirects=False),
        staff.post(server.url + "/topics/safety", data={**form, "csrf_token": "guessed"},
                   allow_redirects=False),
        staff.post(server.url + "/topics/safety", data={**form, "csrf_token": csrf(page.text)},
                   headers={"Origin": "http://evil.example"}, allow_redirects=False),
    ]
    assert [response.status_code for response in refused] == [403, 403, 403]
    assert "did not come from the console" in refused[0].text
    assert (server.project / "domain.yml").read_text() == domain
    assert git(server.project, "rev-parse", "HEAD") == head


# ---- topics and answers ----------------------------------------------------------------------

def test_a_topic_edit_writes_the_yaml_and_commits_as_the_staff_member(
    server: ConsoleServer, staff: requests.Session,
) -> None:
    page = staff.get(server.url + "/topics/aftercare")
    assert page.status_code == 200
    answer = ("Our article doesn't cover driving, work or other activities after an infusion. "
              "Please ask the clinic's team before your appointment; they will explain.")
    response = staff.post(server.url + "/topics/aftercare", allow_redirects=False, data={
        "csrf_token": csrf(page.text), "title": "Can I drive after an infusion?",
        "answered": "no", "related": ["session_experience"], "answer": answer,
        "action": "save"})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/topics/aftercare?done=saved"
    domain = yaml.safe_load((server.project / "domain.yml").read_text())
    english, spanish = domain["responses"]["utter_faq/aftercare"]
    assert english == {"text": answer}  # the Spanish variant is kept for its reviewer
    assert spanish["condition"] == [{"type": "slot", "name": "language", "value": "es"}]
    topics = yaml.safe_load((server.project / "settings" / "faq_topics.yml").read_text())
    assert topics["aftercare"]["related"] == ["session_experience"]
    author = git(server.project, "log", "-1", "--format=%an <%ae>|%s").strip()
    assert author.startswith(f"{NAME} <{EMAIL}>|")
    assert "aftercare" in author
    changed = git(server.project, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(changed) == ["domain.yml", "settings/faq_topics.yml"]
    assert git(server.project, "status", "--porcelain").strip() == ""
    shown = staff.get(server.url + "/topics/aftercare?done=saved")
    assert "Saved." in shown.text and "they will explain." in shown.text
    history = staff.get(server.url + "/history")
    assert "By anna" in history.text and "aftercare" in history.text.lower()


def test_a_check_shows_the_data_checkers_problems_next_to_the_field_and_saves_nothing(
    server: ConsoleServer, staff: requests.Session,
) -> None:
    head = git(server.project, "rev-parse", "HEAD")
    page = staff.get(server.url + "/topics/eligibility")
    for action in ("check", "save"):
        response = staff.post(server.url + "/topics/eligibility", data={
            "csrf_token": csrf(page.text), "title": "Is ketamine therapy right for me?",
            "answered": "no", "answer": "Call our nurse on 415-555-0199 to find out.",
            "action": action})
        assert response.status_code == 422
        problems = re.search(r'<ul class="field-problems" id="answer-problems">(.*?)</ul>',
                             response.text, re.S)
        assert problems and "415-555-0199" in problems.group(1)
        assert 'aria-invalid="true"' in response.text
        # nothing typed is lost
        assert "Call our nurse on 415-555-0199 to find out.</textarea>" in response.text
    assert git(server.project, "rev-parse", "HEAD") == head
    assert "415-555-0199" not in (server.project / "domain.yml").read_text()


def test_markup_in_an_answer_is_refused_and_shown_as_text(
    server: ConsoleServer, staff: requests.Session,
) -> None:
    page = staff.get(server.url + "/topics/safety")
    response = staff.post(server.url + "/topics/safety", data={
        "csrf_token": csrf(page.text), "title": "Is ketamine therapy safe?", "answered": "no",
        "answer": "<script>alert('x')</script> Safe!", "action": "save"})
    assert response.status_code == 422
    assert "<script>alert" not in response.text
    assert "&lt;script&gt;alert(" in response.text
    assert "<script>" not in (server.project / "domain.yml").read_text()


def test_examples_are_added_and_removed_with_a_commit_each(
    server: ConsoleServer, staff: requests.Session,
) -> None:
    url = server.url + "/topics/number_of_sessions/examples"
    page = staff.get(server.url + "/topics/number_of_sessions")
    text = "how many rounds of infusions do people usually book"
    checked = staff.post(url, data={"csrf_token": csrf(page.text), "examples": text,
                                    "action": "check"})
    assert checked.status_code == 200 and "Checked: no problem found" in checked.text
    assert text not in (server.project / "data" / "nlu" / "faq.yml").read_text()
    added = staff.post(url, allow_redirects=False, data={
        "csrf_token": csrf(page.text), "examples": text, "action": "add"})
    assert added.status_code == 303
    assert f"    - {text}\n" in (server.project / "data" / "nlu" / "faq.yml").read_text()
    duplicate = staff.post(url, data={"csrf_token": csrf(page.text), "action": "add",
                                      "examples": "How much does it cost?"})
    assert duplicate.status_code == 422
    assert "under faq/cost_insurance" in duplicate.text
    removed = staff.post(url, allow_redirects=False, data={
        "csrf_token": csrf(page.text), "remove": f"data/nlu/faq.yml::{text}",
        "action": "remove"})
    assert removed.status_code == 303
    assert text not in (server.project / "data" / "nlu" / "faq.yml").read_text()
    log = git(server.project, "log", "-2", "--format=%an|%s").splitlines()
    assert [line.split("|")[0] for line in log] == [NAME, NAME]


def test_a_new_topic_is_created_end_to_end(server: ConsoleServer,
                                           staff: requests.Session) -> None:
    page = staff.get(server.url + "/topics/new")
    form = {"csrf_token": csrf(page.text), "key": "tms_ect",
            "title": "How does it compare with TMS or ECT?", "answered": "no",
            "related": ["with_other_treatment"],
            "answer": "Our article doesn't compare ketamine with TMS or ECT. Our clinicians "
                      "can go through the options with you.",
            "examples": "\n".join(EXAMPLES[:4])}
    too_few = staff.post(server.url + "/topics/new", data={**form, "action": "save"})
    assert too_few.status_code == 422 and "has only 5 examples" in too_few.text
    assert "tms_ect" not in (server.project / "domain.yml").read_text()
    created = staff.post(server.url + "/topics/new", allow_redirects=False,
                         data={**form, "examples": "\n".join(EXAMPLES), "action": "save"})
    assert created.status_code == 303
    assert created.headers["location"] == "/topics/tms_ect?done=created"
    assert check_project(server.project).ok
    assert "utter_faq/tms_ect" in (server.project / "domain.yml").read_text()
    assert staff.get(server.url + "/topics/tms_ect").status_code == 200
    assert git(server.project, "log", "-1", "--format=%an").strip() == NAME


def test_a_change_is_undone_from_the_history(server: ConsoleServer,
                                             staff: requests.Session) -> None:
    page = staff.get(server.url + "/topics/clinic_info")
    before = (server.project / "data" / "nlu" / "faq.yml").read_text()
    added = staff.post(server.url + "/topics/clinic_info/examples", allow_redirects=False,
                       data={"csrf_token": csrf(page.text), "action": "add",
                             "examples": "is there a bike rack outside the clinic building"})
    assert added.status_code == 303
    sha = git(server.project, "rev-parse", "HEAD").strip()
    history = staff.get(server.url + "/history")
    assert f"/history/{sha}/undo" in history.text
    undone = staff.post(server.url + f"/history/{sha}/undo", allow_redirects=False,
                        data={"csrf_token": csrf(history.text)})
    assert undone.status_code == 303 and undone.headers["location"] == "/history?done=undone"
    assert (server.project / "data" / "nlu" / "faq.yml").read_text() == before
    assert git(server.project, "log", "-1", "--format=%an|%s").startswith(f"{NAME}|Undo")


# ---- the inbox -------------------------------------------------------------------------------

def _group_form(html: str, text: str) -> Dict[str, object]:
    """The form of the inbox group titled “text”: its group key and question keys."""
    start = html.index(f"“{escape(text)}”</h2>")
    form = html[start:html.index("</form>", start)]
    return {"group": re.search(r'name="group" value="([^"]+)"', form).group(1),  # type: ignore
            "texts": re.findall(r'name="texts" value="([^"]+)"', form)}


def test_an_inbox_question_is_assigned_to_a_topic_marked_off_topic_or_dismissed(
    server: ConsoleServer, staff: requests.Session,
) -> None:
    page = staff.get(server.url + "/inbox", params=PERIOD)
    assert page.status_code == 200
    assert f"“{COST}”" in page.text and "I don't want to live anymore" not in page.text
    cost = _group_form(page.text, COST)
    response = staff.post(server.url + "/inbox/handle", allow_redirects=False, data={
        "csrf_token": csrf(page.text), **PERIOD, **cost, "topic": "faq/cost_insurance",
        "action": "assign"})
    assert response.status_code == 303, response.text
    faq = (server.project / "data" / "nlu" / "faq.yml").read_text()
    assert f"    - {COST}\n" in faq
    assert git(server.project, "log", "-1", "--format=%an").strip() == NAME
    weather = _group_form(page.text, WEATHER)
    staff.post(server.url + "/inbox/handle", data={
        "csrf_token": csrf(page.text), **PERIOD, **weather, "action": "off-topic"})
    assert f"    - {WEATHER}\n" in (server.project / "data" / "nlu" / "out_of_scope.yml"
                                    ).read_text()
    after = staff.get(server.url + "/inbox", params=PERIOD)
    assert f"“{escape(COST)}”" not in after.text and f"“{escape(WEATHER)}”" not in after.text
    remaining = re.findall(r'<h2 id="g\d+-title">“([^”&]+)”</h2>', after.text)
    assert remaining
    first = _group_form(after.text, remaining[0])
    staff.post(server.url + "/inbox/handle", data={
        "csrf_token": csrf(after.text), **PERIOD, **first, "action": "dismiss"})
    last = staff.get(server.url + "/inbox", params=PERIOD)
    assert f"“{remaining[0]}”</h2>" not in last.text


def test_the_conversation_around_a_question_is_shown_as_stored(
    server: ConsoleServer, staff: requests.Session,
) -> None:
    page = staff.get(server.url + "/inbox", params=PERIOD)
    link = re.search(r'href="(/inbox/conversation\?[^"]+)"', page.text)
    assert link
    shown = staff.get(server.url + link.group(1).replace("&amp;", "&"))
    assert shown.status_code == 200 and "(the question from the inbox)" in shown.text


def test_the_dashboard_publish_and_history_pages_answer(server: ConsoleServer,
                                                        staff: requests.Session) -> None:
    dashboard = staff.get(server.url + "/dashboard", params=PERIOD)
    assert dashboard.status_code == 200 and "<svg" in dashboard.text
    assert staff.get(server.url + "/publish").status_code == 200
    assert staff.get(server.url + "/api/publish/status").json() == {"job": None}


# ---- rate limiting and expiry (servers of their own) -----------------------------------------

def test_five_wrong_passwords_in_a_row_slow_down_further_tries(tmp_path: Path) -> None:
    project = git_project(tmp_path / "project")
    server = ConsoleServer(tmp_path, project)
    try:
        session = requests.Session()
        for _ in range(5):
            assert sign_in(session, server.url, NAME, "wrong password").status_code == 401
        refused = sign_in(session, server.url, NAME, PASSWORD)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 25
        assert "Too many wrong tries. Wait 30 seconds" in refused.text
        assert "console_session" not in refused.headers.get("set-cookie", "")
    finally:
        server.stop()


def test_a_session_ends_after_the_idle_time(tmp_path: Path) -> None:
    project = git_project(tmp_path / "project")
    server = ConsoleServer(tmp_path, project, env={"CONSOLE_SESSION_IDLE_MINUTES": "0.04"})
    try:
        session = server.session()
        assert session.get(server.url + "/", allow_redirects=False).status_code == 200
        time.sleep(3)
        expired = session.get(server.url + "/topics", allow_redirects=False)
        assert expired.status_code == 303
        assert expired.headers["location"] == "/sign-in?next=%2Ftopics"
    finally:
        server.stop()


def test_sessions_end_when_idle_or_too_old_and_keep_only_a_hash(tmp_path: Path) -> None:
    now = [1000.0]
    database = Database(tmp_path / "c.sqlite")
    Accounts(database).add(NAME, PASSWORD)
    sessions = Sessions(database, idle_seconds=60, max_seconds=300, clock=lambda: now[0])
    value = sessions.create(NAME)
    with database.connect() as connection:
        stored = connection.execute("SELECT id_hash FROM sessions").fetchone()[0]
    assert stored != value and len(stored) == 64
    for _ in range(5):  # used every 50 s: the idle limit never runs out ...
        now[0] += 50
        assert sessions.get(value) is not None
    now[0] += 51  # ... but 300 s after signing in it ends anyway
    assert sessions.get(value) is None
    other = sessions.create(NAME)
    now[0] += 61
    assert sessions.get(other) is None
    assert sessions.get("made-up") is None


def test_the_throttle_counts_per_account_and_per_address(tmp_path: Path) -> None:
    now = [0.0]
    throttle = SignInThrottle(Database(tmp_path / "c.sqlite"), clock=lambda: now[0])
    for _ in range(5):
        throttle.failed(keys("anna", "10.0.0.1"))
    assert throttle.wait_seconds(keys("anna", "10.0.0.2")) == 30  # the account, elsewhere
    assert throttle.wait_seconds(keys("bob", "10.0.0.1")) == 30  # the address, another name
    assert throttle.wait_seconds(keys("bob", "10.0.0.2")) == 0
    now[0] += 31
    throttle.failed(keys("anna", "10.0.0.1"))
    assert throttle.wait_seconds(keys("anna", "10.0.0.1")) == 60  # twice as long each time
    throttle.succeeded("anna")
    assert throttle.wait_seconds(keys("anna", "10.0.0.2")) == 0


def test_accounts_are_created_by_one_command_with_argon2_hashes(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite"
    command = [sys.executable, "-m", "staff_console.accounts", "--db", str(db)]
    created = subprocess.run([*command, "add", "bob", "--email", "bob@clinic.test",
                              "--password-stdin"], input="a long enough password\n",
                             capture_output=True, text=True, env=launcher.environment())
    assert created.returncode == 0, created.stderr
    assert "Account bob created" in created.stdout
    short = subprocess.run([*command, "add", "carol", "--password-stdin"], input="short\n",
                           capture_output=True, text=True, env=launcher.environment())
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    with Database(db).connect() as connection:
        stored = connection.execute("SELECT password_hash FROM accounts").fetchall()
    assert len(stored) == 1 and stored[0][0].startswith("$argon2id$")
    accounts = Accounts(Database(db))
    assert accounts.verify("bob", "a long enough password") is not None
    assert accounts.verify("BOB", "a long enough password") is not None
    assert accounts.verify("bob", "a wrong password") is None


def test_adding_an_account_without_a_terminal_says_how_instead_of_a_traceback(
    tmp_path: Path,
) -> None:
    added = subprocess.run(
        [sys.executable, "-m", "staff_console.accounts", "--db", str(tmp_path / "c.sqlite"),
         "add", "dana"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
        env=launcher.environment(), start_new_session=True)  # no terminal for getpass
    assert added.returncode == 1 and "--password-stdin" in added.stderr
    assert "Traceback" not in added.stderr
    assert added.stderr.rstrip().splitlines()[-1].endswith(
        "error: no password was typed; run it in a terminal, or give the password on standard "
        "input with --password-stdin")


def test_an_edit_the_history_cannot_record_is_not_saved(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")  # not a git repository
    console = Console.create(ConsoleConfig(project=project, db_path=tmp_path / "c.sqlite"))
    account = console.accounts.add(NAME, PASSWORD, EMAIL)
    before = (project / "data" / "nlu" / "faq.yml").read_text()
    outcome = edit_examples(console, "faq/speed", ["how soon will i notice a difference"], [],
                            account, save=True)
    assert outcome.done is None
    assert "Nothing was saved" in outcome.problems.get("examples")[0]
    assert "not kept in git" in outcome.problems.get("examples")[0]
    assert (project / "data" / "nlu" / "faq.yml").read_text() == before
