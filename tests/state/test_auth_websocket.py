"""Registration and sign-in through the real state handlers, over Reflex's websocket."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from llm_chat.config import get_settings
from llm_chat.db import session_scope
from llm_chat.models import Role
from llm_chat.security import create_token, decode_token
from llm_chat.services import sessions, users
from llm_chat.state.auth import AuthState, LoginState, RegisterState
from llm_chat.state.chat import ChatState
from tests.fake_provider import FakeProvider
from tests.state.conftest import TabFactory
from tests.state.helpers import (
    PASSWORD,
    TIMEOUT,
    conversations_of,
    make_model,
    make_provider,
    make_user,
    sign_in,
)
from tests.support.reflex_server import ReflexClient, storage_key

TOKEN_STORAGE_NAME = "llm_chat_token"


def tokens_sent(tab: ReflexClient) -> list[str]:
    """Every non-empty ``auth_token`` value the back end sent to ``tab``."""
    return [v for v in tab.values(AuthState, "auth_token") if v]


async def test_register_then_sign_in(app_db: Engine, open_tab: TabFactory) -> None:
    # Register on /register: the token arrives in a delta, the browser keeps it, "/" loads.
    tab = open_tab()
    await tab.connect("/register")
    assert tab.get(AuthState, "signed_in") is False
    since = len(tab.visited)
    await tab.emit(
        RegisterState.register,
        {
            "form": {
                "email": "Ada@Example.com",
                "password": PASSWORD,
                "password_confirm": PASSWORD,
                "display_name": "Ada",
            }
        },
    )
    await tab.wait_redirected("/", since=since, timeout=TIMEOUT)
    [token] = set(tokens_sent(tab))
    claims = decode_token(token, get_settings().jwt_secret)
    assert claims.user_id > 0
    assert tab.local_storage[TOKEN_STORAGE_NAME] == token
    assert tab.get(AuthState, "signed_in") is True
    assert tab.get(AuthState, "user_email") == "ada@example.com"
    assert tab.get(AuthState, "user_name") == "Ada"
    assert tab.get(ChatState, "error_key") == ""

    # A second tab of the same browser is signed in by the stored token alone.
    second = open_tab(local_storage=tab.local_storage)
    await second.connect("/")
    assert second.visited == ["/"]
    assert second.get(AuthState, "signed_in") is True
    assert second.get(AuthState, "user_email") == "ada@example.com"
    assert set(tokens_sent(second)) == {token}  # its own stored value, echoed

    # Another browser: the wrong password is refused and no token is sent.
    other = open_tab()
    await other.connect("/login")
    await other.call(
        LoginState.sign_in,
        {"form": {"email": "ada@example.com", "password": PASSWORD + "x"}},
        until=lambda t: (
            t.get(LoginState, "error_key") == "auth.bad_credentials"
            and t.get(LoginState, "busy") is False
        ),
        timeout=TIMEOUT,
    )
    assert tokens_sent(other) == []
    assert other.frontend_events("_redirect") == []
    assert other.get(AuthState, "signed_in") is False
    assert TOKEN_STORAGE_NAME not in other.local_storage

    # The right password signs in: a fresh token, then the chat page.
    since = len(other.visited)
    await other.emit(
        LoginState.sign_in, {"form": {"email": "ada@example.com", "password": PASSWORD}}
    )
    await other.wait_redirected("/", since=since, timeout=TIMEOUT)
    [fresh] = set(tokens_sent(other))
    assert decode_token(fresh, get_settings().jwt_secret).user_id == claims.user_id
    assert other.get(LoginState, "error_key") == ""
    assert other.get(AuthState, "signed_in") is True


async def test_register_refuses_bad_input(sqlite_db: Engine, open_tab: TabFactory) -> None:
    make_user("taken@example.com")
    tab = open_tab()
    await tab.connect("/register")
    cases = [
        ({"password_confirm": PASSWORD + "!"}, "auth.password_mismatch"),
        ({"email": "taken@example.com"}, "auth.email_taken"),
        ({"password": "short", "password_confirm": "short"}, "auth.password_too_short"),
    ]
    for change, code in cases:
        form = {
            "email": "new@example.com",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            **change,
        }
        await tab.call(
            RegisterState.register,
            {"form": form},
            until=lambda t, code=code: t.get(LoginState, "error_key") == code,
            timeout=TIMEOUT,
        )
    assert tokens_sent(tab) == []
    assert tab.frontend_events("_redirect") == []


async def test_forged_or_foreign_token_is_refused(sqlite_db: Engine, open_tab: TabFactory) -> None:
    user = make_user("eve@example.com")
    forged = create_token(user.id, "x" * 48, 3600)  # right shape, wrong secret
    tab = open_tab(local_storage={TOKEN_STORAGE_NAME: forged})
    await tab.connect("/")
    await tab.wait_for(lambda t: "/login" in t.visited and t.idle, timeout=TIMEOUT)
    assert tab.get(AuthState, "signed_in") is False
    assert tab.get(AuthState, "user_email") == ""
    assert tab.get(ChatState, "conversations") == []

    # A valid token pushed later (update_vars_internal) is verified on use and accepted.
    good = create_token(user.id, get_settings().jwt_secret, 3600)
    await tab.set_local_storage(AuthState, "auth_token", good)
    await tab.navigate("/")
    assert tab.get(AuthState, "signed_in") is True
    assert tab.get(AuthState, "user_email") == "eve@example.com"
    assert storage_key(ChatState, "auth_token") in tab.storage_keys


async def test_sign_out_forgets_the_token(sqlite_db: Engine, open_tab: TabFactory) -> None:
    make_user("sam@example.com")
    tab = open_tab()
    await sign_in(tab, "sam@example.com")
    assert tab.local_storage[TOKEN_STORAGE_NAME]
    since = len(tab.visited)
    await tab.emit(AuthState.sign_out)
    await tab.wait_redirected("/login", since=since, timeout=TIMEOUT)
    assert tab.local_storage[TOKEN_STORAGE_NAME] == ""
    assert tab.get(AuthState, "signed_in") is False


async def test_a_signed_out_token_is_refused_everywhere(
    sqlite_db: Engine, open_tab: TabFactory
) -> None:
    make_user("una@example.com")
    tab = open_tab()
    await sign_in(tab, "una@example.com")
    token = tab.local_storage[TOKEN_STORAGE_NAME]
    since = len(tab.visited)
    await tab.emit(AuthState.sign_out)
    await tab.wait_redirected("/login", since=since, timeout=TIMEOUT)

    # A copy of the token (another device, or stolen) no longer signs anyone in.
    copy = open_tab(local_storage={TOKEN_STORAGE_NAME: token})
    await copy.connect("/")
    await copy.wait_for(lambda t: "/login" in t.visited and t.idle, timeout=TIMEOUT)
    assert copy.get(AuthState, "signed_in") is False
    assert copy.get(AuthState, "user_email") == ""


async def test_a_revoked_token_cannot_start_a_turn(
    sqlite_db: Engine, provider: FakeProvider, open_tab: TabFactory
) -> None:
    admin = make_user("vic@example.com")
    with session_scope() as session:
        admin = users.set_role.within(session, email="vic@example.com", role=Role.ADMIN)
    user = make_user("wes@example.com")
    make_model(make_provider(provider), "fake?tokens=5")
    tab = open_tab()
    await sign_in(tab, "wes@example.com")
    with session_scope() as session:
        sessions.sign_out_everywhere.within(session, actor=admin, user_id=user.id)

    since = len(tab.visited)
    await tab.emit(ChatState.send, {"form": {"message": "Still there?"}})
    await tab.wait_redirected("/login", since=since, timeout=TIMEOUT)
    assert tab.get(AuthState, "signed_in") is False
    assert conversations_of(user.id) == []
    assert provider.chat_requests == []


async def test_sign_in_is_refused_for_a_while_after_five_failures(
    sqlite_db: Engine, open_tab: TabFactory
) -> None:
    make_user("yan@example.com")
    tab = open_tab()
    await tab.connect("/login")
    for password in [PASSWORD + "x"] * 5 + [PASSWORD]:
        mark = len(tab.frames)
        await tab.call(
            LoginState.sign_in,
            {"form": {"email": "yan@example.com", "password": password}},
            until=lambda t, mark=mark: t.values(LoginState, "busy", since=mark)[-1:] == [False],
            timeout=TIMEOUT,
        )
    # The right password, during the lock: refused, saying how long to wait.
    assert tab.get(LoginState, "error_key") == "auth.too_many_attempts"
    assert tab.get(LoginState, "retry_minutes") == 1
    assert tokens_sent(tab) == []
    assert tab.frontend_events("_redirect") == []
