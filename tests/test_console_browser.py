"""The staff console in headless Chromium (Playwright): signing in, editing an answer, assigning
an inbox question, keyboard-only use, and an axe-core scan of every page (no serious or
critical issue). A real console server on a git copy of the project; no model, no Rasa server
(publishing with a real model is tested with the chat widget, end to end)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, List

import pytest
import yaml
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from tests.conftest import PROJECT_DIR
from tests.fixtures.clinic_store import COST, ClinicStore
from tests.test_console_app import NAME, PASSWORD, PERIOD, ConsoleServer, git, git_project
from tests.test_widget_browser import AXE, CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.e2e
SCREENSHOTS = PROJECT_DIR / "reports" / "console"
# Impacts that fail the scan (axe also reports "moderate" and "minor").
FAILING = ("serious", "critical")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    tmp = tmp_path_factory.mktemp("console-browser")
    store = ClinicStore(tmp)
    started = ConsoleServer(tmp, git_project(tmp / "project"), store.url)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def browser(server: ConsoleServer) -> Iterator[Browser]:
    # After the server: its tracker store is written with asyncio, which Playwright's running
    # event loop would refuse.
    assert Path(CHROMIUM).exists(), "Chromium is missing: apt-get install -y chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def new_page(browser: Browser, server: ConsoleServer, **options: object) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(server.url + "/sign-in")
    return page


def sign_in(page: Page) -> None:
    page.get_by_label("Name").fill(NAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def serious_issues(page: Page) -> List[str]:
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    for violation in violations:
        nodes = "; ".join(node["html"][:120] for node in violation["nodes"][:3])
        print(f"axe {violation['impact']}: {violation['id']}: {violation['help']} {nodes}")
    return [f"{v['id']} ({v['impact']}) on {page.url}" for v in violations
            if v["impact"] in FAILING]


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_staff_sign_in_and_edit_an_answer(browser: Browser, server: ConsoleServer) -> None:
    page = new_page(browser, server)
    errors: List[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    sign_in(page)
    page.get_by_role("link", name="Topics and answers").first.click()
    page.get_by_role("link", name="How fast does it work?").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("How fast does it work?")
    answer = page.get_by_label("Answer", exact=True)
    text = ("It can work quickly: ketamine can ease depressive symptoms within hours, while "
            "usual antidepressants often take weeks. How long relief lasts differs from person "
            "to person; our clinicians can tell you more at a consultation.")
    answer.fill(text)
    page.get_by_role("button", name="Check").first.click()
    expect(page.get_by_role("status").filter(has_text="Checked: no problem found")).to_be_visible()
    expect(page.get_by_label("Answer", exact=True)).to_have_value(text)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    screenshot(page, "topic-saved")
    domain = yaml.safe_load((server.project / "domain.yml").read_text())
    assert domain["responses"]["utter_faq/speed"][0]["text"] == text
    assert git(server.project, "log", "-1", "--format=%an").strip() == NAME
    # A phone number is shown next to the answer before anything is saved.
    page.get_by_label("Answer", exact=True).fill(text + " Call 415-555-0199.")
    page.get_by_role("button", name="Save", exact=True).click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("415-555-0199")
    expect(summary).to_be_focused()
    expect(page.locator("#answer-problems")).to_contain_text("phone number 415-555-0199")
    screenshot(page, "topic-problem")
    assert not [error for error in errors if "Content Security Policy" in error], errors
    page.context.close()


def test_staff_assign_an_inbox_question_to_a_topic(browser: Browser,
                                                   server: ConsoleServer) -> None:
    page = new_page(browser, server)
    sign_in(page)
    page.goto(f"{server.url}/inbox?from={PERIOD['from']}&to={PERIOD['to']}")
    group = page.get_by_role("article").filter(has=page.get_by_role("heading", name=COST))
    expect(group).to_be_visible()
    screenshot(page, "inbox")
    group.get_by_label("Topic").select_option("faq/cost_insurance")
    group.get_by_role("button", name="Add to this topic").click()
    expect(page.get_by_role("status").filter(has_text="added as a training example")
           ).to_be_visible()
    expect(page.get_by_role("heading", name=COST)).to_have_count(0)
    assert f"    - {COST}\n" in (server.project / "data" / "nlu" / "faq.yml").read_text()
    page.context.close()


def test_a_publish_shows_its_progress_and_says_why_it_failed(
    browser: Browser, server: ConsoleServer,
) -> None:
    # No Rasa server runs for this console: the publish stops at its first step.
    page = new_page(browser, server)
    sign_in(page)
    page.get_by_role("navigation").get_by_role("link", name="Test and publish").click()
    page.get_by_role("button", name="Publish", exact=True).click()
    result = page.locator("#job-result")
    expect(result).to_contain_text("not running", timeout=30_000)
    expect(page.locator("#job-steps li").first).to_contain_text("failed")
    expect(page.get_by_role("button", name="Publish", exact=True)).to_be_enabled()
    screenshot(page, "publish-failed")
    assert git(server.project, "status", "--porcelain").strip() == ""
    page.context.close()


def test_the_publish_page_follows_a_running_publish(browser: Browser,
                                                    server: ConsoleServer) -> None:
    # The page as it is while a publish runs, and the status it polls, played back.
    page = new_page(browser, server)
    sign_in(page)
    polls: List[int] = []

    def running_page(route: Route) -> None:
        response = route.fetch()
        route.fulfill(response=response, body=response.text().replace(
            'data-running="false"', 'data-running="true"'))

    def status(route: Route) -> None:
        polls.append(1)
        done = len(polls) > 1
        route.fulfill(json={"job": {
            "kind": "publish", "started_by": NAME, "started_at": 0, "finished": done,
            "ok": False if done else None, "message": "The safety tests failed.",
            "details": ["A crisis message got an ordinary answer."],
            "steps": [{"key": "check", "name": "Check the data", "state": "done",
                       "message": "The data is ready"},
                      {"key": "gate", "name": "Safety tests",
                       "state": "failed" if done else "running", "message": "Testing"}]}})

    page.route("**/publish", running_page)
    page.route("**/api/publish/status", status)
    page.goto(server.url + "/publish")
    result = page.get_by_role("status").filter(has_text="Safety tests: Testing")
    expect(result).to_be_visible()
    expect(page.locator("#job-result")).to_contain_text("The safety tests failed.")
    expect(page.locator("#job-result")).to_contain_text("A crisis message got an ordinary")
    expect(page.locator("#job-steps li").nth(1)).to_have_text("Safety tests: failed — Testing")
    assert len(polls) == 2
    page.context.close()


def _tab_to(page: Page, selector: str, limit: int = 120) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_only_use(browser: Browser, server: ConsoleServer) -> None:
    page = new_page(browser, server)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    _tab_to(page, "#name")
    page.keyboard.type(NAME)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Hello, {NAME}")
    _tab_to(page, "nav a[href='/topics']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Topics and answers")
    _tab_to(page, "a[href='/topics/safety']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Is ketamine therapy safe?")
    _tab_to(page, "#examples")
    page.keyboard.type("are infusions risky for someone with high blood pressure")
    _tab_to(page, "button[value='add']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Examples added")).to_be_visible()
    # Every link and button of the page can be reached, and shows where the focus is.
    for _ in range(8):
        page.keyboard.press("Tab")
        style = page.evaluate("(() => { const s = getComputedStyle(document.activeElement);"
                              " return s.outlineStyle + ' ' + s.outlineWidth; })()")
        assert not style.startswith("none"), style
    page.context.close()


def test_no_page_has_a_serious_or_critical_accessibility_issue(
    browser: Browser, server: ConsoleServer,
) -> None:
    assert AXE.exists(), "axe-core is missing: cd webchat && npm ci"
    page = new_page(browser, server, bypass_csp=True)  # add_script_tag injects axe inline
    issues = serious_issues(page)
    screenshot(page, "sign-in")
    sign_in(page)
    period = f"from={PERIOD['from']}&to={PERIOD['to']}"
    for path in ("/", "/topics", "/topics/cost_insurance", "/intents/greet", "/topics/new",
                 f"/inbox?{period}", f"/dashboard?{period}", "/publish", "/history",
                 "/no-such-page"):
        page.goto(server.url + path)
        issues += serious_issues(page)
        screenshot(page, path.strip("/").split("?")[0].replace("/", "-") or "start")
    link = page.goto(f"{server.url}/inbox?{period}")
    assert link is not None
    href = page.locator("a", has_text="See the conversation").first.get_attribute("href")
    page.goto(server.url + str(href))
    issues += serious_issues(page)
    screenshot(page, "conversation")
    # A form refused with its problems shown.
    page.goto(server.url + "/topics/new")
    page.get_by_role("button", name="Create topic").click()
    expect(page.get_by_role("alert")).to_be_visible()
    issues += serious_issues(page)
    screenshot(page, "new-topic-problems")
    assert issues == []
    page.context.close()
