"""The database pool under load: API chats and web users at once, on MariaDB/MySQL.

    python -m bench.pool_load [--api 200] [--web 100] [--quick]

A hardening review found that each ``/api/chat`` or ``/v1`` request held a pooled connection
(its sign-in check) while it waited for a second one to start the turn: from ~31 parallel
requests on MariaDB the pool ran dry, requests failed after the 30 s pool timeout, and web
users' turns stalled behind them. This starts the production app on a MariaDB database of
its own, sends ``--api`` streamed chats through ``POST /api/chat`` and ``--web`` turns over
the websocket, all at the same moment, and reports errors and stalls:

* an **error** is a chat that did not end ``complete`` with its whole reply (an HTTP error,
  a missing ``[DONE]``, a turn that never ended), or a row left ``streaming``;
* a **stall caused by the pool** is a wait of 1 s or more for a pooled connection, which the
  app logs (``llm_chat.db.WatchedPool`` logs every wait of 50 ms or more; there should be
  none at all, since no caller holds one connection while it waits for another);
* for context, ``stalls_over_1s`` counts turns whose first event (the ``conversation`` event
  of ``/api/chat``, the first streamed text in the browser) came more than 1 s after the
  provider's first token would allow, whatever the cause: with hundreds of turns starting in
  the same instant on 2 cores shared with the provider and this load generator, CPU.

Exits 1 when a target is missed. Figures go to ``test-output/bench/pool.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa

from bench.app import TOKEN_STORAGE_NAME, TOKEN_TTL_S
from bench.config import OUTPUT_DIR
from bench.procstat import CpuSnapshot, tree
from bench.protocol_load import close_tabs, marker, send_and_wait
from bench.provider import MARKER_CHARS, ProviderProcess, ServedRequest
from bench.stats import percentile
from llm_chat.db import create_db_engine, session_scope
from llm_chat.models import Message, MessageStatus, User
from llm_chat.security import SecretBox, create_token, hash_password
from tests.fake_provider import generated_tokens
from tests.support.app_process import AppConfig, running_app
from tests.support.databases import create_mysql_database, drop_mysql_database
from tests.support.factories import add_model
from tests.support.reflex_server import ReflexClient, local_storage_keys

TOKENS = 40
DELAY_S = 0.02
FIRST_TOKEN_S = 0.05
MODEL_ID = f"fake?tokens={TOKENS}&delay={DELAY_S}&first={FIRST_TOKEN_S}"
REPLY = "".join(generated_tokens(TOKENS))
STALL_S = 1.0
POOL_WAIT = re.compile(r"Waited ([0-9.]+) s for a database connection")
TURN_TIMEOUT_S = 120.0


@dataclass
class DoorResult:
    """What one door's users saw."""

    users: int
    errors: list[str] = field(default_factory=list)
    # Seconds from the request to the turn's first sign of life, per user.
    starts: list[float] = field(default_factory=list)
    # Seconds from the request to the end of the reply, per user.
    totals: list[float] = field(default_factory=list)
    # When each question was sent (monotonic clock, which the provider process shares).
    sent: dict[str, float] = field(default_factory=dict)
    # Seconds from the request until the provider had it, per user (the app's own part).
    to_provider: list[float] = field(default_factory=list)

    @property
    def stalls(self) -> int:
        """Turns that started more than STALL_S after the provider allowed."""
        return sum(1 for s in self.starts if s - FIRST_TOKEN_S > STALL_S)

    def summary(self) -> dict[str, object]:
        """The figures, for the report and the JSON."""
        return {
            "users": self.users,
            "errors": len(self.errors),
            "first_errors": self.errors[:5],
            "stalls_over_1s": self.stalls,
            "start_p50_ms": round(1000 * statistics.median(self.starts), 1)
            if self.starts
            else None,
            "start_p95_ms": round(1000 * percentile(self.starts, 95), 1) if self.starts else None,
            "start_max_ms": round(1000 * max(self.starts), 1) if self.starts else None,
            "total_p95_s": round(percentile(self.totals, 95), 2) if self.totals else None,
            "to_provider_p50_ms": _ms(statistics.median(self.to_provider))
            if self.to_provider
            else None,
            "to_provider_p95_ms": _ms(percentile(self.to_provider, 95))
            if self.to_provider
            else None,
            "to_provider_max_ms": _ms(max(self.to_provider)) if self.to_provider else None,
        }

    def match(self, served: dict[str, ServedRequest]) -> None:
        """Note when the provider got each question."""
        for question, sent_at in self.sent.items():
            request = served.get(question[:MARKER_CHARS])
            if request is not None and request.arrived_at is not None:
                self.to_provider.append(request.arrived_at - sent_at)


def _ms(seconds: float) -> float:
    return round(1000 * seconds, 1)


def _seed(config: AppConfig, provider_url: str, count: int) -> list[tuple[int, str]]:
    """A provider, the model, and ``count`` accounts; returns (user id, session token)."""
    engine = create_db_engine(config.database_url)
    try:
        with session_scope(engine) as session:
            add_model(
                session,
                provider_url,
                MODEL_ID,
                provider_name="Pool bench loopback",
                display_name="Pool bench",
                api_key="sk-pool-bench",
                box=SecretBox(config.encryption_key),
                is_default=True,
            )
            password_hash = hash_password("pool-bench-password", 4)
            users = [
                User(
                    email=f"pool-{i}@example.com",
                    display_name=f"Pool {i}",
                    password_hash=password_hash,
                )
                for i in range(count)
            ]
            session.add_all(users)
            session.flush()
            return [
                (u.id or 0, create_token(u.id or 0, config.jwt_secret, TOKEN_TTL_S)) for u in users
            ]
    finally:
        engine.dispose()


async def _api_chat(http: httpx.AsyncClient, token: str, index: int, result: DoorResult) -> None:
    question = marker(f"api {index}")
    started = result.sent[question] = time.monotonic()
    try:
        async with http.stream(
            "POST",
            "/api/chat",
            json={"message": question},
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            if response.status_code != 200:
                await response.aread()
                result.errors.append(f"HTTP {response.status_code}: {response.text[:120]}")
                return
            body: list[str] = []
            async for chunk in response.aiter_text():
                if not body:
                    result.starts.append(time.monotonic() - started)
                body.append(chunk)
        text = "".join(body)
        if not text.rstrip().endswith("data: [DONE]") or '"status":"complete"' not in text:
            result.errors.append(f"API chat {index} did not end complete: {text[-160:]!r}")
            return
        result.totals.append(time.monotonic() - started)
    except httpx.HTTPError as exc:
        result.errors.append(f"API chat {index}: {type(exc).__name__}: {exc}")


async def _web_turn(tab: ReflexClient, index: int, result: DoorResult) -> None:
    question = marker(f"web {index}")
    result.sent[question] = time.monotonic()
    reply = await send_and_wait(tab, question, TURN_TIMEOUT_S)
    if reply.done_at is None or reply.first_at is None:
        result.errors.append(f"web turn {index} never ended")
        return
    if reply.text.strip() != REPLY.strip():
        result.errors.append(
            f"web turn {index} showed {len(reply.text)} of {len(REPLY)} characters"
        )
        return
    result.starts.append(reply.first_at - reply.sent_at)
    result.totals.append(reply.done_at - reply.sent_at)


def _rows_left_streaming(database_url: str) -> int:
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as connection:
            table = Message.__table__  # type: ignore[attr-defined]
            query = sa.select(sa.func.count()).where(
                table.c.status == MessageStatus.STREAMING.value
            )
            return int(connection.execute(query).scalar() or 0)
    finally:
        engine.dispose()


async def _load(
    url: str, users: list[tuple[int, str]], api: int, web: int
) -> dict[str, DoorResult]:
    api_result, web_result = DoorResult(api), DoorResult(web)
    keys = local_storage_keys()
    tabs = [
        ReflexClient(url, storage_keys=keys, local_storage={TOKEN_STORAGE_NAME: token}, origin=url)
        for _, token in users[api : api + web]
    ]
    gate = asyncio.Semaphore(10)

    async def connect(tab: ReflexClient) -> None:
        async with gate:
            await tab.connect("/", timeout=60)

    limits = httpx.Limits(max_connections=api + 10, max_keepalive_connections=api + 10)
    timeout = httpx.Timeout(TURN_TIMEOUT_S, connect=30)
    try:
        await asyncio.gather(*(connect(tab) for tab in tabs))
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout) as http:
            await asyncio.gather(
                *(
                    _api_chat(http, token, i, api_result)
                    for i, (_, token) in enumerate(users[:api])
                ),
                *(_web_turn(tab, i, web_result) for i, tab in enumerate(tabs)),
            )
    finally:
        await close_tabs(tabs)
    return {"api": api_result, "web": web_result}


def main(argv: list[str] | None = None) -> int:
    """Run the load and print the figures; 1 if a target is missed."""
    parser = argparse.ArgumentParser(description="The database pool under load, on MariaDB.")
    parser.add_argument("--api", type=int, default=200, help="parallel /api/chat streams")
    parser.add_argument("--web", type=int, default=100, help="web users sending at once")
    parser.add_argument("--quick", action="store_true", help="20 API chats and 10 web users")
    parser.add_argument(
        "--sqlite", action="store_true", help="on SQLite instead, for comparison (no pool)"
    )
    args = parser.parse_args(argv)
    api, web = (20, 10) if args.quick else (args.api, args.web)
    name, database_url = ("", None) if args.sqlite else create_mysql_database()
    provider = ProviderProcess().start()
    report: dict[str, object] = {"api_chats": api, "web_users": web, "model": MODEL_ID}
    try:
        holder: list[list[tuple[int, str]]] = []
        log = OUTPUT_DIR / "app-pool.log"
        with running_app(
            log,
            seed=lambda config: holder.append(_seed(config, provider.base_url, api + web)),
            database_url=database_url,
        ) as app:
            pids = tree(app.process.pid)
            cpu_before, load_cpu_before = CpuSnapshot.take(pids), time.process_time()
            started = time.monotonic()
            results = asyncio.run(
                _load(app.config.url.replace("localhost", "127.0.0.1"), holder[0], api, web)
            )
            report["seconds"] = round(time.monotonic() - started, 1)
            # Where the time went: CPU of the app and of this load generator over the run.
            report["app_cpu_s"] = round(CpuSnapshot.take(pids).since(cpu_before), 2)
            report["load_generator_cpu_s"] = round(time.process_time() - load_cpu_before, 2)
            report["rows_left_streaming"] = _rows_left_streaming(app.config.database_url)
        # The app logs every wait for a pooled connection (llm_chat.db.WatchedPool).
        waits = [float(m) for m in POOL_WAIT.findall(log.read_text(errors="replace"))]
        report["pool_waits"] = len(waits)
        report["pool_wait_max_s"] = max(waits, default=0.0)
        served = provider.by_question()
        for result in results.values():
            result.match(served)
        report.update({door: result.summary() for door, result in results.items()})
    finally:
        provider.stop()
        if name:
            drop_mysql_database(name)
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    Path(OUTPUT_DIR / "pool.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    # Errors of either door; turns that started late because of the pool (a wait for a
    # connection of a second or more: the start of a turn is a few statements).
    missed = [door for door in ("api", "web") if report[door]["errors"]]  # type: ignore[index]
    if report["pool_wait_max_s"] >= STALL_S:  # type: ignore[operator]
        missed.append("pool stalls")
    if report["rows_left_streaming"]:
        missed.append("rows left streaming")
    print("targets:", "all met" if not missed else f"missed: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
