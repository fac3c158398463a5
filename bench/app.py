"""The real app for the benchmarks: ``reflex run --env prod`` with a seeded database.

The database is seeded through the services before the start (users, the loopback provider,
three models, conversations with 20/50 prior turns and one with thousands of messages). Users
are signed in with a token minted with the app's own secret, as a sign-in would store it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from bench.config import BenchConfig
from bench.procstat import CpuSnapshot, Memory, command_line, tree
from llm_chat import config as config_module
from llm_chat import db as db_module
from llm_chat.db import create_db_engine, session_scope
from llm_chat.models import Message, MessageRole, MessageStatus, User
from llm_chat.security import SecretBox, create_token
from llm_chat.services import catalog, conversations, users
from llm_chat.services.access import SYSTEM
from tests.fake_provider import generated_tokens
from tests.support.app_process import AppConfig, RunningApp, running_app
from tests.support.factories import save_turns

PASSWORD = "Bench-walnut-harbor-42"  # noqa: S105 (throwaway accounts of a temporary database)
TOKEN_TTL_S = 24 * 3600
#: localStorage name of the app's session token (``AuthState.auth_token``).
TOKEN_STORAGE_NAME = "llm_chat_token"  # noqa: S105 (a storage key, not a secret)
STREAM_MODEL_NAME = "Bench stream"
FAST_MODEL_NAME = "Bench full speed"
SHORT_MODEL_NAME = "Bench short"
_SETTINGS_VARS = (
    "LLM_CHAT_DATA_DIR",
    "LLM_CHAT_DATABASE_URL",
    "LLM_CHAT_JWT_SECRET",
    "LLM_CHAT_ENCRYPTION_KEY",
)


@dataclass(frozen=True)
class BenchUser:
    """A seeded account and a session token for it."""

    id: int
    email: str
    token: str


@dataclass
class Seeded:
    """What the database holds before the app starts."""

    models: dict[str, int] = field(default_factory=dict)  # "stream" | "fast" | "short" -> id
    main: BenchUser | None = None  # one browser user, signs in through the form
    crowd: list[BenchUser] = field(default_factory=list)  # concurrent browser users
    protocol: list[BenchUser] = field(default_factory=list)  # protocol-level users
    history_user: BenchUser | None = None  # protocol user of the bytes-vs-history runs
    # (model key, prior turns) -> conversation of `main`; ("proto-fast", turns) of history_user.
    conversations: dict[tuple[str, int], int] = field(default_factory=dict)
    big_conversation: int = 0
    big_marker: str = ""

    def user(self, which: BenchUser | None) -> BenchUser:
        """``which``, which must have been seeded."""
        assert which is not None, "not seeded"
        return which


def isolate_settings() -> None:
    """Give this process settings of its own (never the developer's ``.data``)."""
    if "LLM_CHAT_DATA_DIR" not in os.environ:
        data_dir = tempfile.mkdtemp(prefix="llm-chat-bench-")
        atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
        os.environ["LLM_CHAT_DATA_DIR"] = data_dir
    os.environ.setdefault("LLM_CHAT_JWT_SECRET", secrets.token_urlsafe(48))
    os.environ.setdefault("LLM_CHAT_ENCRYPTION_KEY", secrets.token_urlsafe(48))
    _clear_caches()


def _clear_caches() -> None:
    config_module.get_settings.cache_clear()
    db_module.get_engine.cache_clear()
    catalog.default_box.cache_clear()


@contextlib.contextmanager
def app_settings(config: AppConfig) -> Iterator[None]:
    """Use the app's database and secrets in this process for a while (e.g. to seed it)."""
    saved = {name: os.environ.get(name) for name in _SETTINGS_VARS}
    os.environ.update(
        LLM_CHAT_DATA_DIR=str(config.data_dir),
        LLM_CHAT_DATABASE_URL=config.database_url,
        LLM_CHAT_JWT_SECRET=config.jwt_secret,
        LLM_CHAT_ENCRYPTION_KEY=config.encryption_key,
    )
    _clear_caches()
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            db_module.get_engine().dispose()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _clear_caches()


def question(i: int) -> str:
    """A question of the seeded history."""
    return f"History question {i}: tell me more about topic number {i}, please."


def seed_database(config: AppConfig, cfg: BenchConfig, provider_base_url: str) -> Seeded:
    """Fill the app's fresh database through the services; returns what was made."""
    seeded = Seeded()
    reply = "".join(generated_tokens(cfg.reply_tokens))
    engine = create_db_engine(config.database_url)
    with app_settings(config):
        try:
            with session_scope(engine) as session:
                provider = catalog.create_provider.within(
                    session,
                    actor=SYSTEM,
                    name="Bench loopback",
                    kind="custom",
                    base_url=provider_base_url,
                    api_key="sk-bench-unused",
                    box=SecretBox(config.encryption_key),
                )
                for key, name, model_id in (
                    ("stream", STREAM_MODEL_NAME, cfg.stream_model),
                    ("fast", FAST_MODEL_NAME, cfg.fast_model),
                    ("short", SHORT_MODEL_NAME, cfg.short_model),
                ):
                    info = catalog.create_model.within(
                        session,
                        actor=SYSTEM,
                        provider_id=provider.id,
                        display_name=name,
                        model_name=model_id,
                        is_default=key == "stream",
                    )
                    seeded.models[key] = info.id

            # Accounts. bcrypt takes ~0.3 s a hash here: register the first user through the
            # service, then give the many load-test users the same (valid) hash directly.
            with session_scope(engine) as session:
                main = users.register_user.within(
                    session, email="bench-main@example.com", password=PASSWORD
                )
                password_hash = session.get(User, main.id).password_hash  # type: ignore[union-attr]
            seeded.main = _user(config, main.id, main.email)

            def bulk_users(prefix: str, count: int) -> list[BenchUser]:
                with session_scope(engine) as session:
                    made = [
                        User(
                            email=f"{prefix}-{i}@example.com",
                            display_name=f"{prefix} {i}",
                            password_hash=password_hash,
                        )
                        for i in range(count)
                    ]
                    session.add_all(made)
                    session.flush()
                    return [_user(config, u.id or 0, u.email) for u in made]

            seeded.crowd = bulk_users("bench-crowd", cfg.browser_users)
            seeded.protocol = bulk_users("bench-proto", cfg.protocol_users)
            [seeded.history_user] = bulk_users("bench-history", 1)

            # Conversations with prior turns, saved as the app saves them.
            for key in ("stream", "fast"):
                for turns in cfg.turns:
                    if turns:
                        seeded.conversations[(key, turns)] = _conversation_with_turns(
                            engine, seeded.user(seeded.main).id, seeded.models[key], turns, reply
                        )
            for turns in cfg.turns:
                if turns:
                    seeded.conversations[("proto-fast", turns)] = _conversation_with_turns(
                        engine,
                        seeded.user(seeded.history_user).id,
                        seeded.models["fast"],
                        turns,
                        reply,
                    )
            seeded.big_marker = f"END-OF-BIG-CONVERSATION-{secrets.token_hex(4)}"
            seeded.big_conversation = _big_conversation(
                engine, seeded.user(seeded.main).id, seeded.models["stream"], cfg, seeded.big_marker
            )
        finally:
            engine.dispose()
    return seeded


def _user(config: AppConfig, user_id: int, email: str) -> BenchUser:
    token = create_token(user_id, config.jwt_secret, TOKEN_TTL_S)
    return BenchUser(id=user_id, email=email, token=token)


def _conversation_with_turns(
    engine: Engine, user_id: int, model_id: int, turns: int, reply: str
) -> int:
    """A conversation of ``turns`` question/reply pairs, made as the app makes them."""
    return save_turns(
        user_id, model_id, [(question(i), reply) for i in range(turns)], engine=engine
    )


def _big_conversation(
    engine: Engine, user_id: int, model_id: int, cfg: BenchConfig, marker: str
) -> int:
    """A conversation of ``cfg.big_messages`` messages, its last reply ending with ``marker``.

    Written in one transaction: a turn re-reads the whole history on every turn, which
    would take minutes for thousands of messages.
    """
    reply = "".join(generated_tokens(cfg.big_reply_tokens))
    with session_scope(engine) as session:
        conversation_id = conversations.create_conversation(
            session,
            user_id=user_id,
            title="Bench: a very long conversation",
            model_id=model_id,
        )
        pairs = cfg.big_messages // 2
        rows: list[Message] = []
        for i in range(pairs):
            last = i == pairs - 1
            rows.append(
                Message(
                    conversation_id=conversation_id,
                    role=MessageRole.USER.value,
                    content=question(i),
                    status=MessageStatus.COMPLETE.value,
                )
            )
            rows.append(
                Message(
                    conversation_id=conversation_id,
                    role=MessageRole.ASSISTANT.value,
                    content=reply + (f" {marker}" if last else f" (reply {i})"),
                    status=MessageStatus.COMPLETE.value,
                    model_id=model_id,
                )
            )
        session.add_all(rows)
        return conversation_id


@dataclass
class BenchApp:
    """The running app and what its database was seeded with."""

    app: RunningApp
    seeded: Seeded
    cfg: BenchConfig

    @property
    def url(self) -> str:
        """What a browser opens (the built front end names the back end ``localhost``)."""
        return self.app.url

    @property
    def loopback_url(self) -> str:
        """The same server by IP, for the protocol-level clients."""
        return f"http://127.0.0.1:{self.app.port}"

    def pids(self) -> list[int]:
        """Every process of the app (``reflex run`` and everything it started)."""
        return tree(self.app.process.pid)

    def cpu(self) -> CpuSnapshot:
        """CPU time of the app's processes now."""
        return CpuSnapshot.take(self.pids())

    def memory(self) -> Memory:
        """Memory of the app's processes now."""
        return Memory.of(self.pids())

    def process_names(self) -> list[str]:
        """``pid command`` of each app process (for the report)."""
        return [f"{pid} {command_line(pid)[:120]}" for pid in self.pids()]


@contextlib.contextmanager
def bench_app(cfg: BenchConfig, provider_base_url: str, log_path: Path) -> Iterator[BenchApp]:
    """Seed, start and (on exit) stop the app."""
    holder: list[Seeded] = []

    def seed(config: AppConfig) -> None:
        holder.append(seed_database(config, cfg, provider_base_url))

    with running_app(log_path, seed=seed) as running:
        yield BenchApp(app=running, seeded=holder[0], cfg=cfg)
