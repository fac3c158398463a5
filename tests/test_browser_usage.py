"""The usage, limits and settings pages in a real browser, with a month of seeded usage: in
both languages and themes (screenshots in ``test-output/browser/usage-*.png``); the CSV
export downloads; a send over the daily limit says when it resets. Also the sign-up policy:
closed with an invitation link, then by approval (``usage-signup-*.png``)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from llm_chat.db import create_db_engine, session_scope
from llm_chat.i18n import translate
from llm_chat.models import Role, UsageRecord
from llm_chat.models.base import utcnow
from llm_chat.security import SecretBox
from llm_chat.services import catalog, limit_admin, users
from llm_chat.services.access import SYSTEM
from llm_chat.services.limits import UserLimits
from llm_chat.services.usage import cost_nanos
from tests.fake_provider import FakeProvider
from tests.support.app_process import AppConfig, RunningApp, running_app
from tests.support.browser import OUTPUT_DIR, PolicyViolations, chromium, screenshot

TIMEOUT_MS = 20_000
PASSWORD = "Usage-browser-pass-1"
ADMIN = "usage-admin@example.com"
ANN = "ann@example.com"
MODELS = (
    ("GPT-4o mini", Decimal("0.15"), Decimal("0.6")),
    ("DeepSeek chat", Decimal("0.27"), Decimal("1.1")),
    ("Qwen local", None, None),
)
USERS = (ANN, "bob@example.com", "chen@example.com")
DAYS = 30


def _seed_usage(user_ids: list[int], model_ids: list[int]) -> list[UsageRecord]:
    """A month of turns: each user's own rhythm, more on weekdays, one quiet day."""
    today = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    rows = []
    for day in range(DAYS):
        at = today - timedelta(days=day)
        if day == 9:
            continue
        busy = 1.0 if at.weekday() < 5 else 0.4
        for u, user_id in enumerate(user_ids):
            for m, model_id in enumerate(model_ids):
                name, price_in, price_out = MODELS[m]
                turns = int((6 + 3 * u + 2 * m + (day * 7 + u * 3) % 5) * busy)
                prompt = turns * (900 + 250 * m + 40 * ((day + u) % 7))
                completion = turns * (300 + 80 * u)
                rows.append(
                    UsageRecord(
                        user_id=user_id,
                        model_id=model_id,
                        model_name=name,
                        prompt_tokens=prompt,
                        completion_tokens=completion,
                        estimated=m == 2 and day % 3 == 0,
                        cost_nanos=cost_nanos(prompt, completion, price_in, price_out),
                        created_at=at - timedelta(minutes=u * 7 + m),
                    )
                )
    return rows


@pytest.fixture(scope="module")
def fake_provider() -> Iterator[FakeProvider]:
    """The model provider."""
    with FakeProvider() as provider:
        yield provider


@pytest.fixture(scope="module")
def app(fake_provider: FakeProvider) -> Iterator[RunningApp]:
    """The app in production mode, with three priced models and a month of three users'
    usage; ann may use 1,000 tokens a day, already used."""

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
                    api_key="sk-unused",
                    box=box,
                )
                model_ids = [
                    catalog.create_model.within(
                        session,
                        actor=SYSTEM,
                        provider_id=provider.id,
                        display_name=name,
                        model_name="fake-model",
                        price_input=p_in,
                        price_output=p_out,
                    ).id
                    for name, p_in, p_out in MODELS
                ]
                users.register_user.within(
                    session,
                    email=ADMIN,
                    password=PASSWORD,
                    display_name="Operator",
                    role=Role.ADMIN,
                )
                user_ids = [
                    users.register_user.within(
                        session, email=email, password=PASSWORD, display_name=email[:3].title()
                    ).id
                    for email in USERS
                ]
                session.add_all(_seed_usage(user_ids, model_ids))
                limit_admin.set_user_limits.within(
                    session,
                    actor=SYSTEM,
                    user_id=user_ids[0],
                    limits=UserLimits(tokens_per_day=1000),
                )
        finally:
            engine.dispose()

    with running_app(OUTPUT_DIR / "usage-app.log", seed=seed) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium for the whole module."""
    expect.set_options(timeout=TIMEOUT_MS)
    with chromium() as launched:
        yield launched


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile in English, watched for policy violations."""
    violations = PolicyViolations()
    ctx = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-US", accept_downloads=True
    )
    ctx.set_default_timeout(TIMEOUT_MS)
    violations.watch(ctx)
    try:
        yield ctx
    finally:
        ctx.close()
    assert violations.seen == []


def sign_in(page: Page, app: RunningApp, email: str) -> None:
    """Sign in and wait for the chat."""
    page.goto(app.url + "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#sign-in-submit").click()
    expect(page.locator("#composer")).to_be_visible()


def _cost(language: str, currency: str) -> str:
    """The label of a cost column in ``language``: "Cost (USD)"."""
    return translate(language, "usage.cost").replace("{currency}", currency)


def shot(page: Page, name: str, *, window: bool = False) -> None:
    """A screenshot once animations settle (the window only, under an open dialog)."""
    page.mouse.move(5, 5)
    page.wait_for_timeout(600)  # charts animate in
    if window:
        page.screenshot(path=str(OUTPUT_DIR / f"usage-{name}.png"))
    else:
        screenshot(page, f"usage-{name}")


def switch(page: Page, shown: str, *, language: str | None = None, theme: bool = False) -> None:
    """From a page ``shown`` in that language: pick ``language`` in the page's select, or
    flip the theme, or both."""
    if language is not None:
        page.get_by_role("combobox", name=translate(shown, "app.language")).click()
        page.get_by_role("option", name="简体中文" if language == "zh-CN" else "English").click()
        shown = language
        expect(page.get_by_role("combobox", name=translate(shown, "app.language"))).to_be_visible()
    if theme:
        dark = "dark" in (page.locator("html").get_attribute("class") or "")
        page.get_by_role("button", name=translate(shown, "app.toggle_theme")).click()
        pattern = re.compile(r"\bdark\b")
        if dark:
            expect(page.locator("html")).not_to_have_class(pattern)
        else:
            expect(page.locator("html")).to_have_class(pattern)


def test_the_usage_page_charts_tables_and_csv(app: RunningApp, context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page, app, ADMIN)
    page.goto(app.url + "/admin/usage")
    expect(page.locator("#usage-table tbody tr")).to_have_count(DAYS)
    expect(page.locator("#usage-total-turns")).not_to_have_text("0")
    expect(page.locator(".recharts-bar-rectangle").first).to_be_visible()
    expect(page.locator("#usage-table thead")).to_contain_text(_cost("en", "USD"))
    shot(page, "01-per-day-en")
    page.get_by_role("radio", name=translate("en", "usage.per_model")).click()
    expect(page.locator("#usage-table tbody tr")).to_have_count(3)
    shot(page, "02-per-model-en")
    page.get_by_role("radio", name=translate("en", "usage.per_user")).click()
    expect(page.locator("#usage-table tbody tr")).to_have_count(3)  # the admin used none
    with page.expect_download() as download:
        page.locator("#usage-export").click()
    path = download.value.path()
    assert download.value.suggested_filename.startswith("usage-user-")
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert (rows[0][0], rows[0][-1], rows[1][-1]) == ("user", "currency", "USD")
    assert {r[0] for r in rows[1:-1]} >= set(USERS)
    assert rows[-1][0] == "total"

    switch(page, "en", theme=True)
    shot(page, "03-per-user-en-dark")
    switch(page, "en", language="zh-CN")
    page.get_by_role("radio", name=translate("zh-CN", "usage.per_day")).click()
    expect(page.locator("#usage-show")).to_have_text(translate("zh-CN", "usage.show"))
    shot(page, "04-per-day-zh-dark")
    switch(page, "zh-CN", theme=True)
    shot(page, "05-per-day-zh-light")

    page.goto(app.url + "/admin/limits")
    expect(page.locator("#role-user")).to_be_visible()
    shot(page, "06-limits-zh-light")
    switch(page, "zh-CN", language="en")
    page.locator("#role-user input[name=messages_per_minute]").fill("20")
    page.locator("#save-role-user").click()
    expect(page.get_by_text(translate("en", "admin.saved"))).to_be_visible()
    page.locator("#limits-user-id").fill("2")
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_contain_text(ANN)
    shot(page, "07-user-limits-en", window=True)
    page.keyboard.press("Escape")
    switch(page, "en", theme=True)
    page.locator("#price-currency").fill("eur")
    page.locator("#save-currency").click()
    expect(page.locator("#price-currency")).to_have_value("EUR")
    shot(page, "08-limits-en-dark")
    page.goto(app.url + "/admin/usage")
    expect(page.locator("#usage-table thead")).to_contain_text(_cost("en", "EUR"))
    page.get_by_text(_cost("en", "EUR")).first.scroll_into_view_if_needed()
    page.locator(".recharts-bar-rectangle").last.hover()  # a cost bar's tooltip
    page.wait_for_timeout(300)
    page.screenshot(path=str(OUTPUT_DIR / "usage-08-cost-eur-en-dark.png"))
    page.goto(app.url + "/admin/limits")
    page.locator("#price-currency").fill("USD")  # as the other test expects
    page.locator("#save-currency").click()
    expect(page.locator("#price-currency")).to_have_value("USD")
    switch(page, "en", theme=True)


def test_a_user_sees_their_usage_and_when_their_limit_resets(
    app: RunningApp, context: BrowserContext
) -> None:
    page = context.new_page()
    sign_in(page, app, ANN)
    page.locator("#composer").fill("One more question")
    page.keyboard.press("Enter")
    callout = page.locator("#error-callout")
    expect(callout).to_contain_text("midnight UTC")
    expect(callout).to_contain_text(re.compile(r"in \d+ min"))
    expect(callout).not_to_contain_text("{minutes}")
    expect(page.locator("#composer")).to_have_value("One more question")
    shot(page, "09-chat-limit-en")

    page.goto(app.url + "/settings")
    expect(page.locator("#my-usage-table tbody tr")).to_have_count(3)
    expect(page.locator("#my-limits")).to_contain_text("/ 1,000")
    expect(page.locator("#my-usage-table thead")).to_contain_text(_cost("en", "USD"))
    page.locator("#my-usage").scroll_into_view_if_needed()
    shot(page, "10-settings-usage-en")
    switch(page, "en", language="zh-CN", theme=True)
    expect(page.locator("#my-limits")).to_contain_text(
        translate("zh-CN", "usage.limit_tokens_per_day")
    )
    shot(page, "11-settings-usage-zh-dark")


def _register(page: Page, *, email: str | None, password: str = PASSWORD) -> None:
    """Fill in the registration form (``email`` None: the invitation's is fixed)."""
    if email is not None:
        page.locator("#email").fill(email)
    page.locator("#display_name").fill("Newcomer")
    page.locator("#password").fill(password)
    page.locator("#password_confirm").fill(password)
    page.locator("#register-submit").click()


def test_sign_up_closed_with_an_invitation_then_by_approval(
    app: RunningApp, browser: Browser, context: BrowserContext
) -> None:
    admin = context.new_page()
    sign_in(admin, app, ADMIN)
    admin.goto(app.url + "/admin")
    admin.locator("#tab-signup").click()
    expect(admin.locator("#no-invites")).to_be_visible()
    admin.get_by_text(translate("en", "admin.signup_closed"), exact=True).click()
    admin.locator("#save-signup").click()
    expect(admin.get_by_text(translate("en", "admin.saved"))).to_be_visible()
    admin.locator("#invite-email").fill("dana@example.com")
    admin.get_by_role("button", name=translate("en", "admin.invite"), exact=True).click()
    link = admin.locator("#invite-link")
    expect(link).to_have_value(re.compile(r"/register\?invite=[\w-]{40,}$"))
    url = link.input_value()
    expect(admin.locator(".invite-row")).to_have_count(1)
    shot(admin, "signup-tab-en-light")

    guest = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        visitor = guest.new_page()
        visitor.goto(app.url + "/register")
        expect(visitor.locator("#signup-closed")).to_be_visible()
        expect(visitor.locator("#register-submit")).to_have_count(0)
        shot(visitor, "signup-closed-en")
        visitor.goto(url)
        expect(visitor.locator("#invite-email")).to_have_text("dana@example.com")
        shot(visitor, "signup-invited-en")
        _register(visitor, email=None)
        expect(visitor.locator("#composer")).to_be_visible()
        # Used: the same link no longer works.
        other = browser.new_context(locale="en-US")
        try:
            second = other.new_page()
            second.goto(url)
            expect(second.get_by_text(translate("en", "auth.invite_invalid"))).to_be_visible()
        finally:
            other.close()
    finally:
        guest.close()
    admin.get_by_role("button", name=translate("en", "settings.done")).click()
    expect(admin.locator("#invite-link")).to_be_hidden()

    # Approval: the account waits until the admin approves it in the users tab.
    admin.get_by_text(translate("en", "admin.signup_approval"), exact=True).click()
    admin.locator("#save-signup").click()
    expect(admin.get_by_text(translate("en", "admin.saved"))).to_be_visible()
    waiting = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        newcomer = waiting.new_page()
        newcomer.goto(app.url + "/register")
        expect(newcomer.locator("#approval-note")).to_be_visible()
        _register(newcomer, email="eli@example.com")
        expect(newcomer.locator("#registered-pending")).to_be_visible()
        shot(newcomer, "signup-pending-zh")
        newcomer.goto(app.url + "/login")
        newcomer.locator("#email").fill("eli@example.com")
        newcomer.locator("#password").fill(PASSWORD)
        newcomer.locator("#sign-in-submit").click()
        expect(newcomer.get_by_text(translate("zh-CN", "auth.pending_approval"))).to_be_visible()

        admin.locator("#tab-users").click()
        admin.locator("#pending-only").click()
        expect(admin.locator(".user-row")).to_have_count(1)
        expect(admin.locator(".user-row")).to_contain_text("eli@example.com")
        shot(admin, "signup-pending-users-en")
        admin.locator(".approve-button").click()
        expect(admin.get_by_text(translate("en", "admin.user_approved"))).to_be_visible()
        newcomer.locator("#sign-in-submit").click()
        expect(newcomer.locator("#composer")).to_be_visible()
    finally:
        waiting.close()

    # The tab in Chinese and dark; then sign-up is open again for the other tests.
    admin.locator("#tab-signup").click()
    switch(admin, "en", language="zh-CN", theme=True)
    expect(admin.get_by_text(translate("zh-CN", "admin.signup_title"))).to_be_visible()
    shot(admin, "signup-tab-zh-dark")
    admin.get_by_text(translate("zh-CN", "admin.signup_open"), exact=True).click()
    admin.locator("#save-signup").click()
    expect(admin.get_by_text(translate("zh-CN", "admin.saved"))).to_be_visible()
