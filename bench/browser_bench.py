"""The browser benchmark: Playwright driving Debian's Chromium against the running app.

Bytes come from the websocket frames the page receives; times come from the DOM, taken inside
the page (``performance.now()`` in a MutationObserver), so Playwright's own latency is not in
them; browser CPU comes from ``/proc`` (every Chromium process) and from the DevTools
``Performance`` metrics of the page.

A reply is "fully shown" when the streaming element holds the whole text, or when the finished
message with the whole text is on the page, whichever comes first; it is "done" when the
streaming element has gone and the finished message is there.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from playwright.sync_api import (
    Browser,
    BrowserContext,
    CDPSession,
    Page,
    ViewportSize,
    WebSocket,
    expect,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from bench.app import (
    FAST_MODEL_NAME,
    PASSWORD,
    SHORT_MODEL_NAME,
    STREAM_MODEL_NAME,
    TOKEN_STORAGE_NAME,
    BenchApp,
    BenchUser,
    question,
)
from bench.procstat import CpuSnapshot, chromium_pids, cpu_by_kind
from bench.provider import ProviderProcess
from bench.stats import percentile, ws_frame_bytes
from tests.fake_provider import generated_tokens
from tests.support.browser import chromium

VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
UI_TIMEOUT_MS = 60_000
POLL_MS = 50
SETTLE_S = 0.5
OPEN_TIMEOUT_MS = 20_000
SAMPLE_CHARS = 600
# DevTools Performance metrics kept (their change over a reply).
RENDERER_METRICS = (
    "TaskDuration",
    "ScriptDuration",
    "LayoutDuration",
    "RecalcStyleDuration",
    "LayoutCount",
    "RecalcStyleCount",
)
IDLE_SAMPLE_S = 2.0
# Every reply of the benchmark starts with this word (tests.fake_provider.generated_tokens).
FIRST_WORD = generated_tokens(1)[0].strip()

# Installed before the app's scripts on every page load: watches the DOM for the reply of the
# send it is armed for, and records when it was first shown, fully shown and done.
OBSERVER_JS = r"""
(() => {
  if (window.__bench) return;
  const B = (window.__bench = { armed: false });
  const finished = () => document.querySelectorAll('.assistant-message:not(.streaming)');
  B.arm = (expectLen, firstWord) => {
    Object.assign(B, {
      armed: true, first: null, full: null, done: null, doneLen: 0, frame: null, word: null,
      expectLen, firstWord, before: finished().length, sendAt: performance.now(),
    });
  };
  const sawText = (now, text) => {
    if (B.first === null && text.length > 0) B.first = now;
    if (B.word === null && text.trimStart().startsWith(B.firstWord)) B.word = now;
    if (B.full === null && text.length >= B.expectLen) B.full = now;
  };
  B.check = () => {
    if (!B.armed || B.done !== null) return;
    const now = performance.now();
    const el = document.getElementById('streaming-text');
    if (el) {
      sawText(now, el.textContent);
      return;
    }
    const all = finished();
    if (all.length <= B.before) return;
    const text = all[all.length - 1].textContent.trim();
    if (!text) return;
    sawText(now, text);
    B.done = now;
    B.doneLen = text.length;
  };
  // Is the newest message on screen (inside the message list) and does it hold `marker`?
  B.lastVisible = (marker) => {
    const all = document.querySelectorAll('.assistant-message');
    const last = all[all.length - 1];
    if (!last || !last.textContent.includes(marker)) return false;
    const box = document.getElementById('message-scroll');
    const area = box ? box.getBoundingClientRect() : { top: 0, bottom: window.innerHeight };
    const r = last.getBoundingClientRect();
    return r.bottom > Math.max(0, area.top) && r.top < Math.min(window.innerHeight, area.bottom);
  };
  new MutationObserver(B.check).observe(document, {
    childList: true, subtree: true, characterData: true,
  });
  // When the frame with the reply's first text reached the page: this listener is added as
  // the socket is made, so it runs before the app's own handler reads the frame.
  const FIRST_TEXT = /"chunk_rx_state_":"[^"]/;
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = function (...args) {
    const socket = new NativeWebSocket(...args);
    socket.addEventListener('message', (event) => {
      if (B.armed && B.frame === null && typeof event.data === 'string'
          && FIRST_TEXT.test(event.data)) {
        B.frame = performance.now();
      }
    });
    return socket;
  };
  window.WebSocket.prototype = NativeWebSocket.prototype;
  Object.assign(window.WebSocket, NativeWebSocket);
})();
"""

# Arm the observer and press Send in the same task, so the clock starts at the click.
SEND_JS = """([n, word]) => {
  window.__bench.arm(n, word);
  document.getElementById('send-button').click();
}"""

READ_JS = """() => {
  const B = window.__bench;
  B.armed = false;
  const rel = (t) => (t === null ? null : t - B.sendAt);
  return {
    first: rel(B.first), full: rel(B.full), done: rel(B.done), doneLen: B.doneLen,
    frame: rel(B.frame), word: rel(B.word),
    sendEpochMs: performance.timeOrigin + B.sendAt,
  };
}"""


@dataclass
class FrameLog:
    """Every websocket frame a page receives and sends: (time, wire bytes)."""

    received: list[tuple[float, int]] = field(default_factory=list)
    sent: list[tuple[float, int]] = field(default_factory=list)
    # The start of each received frame's text (to show what the bytes are).
    received_text: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        """Record the sockets ``page`` opens from now on."""
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, ws: WebSocket) -> None:
        ws.on("framereceived", self._on_received)
        ws.on("framesent", lambda payload: self.sent.append(_frame(payload, masked=True)))

    def _on_received(self, payload: str | bytes) -> None:
        self.received.append(_frame(payload))
        text = payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
        self.received_text.append(text[:SAMPLE_CHARS])


def _frame(payload: str | bytes, *, masked: bool = False) -> tuple[float, int]:
    size = len(payload.encode()) if isinstance(payload, str) else len(payload)
    return time.monotonic(), ws_frame_bytes(size, masked=masked)


@dataclass
class Tab:
    """A page with its frame log and DevTools session."""

    page: Page
    frames: FrameLog
    cdp: CDPSession

    def task_seconds(self) -> dict[str, float]:
        """The renderer's main-thread busy time so far (DevTools ``Performance`` metrics)."""
        metrics = self.cdp.send("Performance.getMetrics")["metrics"]
        return {m["name"]: float(m["value"]) for m in metrics if m["name"] in RENDERER_METRICS}


@dataclass
class ReplyMeasure:
    """One reply in one tab."""

    label: str
    turns: int
    first_ms: float | None
    full_ms: float | None
    done_ms: float | None
    provider_ttft_ms: float | None
    first_overhead_ms: float | None
    # From the arrival of the websocket frame that brought the reply's first text to its
    # first whole word in the DOM.
    first_word_ms: float | None
    # The overhead's two parts: click -> request at the provider; first token -> on the page.
    before_provider_ms: float | None
    after_provider_ms: float | None
    bytes_received: int
    frames_received: int
    bytes_sent: int
    largest_frame: int = 0
    median_frame: float = 0.0
    # Texts (cut) of the typical and of the largest frame received.
    median_frame_text: str = ""
    largest_frame_text: str = ""
    # Chromium's CPU per second while the page sat idle just before the send.
    browser_idle_cpu_per_s: float | None = None
    browser_cpu_s: float | None = None
    browser_cpu_by_kind: dict[str, float] = field(default_factory=dict)
    renderer_task_s: float | None = None
    renderer_script_s: float | None = None
    # Change of the page's DevTools Performance metrics over the reply.
    renderer_metrics: dict[str, float] = field(default_factory=dict)
    complete: bool = True


@dataclass
class OpenMeasure:
    """Opening the long conversation."""

    messages: int
    click_visible_ms: float | None
    click_in_dom_ms: float | None
    reload_visible_ms: float | None
    rendered_messages: int


@dataclass
class LongPageResult:
    """One page kept open for many turns in a row."""

    turns: int
    # The replies measured; ``turns`` of each is the turn it was measured at.
    fast: list[ReplyMeasure]
    stream: list[ReplyMeasure]
    wall_s: float


@dataclass
class BrowserResult:
    """Everything the browser benchmark measured."""

    first_token: list[ReplyMeasure]
    stream: list[ReplyMeasure]
    fast: list[ReplyMeasure]
    crowd: list[ReplyMeasure]
    crowd_browser_cpu_s: float
    crowd_tokens: int
    open_big: OpenMeasure | None
    long_page: LongPageResult | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """For the results file."""
        return asdict(self)


def _token_script(user: BenchUser) -> str:
    return (
        f"try {{ localStorage.setItem({json.dumps(TOKEN_STORAGE_NAME)}, "
        f"{json.dumps(user.token)}); }} catch (e) {{}}"
    )


def new_tab(browser: Browser, user: BenchUser | None = None) -> tuple[BrowserContext, Tab]:
    """A fresh profile (signed in as ``user`` if given) and a page with the observer."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(UI_TIMEOUT_MS)
    if user is not None:
        context.add_init_script(script=_token_script(user))
    context.add_init_script(script=OBSERVER_JS)
    page = context.new_page()
    frames = FrameLog()
    frames.attach(page)
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    return context, Tab(page=page, frames=frames, cdp=cdp)


def sign_in(tab: Tab, url: str, email: str) -> None:
    """Sign in through the form, as a user does."""
    page = tab.page
    page.goto(url + "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#sign-in-submit").click()
    expect(page).to_have_url(url + "/", timeout=UI_TIMEOUT_MS)
    expect(page.locator("#composer")).to_be_visible(timeout=UI_TIMEOUT_MS)


def open_chat(tab: Tab, url: str, path: str, turns: int, model_name: str) -> None:
    """Open ``path``; wait until its newest prior turn is shown; select the model.

    (The app may show only the latest messages of a long conversation.)
    """
    page = tab.page
    page.goto(url + path)
    expect(page.locator("#composer")).to_be_visible(timeout=UI_TIMEOUT_MS)
    if turns:
        newest = page.locator(".user-message").last
        expect(newest).to_have_text(question(turns - 1), timeout=UI_TIMEOUT_MS)
    choose_model(page, model_name)


def choose_model(page: Page, name: str) -> None:
    """Select model ``name`` in the picker unless it is selected."""
    picker = page.locator("#model-picker")
    expect(picker).to_be_visible(timeout=UI_TIMEOUT_MS)
    if picker.inner_text().strip() != name:
        picker.click()
        page.get_by_role("option", name=name, exact=True).click()
    expect(picker).to_have_text(name, timeout=UI_TIMEOUT_MS)


def start_reply(tab: Tab, text: str, expect_len: int) -> tuple[int, int]:
    """Type ``text`` and press Send; returns the frame-log marks at the click."""
    tab.page.locator("#composer").fill(text)
    time.sleep(SETTLE_S)  # let the typing's own events go out first
    marks = len(tab.frames.received), len(tab.frames.sent)
    tab.page.evaluate(SEND_JS, [expect_len, FIRST_WORD])
    return marks


def wait_done(tab: Tab, timeout_s: float) -> None:
    """Wait until the armed reply is done."""
    tab.page.wait_for_function(
        "() => window.__bench.done !== null", polling=POLL_MS, timeout=timeout_s * 1000
    )


def finish_reply(
    tab: Tab,
    label: str,
    turns: int,
    question: str,
    marks: tuple[int, int],
    provider: ProviderProcess,
) -> ReplyMeasure:
    """Read the armed reply's times and bytes (after it is done)."""
    time.sleep(SETTLE_S)  # frames of the turn's end still on their way to Playwright
    times = tab.page.evaluate(READ_JS)
    received = tab.frames.received[marks[0] :]
    texts = tab.frames.received_text[marks[0] :]
    sent = tab.frames.sent[marks[1] :]
    by_size = sorted(range(len(received)), key=lambda i: received[i][1])
    rec = provider.wait_for([question]).get(question)
    ttft_ms = None if rec is None or rec.ttft is None else rec.ttft * 1000
    first = times["first"]
    # Where the added time goes: from the click to the provider's receiving the request, and
    # from the provider's first token to the text on the page (wall clocks of the same host).
    before = after = None
    if rec is not None and rec.arrived_at is not None and rec.first_token_at is not None:
        epoch = time.time() - time.monotonic()
        send_ms = float(times["sendEpochMs"])
        before = (rec.arrived_at + epoch) * 1000 - send_ms
        if first is not None:
            after = send_ms + first - (rec.first_token_at + epoch) * 1000
    return ReplyMeasure(
        label=label,
        turns=turns,
        first_ms=first,
        full_ms=times["full"],
        done_ms=times["done"],
        provider_ttft_ms=ttft_ms,
        first_overhead_ms=None if first is None or ttft_ms is None else first - ttft_ms,
        first_word_ms=None
        if times["word"] is None or times["frame"] is None
        else times["word"] - times["frame"],
        before_provider_ms=before,
        after_provider_ms=after,
        bytes_received=sum(size for _, size in received),
        frames_received=len(received),
        largest_frame=max((size for _, size in received), default=0),
        median_frame=statistics.median(size for _, size in received) if received else 0.0,
        median_frame_text=texts[by_size[len(by_size) // 2]] if texts else "",
        largest_frame_text=texts[by_size[-1]] if texts else "",
        bytes_sent=sum(size for _, size in sent),
        complete=times["full"] is not None,
    )


def measure_reply(
    tab: Tab,
    *,
    label: str,
    turns: int,
    expect_len: int,
    timeout_s: float,
    provider: ProviderProcess,
) -> ReplyMeasure:
    """Send one message in the open chat and measure its reply, with the browser's CPU."""
    question = f"bench {label} {secrets.token_hex(6)}"
    pids = chromium_pids()
    cpu_before, tasks_before = CpuSnapshot.take(pids), tab.task_seconds()
    marks = start_reply(tab, question, expect_len)
    wait_done(tab, timeout_s)
    cpu_after = CpuSnapshot.take(pids)
    tasks = tab.task_seconds()
    result = finish_reply(tab, label, turns, question, marks, provider)
    result.browser_cpu_s = cpu_after.since(cpu_before)
    result.browser_cpu_by_kind = cpu_by_kind(cpu_before, cpu_after)
    result.renderer_metrics = {
        name: round(tasks.get(name, 0.0) - tasks_before.get(name, 0.0), 4) for name in tasks
    }
    result.renderer_task_s = result.renderer_metrics.get("TaskDuration")
    result.renderer_script_s = result.renderer_metrics.get("ScriptDuration")
    return result


class BrowserBench:
    """The browser scenarios against one running app."""

    def __init__(self, bench: BenchApp, provider: ProviderProcess) -> None:
        """Prepare the scenarios."""
        self.bench = bench
        self.cfg = bench.cfg
        self.seeded = bench.seeded
        self.provider = provider
        self.expect_len = len(self.cfg.reply_text.strip())
        self.reply_timeout_s = self.cfg.ideal_stream_seconds * 3 + 60

    def run(self) -> BrowserResult:
        """Every scenario, one browser."""
        with chromium() as browser:
            context, tab = new_tab(browser)
            try:
                sign_in(tab, self.bench.url, self.seeded.user(self.seeded.main).email)
                first = self.first_token_samples(tab)
                stream = [
                    self.reply_at(tab, "stream", n, STREAM_MODEL_NAME) for n in self.cfg.turns
                ]
                fast = [self.reply_at(tab, "fast", n, FAST_MODEL_NAME) for n in self.cfg.turns]
                long_page = self.long_page(tab)
                open_big = self.open_big(tab)
            finally:
                context.close()
            crowd, crowd_cpu, crowd_tokens = self.crowd(browser)
        return BrowserResult(
            first_token=first,
            stream=stream,
            fast=fast,
            crowd=crowd,
            crowd_browser_cpu_s=crowd_cpu,
            crowd_tokens=crowd_tokens,
            open_big=open_big,
            long_page=long_page,
        )

    def first_token_samples(self, tab: Tab) -> list[ReplyMeasure]:
        """One user, short replies one after another in one chat."""
        open_chat(tab, self.bench.url, "/", 0, SHORT_MODEL_NAME)
        expect_len = len("".join(generated_tokens(self.cfg.short_tokens)).strip())
        samples = []
        for i in range(self.cfg.first_token_samples):
            samples.append(
                measure_reply(
                    tab,
                    label=f"first-{i}",
                    turns=i,
                    expect_len=expect_len,
                    timeout_s=60,
                    provider=self.provider,
                )
            )
        return samples

    def reply_at(self, tab: Tab, key: str, turns: int, model_name: str) -> ReplyMeasure:
        """One long reply after ``turns`` prior turns (turn 0: a new chat)."""
        path = f"/c/{self.seeded.conversations[(key, turns)]}" if turns else "/"
        open_chat(tab, self.bench.url, path, turns, model_name)
        time.sleep(1.0)  # the page load's own work is over
        pids = chromium_pids()
        idle_before = CpuSnapshot.take(pids)
        time.sleep(IDLE_SAMPLE_S)
        idle = CpuSnapshot.take(pids).since(idle_before) / IDLE_SAMPLE_S
        result = measure_reply(
            tab,
            label=f"{key}-turn{turns}",
            turns=turns,
            expect_len=self.expect_len,
            timeout_s=self.reply_timeout_s,
            provider=self.provider,
        )
        result.browser_idle_cpu_per_s = idle
        return result

    def long_page(self, tab: Tab) -> LongPageResult:
        """One page kept open: ``long_page_turns`` turns in a row in a new chat.

        At each turn of ``long_page_at``, ``long_page_samples`` full-speed replies are
        measured, then one at ``token_delay``; every other turn is a full-speed reply too, so
        the page holds as many long replies as turns.
        """
        cfg = self.cfg
        plan: dict[int, str] = {}
        for at in cfg.long_page_at:
            for i in range(cfg.long_page_samples):
                plan[at + i] = "fast"
            plan[at + cfg.long_page_samples] = "stream"
        if max(plan) >= cfg.long_page_turns:
            raise ValueError(f"long_page_turns={cfg.long_page_turns} is too few for {plan}")
        start = time.monotonic()
        open_chat(tab, self.bench.url, "/", 0, FAST_MODEL_NAME)
        fast: list[ReplyMeasure] = []
        stream: list[ReplyMeasure] = []
        at = 0
        for turn in range(cfg.long_page_turns):
            at = turn if turn in cfg.long_page_at else at
            kind = plan.get(turn)
            if kind is None:
                question = f"bench long-{turn} {secrets.token_hex(6)}"
                start_reply(tab, question, self.expect_len)
                wait_done(tab, self.reply_timeout_s)
                tab.page.evaluate(READ_JS)  # disarms the observer
                continue
            if kind == "stream":
                choose_model(tab.page, STREAM_MODEL_NAME)
            result = measure_reply(
                tab,
                label=f"long-{kind}-turn{turn}",
                turns=at,
                expect_len=self.expect_len,
                timeout_s=self.reply_timeout_s,
                provider=self.provider,
            )
            (fast if kind == "fast" else stream).append(result)
            if kind == "stream":
                choose_model(tab.page, FAST_MODEL_NAME)
        return LongPageResult(
            turns=cfg.long_page_turns,
            fast=fast,
            stream=stream,
            wall_s=time.monotonic() - start,
        )

    def open_big(self, tab: Tab) -> OpenMeasure:
        """Open the long conversation from the sidebar, then reload it."""
        page = tab.page
        cid = self.seeded.big_conversation
        marker = self.seeded.big_marker
        open_chat(tab, self.bench.url, "/", 0, STREAM_MODEL_NAME)
        link = page.locator(f'#conversation-list a[href="/c/{cid}"]')
        expect(link).to_have_count(1, timeout=UI_TIMEOUT_MS)
        time.sleep(1.0)
        # Click, and watch every animation frame from then on (inside the page).
        page.evaluate(
            """([cid, marker, limit]) => {
                const o = (window.__open = { at: performance.now(), inDom: null, visible: null });
                const watch = () => {
                    const now = performance.now() - o.at;
                    const all = document.querySelectorAll('.assistant-message');
                    const last = all[all.length - 1];
                    if (o.inDom === null && last && last.textContent.includes(marker)) {
                        o.inDom = now;
                    }
                    if (o.inDom !== null && window.__bench.lastVisible(marker)) o.visible = now;
                    else if (now < limit) requestAnimationFrame(watch);
                };
                document.querySelector(`#conversation-list a[href="/c/${cid}"]`).click();
                requestAnimationFrame(watch);
            }""",
            [cid, marker, OPEN_TIMEOUT_MS],
        )
        # Not visible in time: reported as such (None).
        with contextlib.suppress(PlaywrightTimeoutError):
            page.wait_for_function(
                "() => window.__open.visible !== null", polling=POLL_MS, timeout=OPEN_TIMEOUT_MS
            )
        state = page.evaluate("() => window.__open")
        click_visible, click_dom = state.get("visible"), state.get("inDom")
        rendered = page.locator(".user-message, .assistant-message").count()

        # A reload of the conversation's URL: from navigation start to the newest message shown.
        reload_visible = None
        page.reload(wait_until="commit")
        with contextlib.suppress(PlaywrightTimeoutError):
            handle = page.wait_for_function(
                """(marker) => window.__bench.lastVisible(marker) ? performance.now() : false""",
                arg=marker,
                polling="raf",
                timeout=OPEN_TIMEOUT_MS,
            )
            reload_visible = float(handle.json_value())
        return OpenMeasure(
            messages=self.cfg.big_messages,
            click_visible_ms=click_visible,
            click_in_dom_ms=click_dom,
            reload_visible_ms=reload_visible,
            rendered_messages=rendered,
        )

    def crowd(self, browser: Browser) -> tuple[list[ReplyMeasure], float, int]:
        """Several browser users streaming long replies at once (a new chat each)."""
        users = self.seeded.crowd
        tabs: list[tuple[BrowserContext, Tab]] = [new_tab(browser, user) for user in users]
        results: list[ReplyMeasure] = []
        cpu_total = 0.0
        tokens = 0
        try:
            for _, tab in tabs:
                open_chat(tab, self.bench.url, "/", 0, STREAM_MODEL_NAME)
            for round_ in range(self.cfg.browser_rounds):
                questions = [
                    f"bench crowd-{i}-{round_} {secrets.token_hex(6)}" for i in range(len(tabs))
                ]
                for (_, tab), q in zip(tabs, questions, strict=True):
                    tab.page.locator("#composer").fill(q)
                time.sleep(1.0)
                pids = chromium_pids()
                cpu_before = CpuSnapshot.take(pids)
                marks = []
                for _, tab in tabs:
                    marks.append((len(tab.frames.received), len(tab.frames.sent)))
                    tab.page.evaluate(SEND_JS, [self.expect_len, FIRST_WORD])
                for _, tab in tabs:
                    wait_done(tab, self.reply_timeout_s)
                cpu_total += CpuSnapshot.take(pids).since(cpu_before)
                tokens += self.cfg.reply_tokens * len(tabs)
                for i, ((_, tab), q, mark) in enumerate(zip(tabs, questions, marks, strict=True)):
                    results.append(
                        finish_reply(tab, f"crowd-{i}-{round_}", round_, q, mark, self.provider)
                    )
        finally:
            for context, _ in tabs:
                context.close()
        return results, cpu_total, tokens


def median_or_none(values: list[float | None]) -> float | None:
    """The median of the values that are not None."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def p(values: list[float | None], pct: float) -> float | None:
    """A percentile of the values that are not None."""
    present = [v for v in values if v is not None]
    return percentile(present, pct) if present else None
