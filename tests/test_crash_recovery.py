"""A crash mid-reply: after ``kill -9`` of the app, its next start ends the reply
``interrupted`` at once, keeping the text its last checkpoint saved.

The app runs as ``reflex run --env prod`` (see ``tests/support/app_process.py``) on a SQLite
database, with the loopback provider in this process.
"""

from __future__ import annotations

import shutil
import signal
import time
from collections.abc import Iterator

import httpx
import pytest

from llm_chat.db import create_db_engine, session_scope
from llm_chat.models import Message, MessageStatus
from llm_chat.security import SecretBox, create_token
from llm_chat.services import users
from tests.fake_provider import FakeProvider
from tests.support.app_process import (
    AppConfig,
    _signal_all,
    descendants,
    prepare,
    start_app,
    wait_until_serving,
)
from tests.support.browser import OUTPUT_DIR
from tests.support.factories import add_model

pytestmark = [pytest.mark.slow]

# 400 tokens 20 ms apart: eight seconds of reply, checkpointed every three.
MODEL_ID = "fake?tokens=400&delay=0.02"


@pytest.fixture
def config() -> Iterator[AppConfig]:
    """The app's configuration and data, kept across its two starts."""
    prepared = prepare(OUTPUT_DIR / "app-crash.log")
    yield prepared
    shutil.rmtree(prepared.data_dir, ignore_errors=True)


def _seed(config: AppConfig, provider: FakeProvider) -> str:
    """The provider, the model and a user; returns the user's session token."""
    engine = create_db_engine(config.database_url)
    try:
        with session_scope(engine) as session:
            add_model(
                session,
                provider.base_url,
                MODEL_ID,
                display_name="Slow",
                api_key="sk-crash",
                box=SecretBox(config.encryption_key),
            )
            user = users.register_user.within(
                session, email="crash@example.com", password="Crash-test-password-1"
            )
        return create_token(user.id, config.jwt_secret, 3600)
    finally:
        engine.dispose()


def _reply(config: AppConfig, reply_id: int) -> Message:
    engine = create_db_engine(config.database_url)
    try:
        with session_scope(engine) as session:
            message = session.get(Message, reply_id)
            assert message is not None
            return message
    finally:
        engine.dispose()


def test_a_reply_cut_by_a_crash_ends_interrupted_when_the_app_starts_again(
    config: AppConfig,
) -> None:
    with FakeProvider() as provider:
        token = _seed(config, provider)
        app = start_app(config)
        try:
            wait_until_serving(app)
            url = f"http://127.0.0.1:{app.port}"
            started = time.monotonic()
            with (
                httpx.Client(base_url=url, timeout=30) as http,
                http.stream(
                    "GET",
                    "/api/chat/stream",
                    params={"message": "A long answer, please"},
                    headers={"Authorization": f"Bearer {token}"},
                ) as response,
            ):
                assert response.status_code == 200
                # Read (without closing the stream: a client that leaves ends the reply)
                # until the reply has been checkpointed.
                lines, reply_id = response.iter_lines(), 0
                while time.monotonic() - started < 4 or not reply_id:
                    line = next(lines)
                    if line.startswith('data: {"conversation_id"'):
                        reply_id = int(line.split('"reply_message_id":')[1].split(",")[0])
                # The whole app dies at once, mid-reply: no shutdown, no saving.
                tree = [app.process.pid, *descendants(app.process.pid)]
                _signal_all(tree, app.process.pid, signal.SIGKILL)
                app.process.wait(timeout=10)
            cut = _reply(config, reply_id)
            assert cut.status == MessageStatus.STREAMING
            assert cut.content  # a checkpoint's text
        finally:
            app.stop()

        # The next start closes it before serving anyone: no "still being written".
        again = start_app(config)
        try:
            wait_until_serving(again)
            closed = _reply(config, reply_id)
            assert (closed.status, closed.error) == (
                MessageStatus.INTERRUPTED,
                "provider.interrupted",
            )
            assert closed.content == cut.content
        finally:
            again.stop()
