"""Fixtures: the API app in-process, a real server for streaming clients, signed-in users."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from llm_chat.api.app import create_api
from llm_chat.config import get_settings
from llm_chat.security import create_token, hash_password
from llm_chat.services import turns, users
from llm_chat.services.users import UserInfo
from tests.support.factories import make_user, save_turns
from tests.support.reflex_server import ReflexServer


@dataclass(frozen=True)
class Caller:
    """A signed-in user and the headers that authenticate their requests."""

    user: UserInfo
    headers: dict[str, str]


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Accounts made here hash with bcrypt's lowest cost: these tests are about the API;
    hashing is tested in ``tests/test_security.py`` and ``tests/services/test_users.py``."""
    monkeypatch.setattr(users, "hash_password", lambda password: hash_password(password, 4))


def bearer(token: str) -> dict[str, str]:
    """``Authorization`` for ``token``."""
    return {"Authorization": f"Bearer {token}"}


def sign_in(user: UserInfo) -> Caller:
    """The user with a fresh sign-in token, as ``POST /api/auth/token`` would issue."""
    settings = get_settings()
    return Caller(user, bearer(create_token(user.id, settings.jwt_secret, 3600)))


def make_conversation(user_id: int, model_id: int, *questions: str) -> int:
    """A conversation of answered questions (``Answer to <question>``); returns its id."""
    return save_turns(user_id, model_id, [(q, f"Answer to {q}") for q in questions])


@pytest.fixture
def api() -> FastAPI:
    """A fresh API app (without the UI mounted under it)."""
    return create_api()


@pytest.fixture
async def client(app_db: Engine, api: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the API app, in-process, on SQLite and MariaDB."""
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
    await wait_for_replies()


@pytest.fixture
def alice(app_db: Engine) -> Caller:
    """A signed-in user."""
    return sign_in(make_user())


@pytest.fixture
def bob(app_db: Engine) -> Caller:
    """Another signed-in user."""
    return sign_in(make_user())


@pytest.fixture(scope="session")
def api_server() -> Iterator[ReflexServer]:
    """The API app served by uvicorn on 127.0.0.1 (for SDK clients and disconnects)."""
    server = ReflexServer(create_api()).start()
    yield server
    server.stop()


@pytest.fixture
async def live(app_db: Engine, api_server: ReflexServer) -> AsyncIterator[ReflexServer]:
    """The served API, pointed at this test's database; waits for replies to be saved."""
    yield api_server
    await wait_for_replies()


async def wait_for_replies(timeout: float = 15.0) -> None:  # noqa: ASYNC109
    """Let replies whose clients left finish saving before the database goes away."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while turns.running_count():
        if loop.time() > deadline:
            raise TimeoutError("replies still being saved")
        await asyncio.sleep(0.02)
