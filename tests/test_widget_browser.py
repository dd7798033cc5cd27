"""The chat widget in a real browser: the demo page from webchat/serve.py, the real Rasa server
and action server, Chromium driven by Playwright, and an axe-core accessibility scan."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path
from typing import Iterator, List

import pytest
import requests
from playwright.sync_api import Browser, Page, Request, Route, expect, sync_playwright

from clinic import launcher
from clinic.buttons import feedback_payload
from tests.conftest import MODEL_PATH, PROJECT_DIR
from tests.test_end_to_end import BOOKING_URL, TOKEN, Servers, free_port

pytestmark = pytest.mark.e2e
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
AXE = PROJECT_DIR / "webchat" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = PROJECT_DIR / "reports" / "widget"
REPLY_MS = 30_000  # how long a bot reply may take
RETRIES_MS = 20_000  # how long the widget's own retries take to give up (1, 2, 4 s and jitter)
PHONE, PHONE_LINK = "415-249-2580", "tel:+14152492580"
WEBHOOK = "**/webhooks/rest/webhook"
LINK_CLICK = "/webhooks/rest/link-click"


class Site:
    """The servers plus webchat/serve.py, which serves the demo page pointing at Rasa."""

    def __init__(self, tmp: Path) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        self.servers = Servers(tmp, cors_origins=[self.url])
        self.log = open(tmp / "webchat.log", "w")
        self.web = launcher.start(
            launcher.widget_server_command(int(self.url.rsplit(":", 1)[1]), self.servers.url),
            self.servers.env, self.log,
        )
        Servers._wait(self.url + "/", self.web, seconds=30)

    def stop(self) -> None:
        self.web.terminate()
        self.web.wait(timeout=10)
        self.log.close()
        self.servers.stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    assert MODEL_PATH.exists(), "no trained model: the test command trains one first"
    started = Site(tmp_path_factory.mktemp("widget"))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Chromium is missing: apt-get install -y chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def new_page(browser: Browser, site: Site, **options: object) -> Page:
    options = {"viewport": {"width": 1280, "height": 800}, **options}
    page = browser.new_context(**options).new_page()
    page.goto(site.url + "/")
    return page


@pytest.fixture
def page(browser: Browser, site: Site) -> Iterator[Page]:
    opened = new_page(browser, site)  # a fresh context: empty localStorage, a new visitor
    yield opened
    opened.context.close()


def open_chat(page: Page) -> None:
    # The widget mounts, and reopens a panel left open, in one go: then the launcher shows only
    # if the panel is closed (it hides while the panel is open).
    page.locator(".cc-root").wait_for(state="attached")
    dialog = page.get_by_role("dialog", name="Ketamine Infusion Clinic")
    if not dialog.is_visible():
        page.get_by_role("button", name="Chat with us").click()
    expect(dialog).to_be_visible()


def ask(page: Page, text: str) -> None:
    box = page.get_by_label("Type your message")
    box.fill(text)
    box.press("Enter")


def bot_says(page: Page, text: str) -> None:
    expect(page.locator(".cc-msg-bot", has_text=text).first).to_be_visible(timeout=REPLY_MS)


def sender_id(page: Page) -> str:
    return str(page.evaluate("JSON.parse(localStorage.getItem('bakc-chat')).senderId"))


def test_a_keyboard_visitor_opens_the_chat_gets_the_fda_answer_and_escape_closes_it(
    page: Page,
) -> None:
    launcher = page.get_by_role("button", name="Chat with us")
    for _ in range(50):  # Tab through the page's links until the launcher has the focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('cc-launcher')"):
            break
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(page.locator(".cc-launcher")).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".cc-launcher")).to_be_hidden()  # under the panel, nothing to click
    expect(page.get_by_label("Type your message")).to_be_focused()
    expect(page.get_by_role("log")).to_have_attribute("aria-live", "polite")
    page.keyboard.type("is ketamine FDA approved?")
    page.keyboard.press("Enter")
    expect(page.locator(".cc-msg-user")).to_contain_text("is ketamine FDA approved?")
    bot_says(page, "2019")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")


def test_a_suggestion_button_sends_its_question_and_the_bot_answers(page: Page) -> None:
    open_chat(page)
    page.get_by_role("button", name="Say hello").click()
    bot_says(page, "automated assistant")
    suggestion = page.get_by_role("button", name="Which conditions does it treat?")
    expect(suggestion).to_be_visible(timeout=REPLY_MS)
    suggestion.click()
    expect(page.locator(".cc-msg-user").last).to_contain_text("Which conditions does it treat?")
    bot_says(page, "fibromyalgia")
    # The greeting's buttons go; the answer's related topics come.
    expect(page.get_by_role("button", name="Is ketamine therapy FDA approved?")).to_have_count(0)
    expect(page.get_by_role("button", name="Does it help with depression?")).to_be_visible()
    expect(page.get_by_label("Type your message")).to_be_focused()


def test_asking_to_book_shows_a_booking_link_in_a_new_tab_and_a_phone_link(page: Page) -> None:
    open_chat(page)
    ask(page, "I'd like to book")
    booking = page.locator(f'.cc-msg-bot a[href="{BOOKING_URL}"]')
    expect(booking).to_be_visible(timeout=REPLY_MS)
    expect(booking).to_have_attribute("target", "_blank")
    expect(booking).to_have_attribute("rel", "noopener noreferrer")
    expect(page.locator(f'.cc-msg-bot a[href="{PHONE_LINK}"]')).to_be_visible()
    bot_says(page, PHONE)


def test_an_off_topic_reply_offers_booking_and_a_person_as_buttons(page: Page) -> None:
    open_chat(page)
    ask(page, "what's the weather in paris tomorrow")
    bot_says(page, "Sorry, I can't help with that")
    suggestions = page.get_by_role("group", name="Suggestions")
    expect(suggestions.get_by_role("button", name="Book a consultation")).to_be_visible()
    person = suggestions.get_by_role("button", name="Talk to a person")
    expect(person).to_be_visible()
    person.click()  # its payload is /contact_human: the handoff, phone first
    expect(page.locator(".cc-msg-user").last).to_have_text("You said: Talk to a person")
    expect(page.locator(f'.cc-msg-bot a[href="{PHONE_LINK}"]')).to_be_visible(timeout=REPLY_MS)
    expect(page.locator(f'.cc-msg-bot a[href="{BOOKING_URL}"]')).to_be_visible()


def test_a_visitor_writing_in_spanish_is_answered_in_spanish_up_to_the_handoff(
    page: Page,
) -> None:
    open_chat(page)
    ask(page, "hola, buenas tardes")
    bot_says(page, "Soy el asistente automático de la clínica")
    suggestion = page.get_by_role("button", name="¿Qué afecciones trata?")
    expect(suggestion).to_be_visible(timeout=REPLY_MS)
    suggestion.click()  # sends the Spanish question: the answer comes in Spanish
    bot_says(page, "fibromialgia")
    expect(page.get_by_role("button", name="¿Ayuda con la depresión?")).to_be_visible()
    ask(page, "¿qué tiempo hará mañana en París?")
    bot_says(page, "Lo siento, no puedo ayudarte con eso")
    suggestions = page.get_by_role("group", name="Suggestions").last
    expect(suggestions.get_by_role("button", name="Agendar una consulta")).to_be_visible()
    expect(suggestions.get_by_role("button", name="Hablar con una persona")).to_be_visible()
    ask(page, "quiero hablar con una persona de la clínica, ¿me pueden llamar?")
    phone = page.locator(f'.cc-msg-bot a[href="{PHONE_LINK}"]').last
    expect(phone).to_be_visible(timeout=REPLY_MS)
    expect(phone).to_have_text(f"Llamar al {PHONE}")
    expect(page.locator(f'.cc-msg-bot a[href="{BOOKING_URL}"]').last).to_contain_text(
        "Agendar una consulta")


def test_after_a_crisis_the_off_topic_reply_offers_no_booking(page: Page) -> None:
    open_chat(page)
    ask(page, "I don't want to live anymore")
    bot_says(page, "741741")
    ask(page, "what's the weather in paris tomorrow")
    bot_says(page, "call or text 988, or call 911 in an emergency")
    expect(page.locator(".cc-msg-bot", has_text="Sorry, I can't help with that")).to_be_visible()
    expect(page.get_by_role("button", name="Book a consultation")).to_have_count(0)
    expect(page.locator(f'.cc-msg-bot a[href="{BOOKING_URL}"]')).to_have_count(0)


# The line boxes the first occurrence of `text` in a bot reply's text takes: 1 if it is on one
# line. A Range over the characters themselves, whatever elements hold them.
LINES_OF = """(text) => {
    for (const bubble of document.querySelectorAll('.cc-msg-bot .cc-text')) {
        const walker = document.createTreeWalker(bubble, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const at = node.data.indexOf(text);
            if (at < 0) continue;
            const range = document.createRange();
            range.setStart(node, at);
            range.setEnd(node, at + text.length);
            return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
        }
    }
    return 0;
}"""


def test_the_clinics_phone_number_never_wraps_in_a_reply(browser: Browser, site: Site) -> None:
    page = new_page(browser, site, viewport={"width": 390, "height": 844})
    try:
        open_chat(page)
        ask(page, "I'd like to book")
        bot_says(page, PHONE)
        number = page.locator(".cc-msg-bot .cc-text .cc-nowrap", has_text=PHONE).first
        expect(number).to_be_visible()
        # On a phone the panel fills the screen: at some of these widths the number falls at the
        # end of a line ("415-249-" / "2580" before it was kept together).
        for width in range(280, 481, 4):
            page.set_viewport_size({"width": width, "height": 844})
            assert page.evaluate(LINES_OF, PHONE) == 1, f"{PHONE} wraps at {width} px"
            box = number.bounding_box()
            line = page.evaluate(
                "(n) => parseFloat(getComputedStyle(n).lineHeight)", number.element_handle())
            assert box is not None and box["height"] <= line + 1, (width, box, line)
    finally:
        page.context.close()


def test_the_launcher_hides_while_the_panel_is_open_and_gets_the_focus_back(
    page: Page,
) -> None:
    launcher = page.locator(".cc-launcher")
    launcher.click()
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(launcher).to_be_hidden()
    expect(page.get_by_label("Type your message")).to_be_focused()
    page.get_by_role("button", name="Close chat").click()
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(launcher).to_be_visible()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    # Reopened after a reload, the panel hides the launcher again.
    launcher.click()
    page.reload()
    open_chat(page)
    expect(page.locator(".cc-launcher")).to_be_hidden()


def test_the_demo_page_loads_and_chats_without_a_console_error(
    browser: Browser, site: Site
) -> None:
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    errors: List[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    failed: List[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        page.goto(site.url + "/", wait_until="networkidle")
        open_chat(page)
        page.get_by_role("button", name="Say hello").click()
        bot_says(page, "automated assistant")
        page.wait_for_load_state("networkidle")
        icon = page.evaluate("document.querySelector('link[rel=icon]').href")
        assert icon == site.url + "/demo/favicon.svg"
        assert requests.get(icon, timeout=10).headers["Content-Type"] == "image/svg+xml"
        assert errors == [] and failed == [], (errors, failed)
    finally:
        page.context.close()


def stored_clicks(site: Site) -> List[str]:
    database = site.servers.env["TRACKER_STORE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        rows = connection.execute("select link from link_clicks order by rowid").fetchall()
    return [link for (link,) in rows]


def wait_for_clicks(site: Site, expected: List[str]) -> None:
    deadline = time.monotonic() + 10  # the count is sent in the background
    while stored_clicks(site) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stored_clicks(site) == expected


def test_clicks_on_the_booking_and_phone_links_are_counted_and_the_links_open_regardless(
    page: Page, site: Site
) -> None:
    page.context.route(BOOKING_URL, lambda route: route.fulfill(
        status=200, content_type="text/html", body="<title>Booking</title>"))
    sent: List[str] = []
    page.on("request", lambda r: sent.append(r.post_data or "") if LINK_CLICK in r.url else None)
    open_chat(page)
    ask(page, "I'd like to book")
    booking = page.locator(f'.cc-msg-bot a[href="{BOOKING_URL}"]')
    expect(booking).to_be_visible(timeout=REPLY_MS)
    before = stored_clicks(site)
    # The count cannot reach the server: the booking page opens all the same.
    page.route("**" + LINK_CLICK, lambda route: route.abort("connectionrefused"))
    with page.context.expect_page() as opened:
        booking.click()
    opened.value.wait_for_load_state()
    assert opened.value.url == BOOKING_URL
    opened.value.close()
    page.unroute("**" + LINK_CLICK)
    assert stored_clicks(site) == before
    # It can: one booking click is stored, and the request says which link and nothing else.
    with page.context.expect_page() as opened:
        booking.click()
    assert opened.value.url == BOOKING_URL
    opened.value.close()
    wait_for_clicks(site, [*before, "booking"])
    # The clinic's phone number (the dialer is not opened in a headless browser).
    page.evaluate("""() => document.addEventListener('click', (event) => {
        if (event.target.closest('a[href^="tel:"]')) event.preventDefault(); }, true)""")
    page.locator(f'.cc-msg-bot a[href="{PHONE_LINK}"]').click()
    wait_for_clicks(site, [*before, "booking", "phone"])
    # Playwright hands the page's request events to `sent` only while it is called: wait in it.
    deadline = time.monotonic() + 10
    while len(sent) < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert sent == ['{"link":"booking"}'] * 2 + ['{"link":"phone"}'], sent


def test_the_conversation_survives_a_reload_and_restart_starts_afresh(page: Page) -> None:
    open_chat(page)
    ask(page, "is ketamine FDA approved?")
    bot_says(page, "2019")
    visitor = sender_id(page)
    page.reload()
    open_chat(page)
    expect(page.locator(".cc-msg-user")).to_contain_text("is ketamine FDA approved?")
    bot_says(page, "2019")
    assert sender_id(page) == visitor
    page.get_by_role("button", name="Start a new conversation").click()
    expect(page.locator(".cc-msg")).to_have_count(0)
    expect(page.get_by_role("button", name="Say hello")).to_be_visible()
    assert sender_id(page) != visitor
    page.reload()
    open_chat(page)
    expect(page.locator(".cc-msg")).to_have_count(0)


def test_an_unreachable_server_shows_the_phone_and_retry_resends_the_kept_message(
    page: Page,
) -> None:
    open_chat(page)
    page.route(WEBHOOK, lambda route: route.abort("connectionrefused"))
    ask(page, "is ketamine FDA approved?")
    error = page.get_by_role("alert")
    # Only once the widget's own retries failed too (1 + 2 + 4 s apart, and a little more).
    expect(error).to_contain_text("couldn't reach", timeout=RETRIES_MS)
    expect(error.get_by_role("link", name=PHONE)).to_have_attribute("href", PHONE_LINK)
    expect(page.locator(".cc-msg-user.cc-failed")).to_contain_text("is ketamine FDA approved?")

    def unavailable(route: Route) -> None:  # a non-2xx answer is an error too
        route.fulfill(status=503, body="[]", headers={"Access-Control-Allow-Origin": "*"})

    page.unroute(WEBHOOK)
    page.route(WEBHOOK, unavailable)
    error.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("alert").get_by_role("link", name=PHONE)).to_be_visible(
        timeout=RETRIES_MS)
    page.unroute(WEBHOOK)
    page.get_by_role("button", name="Retry").click()
    bot_says(page, "2019")
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator(".cc-msg-user", has_text="FDA approved")).to_have_count(1)
    expect(page.locator(".cc-failed")).to_have_count(0)


def message_ids(requests_sent: List[Request]) -> List[str]:
    return [request.post_data_json.get("message_id") for request in requests_sent]


def test_a_502_is_retried_by_the_widget_with_the_same_id_and_the_visitor_sees_no_error(
    page: Page,
) -> None:
    open_chat(page)
    sent: List[Request] = []

    def first_a_502(route: Route) -> None:
        sent.append(route.request)
        if len(sent) == 1:  # as nginx when the Rasa server behind it died
            route.fulfill(status=502, body="<html>502 Bad Gateway</html>",
                          headers={"Access-Control-Allow-Origin": "*"})
        else:
            route.continue_()

    page.route(WEBHOOK, first_a_502)
    ask(page, "is ketamine FDA approved?")
    bot_says(page, "2019")
    page.unroute(WEBHOOK)
    assert len(sent) == 2
    first, retry = message_ids(sent)
    assert first == retry and re.fullmatch(r"[0-9a-f-]{36}", first)
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator(".cc-failed")).to_have_count(0)
    # The next message has an id of its own.
    with page.expect_request(lambda r: r.url.endswith("/webhooks/rest/webhook")) as next_one:
        ask(page, "does it help with PTSD?")
    assert next_one.value.post_data_json["message_id"] not in (None, first)


def test_an_answer_lost_on_the_way_is_given_by_the_retry_and_the_turn_runs_once(
    page: Page, site: Site,
) -> None:
    open_chat(page)
    sent: List[Request] = []

    def answer_then_drop_the_connection(route: Route) -> None:
        sent.append(route.request)
        if len(sent) == 1:
            route.fetch(timeout=REPLY_MS)  # the server runs the turn and answers...
            route.abort("connectionreset")  # ...but the answer never reaches the page
        else:
            route.continue_()

    page.route(WEBHOOK, answer_then_drop_the_connection)
    ask(page, "I'd like to book a consultation")
    expect(page.locator(f'.cc-msg-bot a[href="{PHONE_LINK}"]')).to_be_visible(timeout=REPLY_MS)
    page.unroute(WEBHOOK)
    assert len(sent) == 2 and len(set(message_ids(sent))) == 1
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator(".cc-failed")).to_have_count(0)
    events = requests.get(
        f"{site.servers.url}/conversations/{sender_id(page)}/tracker",
        params={"token": TOKEN}, timeout=30,
    ).json()["events"]
    assert [e["text"] for e in events if e["event"] == "user"] == [
        "I'd like to book a consultation"]
    assert sum(e["event"] == "action" and e["name"] == "action_handoff" for e in events) == 1


def test_an_empty_reply_from_a_failing_action_server_shows_the_phone(page: Page) -> None:
    open_chat(page)
    page.route(WEBHOOK, lambda route: route.fulfill(
        status=200, body="[]", headers={"Access-Control-Allow-Origin": "*"},
    ))
    ask(page, "I'd like to book")
    expect(page.get_by_role("alert").get_by_role("link", name=PHONE)).to_be_visible()
    page.unroute(WEBHOOK)


def feedback_events(site: Site, sender: str) -> list:
    tracker = requests.get(
        f"{site.servers.url}/conversations/{sender}/tracker", params={"token": TOKEN}, timeout=30,
    ).json()
    return [
        [(e["entity"], e["value"]) for e in event["parse_data"]["entities"]]
        for event in tracker["events"]
        if event["event"] == "user" and event["parse_data"]["intent"]["name"] == "feedback"
    ]


def test_a_visitor_rates_answers_with_keyboard_and_mouse_and_the_chat_goes_on(
    page: Page, site: Site
) -> None:
    open_chat(page)
    ask(page, "is ketamine FDA approved?")
    bot_says(page, "2019")
    rating = page.get_by_role("group", name="Did this answer help?")
    expect(rating).to_have_count(1)  # one answer, one pair of thumbs
    helped = rating.get_by_role("button", name="This answer helped")
    helped.focus()
    with page.expect_request(lambda r: r.url.endswith("/webhooks/rest/webhook")) as sent:
        page.keyboard.press("Enter")
    # The payload the chat channel accepts (clinic/buttons.py), as the widget writes it.
    assert sent.value.post_data_json["message"] == feedback_payload("up")
    bot_says(page, "Thanks for telling us.")
    expect(helped).to_have_attribute("aria-pressed", "true")
    expect(helped).to_be_focused()
    expect(rating.get_by_role("button", name="This answer did not help")).to_have_attribute(
        "aria-pressed", "false")
    expect(page.locator(".cc-msg-user")).to_have_count(1)  # a rating is not a visitor message
    # The answer's suggestions stay, and the next question is answered and can be rated.
    expect(page.get_by_role("button", name="Book a consultation")).to_be_visible()
    ask(page, "does it help with PTSD?")
    bot_says(page, "post-traumatic")
    new_rating = page.locator(".cc-feedback:not(.cc-rated)")
    expect(new_rating).to_have_count(1)
    new_rating.get_by_role("button", name="This answer did not help").click()
    expect(page.locator(".cc-msg-bot", has_text="Thanks for telling us.")).to_have_count(2)
    expect(page.locator(".cc-feedback:not(.cc-rated)")).to_have_count(0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "feedback.png"))
    # Kept across a reload, and stored with the conversation.
    page.reload()
    open_chat(page)
    expect(page.locator(".cc-chosen")).to_have_count(2)
    assert feedback_events(site, sender_id(page)) == [[("rating", "up")], [("rating", "down")]]


def test_no_rating_is_asked_for_small_talk_or_ever_after_a_crisis_message(page: Page) -> None:
    open_chat(page)
    page.get_by_role("button", name="Say hello").click()
    bot_says(page, "automated assistant")
    expect(page.locator(".cc-feedback")).to_have_count(0)
    ask(page, "I don't want to live anymore")
    bot_says(page, "741741")  # the crisis resources (the greeting names 988 too)
    expect(page.locator(".cc-feedback")).to_have_count(0)
    ask(page, "is ketamine FDA approved?")
    bot_says(page, "2019")
    expect(page.locator(".cc-feedback")).to_have_count(0)


def test_a_visitor_in_crisis_on_a_phone_gets_one_tap_links_to_the_crisis_lines(
    browser: Browser, site: Site
) -> None:
    page = new_page(browser, site, viewport={"width": 390, "height": 844}, is_mobile=True,
                    has_touch=True)
    open_chat(page)
    ask(page, "I don't want to be alive anymore, I have a plan for tonight")
    bot_says(page, "741741")
    links = page.locator(".cc-msg-bot a.cc-link-button")
    expect(links.first).to_be_visible(timeout=REPLY_MS)
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    # The crisis lines first, one tap each; the clinic's own phone last.
    assert hrefs[:4] == ["tel:988", "sms:988", "sms:741741?&body=HOME", "tel:911"], hrefs
    assert hrefs[-1] == PHONE_LINK, hrefs
    # A tap lands on the link itself (the phone then opens its dialer or messages app, which
    # a headless browser has not: the navigation is caught here, so taps cannot hang).
    counted: List[str] = []
    page.on("request", lambda r: counted.append(r.url) if LINK_CLICK in r.url else None)
    page.evaluate("""() => { window.tapped = [];
        document.addEventListener('click', (event) => {
            const link = event.target.closest('a');
            if (link) { window.tapped.push(link.getAttribute('href')); event.preventDefault(); }
        }, true); }""")
    for i in range(4):
        expect(links.nth(i)).not_to_have_attribute("target", "_blank")
        links.nth(i).tap(timeout=5_000)
    assert page.evaluate("() => window.tapped") == hrefs[:4]
    page.wait_for_timeout(500)
    assert counted == []  # crisis lines are never counted
    expect(page.get_by_label("Type your message")).to_be_visible()
    page.context.close()


def test_a_medical_emergency_puts_911_first(page: Page) -> None:
    open_chat(page)
    ask(page, "my wife had her infusion today and now she won't wake up and her lips are blue")
    bot_says(page, "call 911 right now")
    first_link = page.locator(".cc-msg-bot a.cc-link-button").first
    expect(first_link).to_have_attribute("href", "tel:911")


def serious_violations(page: Page) -> list:
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    for violation in serious:
        nodes = [node["target"] for node in violation["nodes"]]
        print(f"axe {violation['impact']}: {violation['id']}: {violation['help']} {nodes}")
    return serious


def test_the_open_widget_passes_axe_and_fits_desktop_and_phone_screens(
    browser: Browser, site: Site
) -> None:
    assert AXE.exists(), "axe-core is missing: cd webchat && npm ci"
    page = new_page(browser, site, bypass_csp=True)  # add_script_tag injects axe inline
    try:
        open_chat(page)
        page.get_by_role("button", name="Say hello").click()
        suggestion = page.get_by_role("button", name="Book a consultation")
        expect(suggestion).to_be_visible(timeout=REPLY_MS)
        suggestion.click()  # its payload is /book_consultation; the visitor sees the title
        bot_says(page, PHONE)
        expect(page.locator(".cc-msg-user").last).to_have_text("You said: Book a consultation")
        assert serious_violations(page) == []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "desktop.png"))
        page.set_viewport_size({"width": 375, "height": 740})
        panel = page.get_by_role("dialog").bounding_box()
        assert panel is not None and panel["width"] == 375 and panel["x"] == 0
        assert serious_violations(page) == []
        page.screenshot(path=str(SCREENSHOTS / "phone.png"))
    finally:
        page.context.close()
