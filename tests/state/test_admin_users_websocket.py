"""The admin page's users tab over the websocket: admins only, and the changes reach the
user on their very next event, with a page open and a valid token."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import select

from llm_chat.db import session_scope
from llm_chat.models import Role, User
from llm_chat.services import users
from llm_chat.state.admin_users import PASSWORD_FIELD_ID, UserAdminState
from llm_chat.state.auth import AuthState, LoginState
from tests.state.conftest import TabFactory
from tests.state.helpers import TIMEOUT, make_user, sign_in
from tests.support.reflex_server import ReflexClient


def _make_admin(email: str) -> None:
    make_user(email)
    with session_scope() as session:
        users.set_role.within(session, email=email, role=Role.ADMIN)


def _stored(email: str) -> User:
    with session_scope() as session:
        user = session.exec(select(User).where(User.email == email)).one()
        session.expunge(user)
        return user


def _row(tab: ReflexClient, email: str) -> dict:
    return next(u for u in tab.get(UserAdminState, "users") if u["email"] == email)


async def test_a_user_cannot_use_the_users_tab(app_db: Engine, open_tab: TabFactory) -> None:
    victim = make_user("vic@example.com")
    make_user("mal@example.com")
    tab = open_tab()
    await sign_in(tab, "mal@example.com")
    for handler, payload in (
        (UserAdminState.load_users, {}),
        (UserAdminState.change_role, {"user_id": victim.id, "role": "admin"}),
        (UserAdminState.set_active, {"user_id": victim.id, "active": False}),
        (UserAdminState.confirm_reset, {"user_id": victim.id}),
        (UserAdminState.confirm_delete, {"user_id": victim.id}),
        (UserAdminState.sign_out_everywhere, {"user_id": victim.id}),
    ):
        await tab.emit(handler, payload)
    await tab.wait_for(lambda t: len(t.frontend_events("_redirect")) >= 7, timeout=TIMEOUT)
    assert tab.get(UserAdminState, "users") in (None, [])
    stored = _stored("vic@example.com")
    assert (stored.role, stored.is_active, stored.token_version) == ("user", True, 0)
    assert not tab.frontend_events("_set_value")


async def test_changes_reach_the_user_at_their_next_event(
    app_db: Engine, open_tab: TabFactory
) -> None:
    _make_admin("root@example.com")
    make_user("una@example.com")
    admin, user = open_tab(), open_tab()
    await sign_in(admin, "root@example.com")
    await sign_in(user, "una@example.com")
    await admin.navigate("/admin")
    await admin.call(
        UserAdminState.find,
        {"form": {"search": "una"}},
        until=lambda t: (
            [u["email"] for u in t.get(UserAdminState, "users") or []] == ["una@example.com"]
        ),
    )
    una = _row(admin, "una@example.com")

    # Promoted: the user's page shows the admin link at once on the next event.
    await admin.call(
        UserAdminState.change_role,
        {"user_id": una["id"], "role": "admin"},
        until=lambda t: _row(t, "una@example.com")["role"] == "admin",
    )
    await user.navigate("/")
    assert user.get(AuthState, "is_admin") is True

    # A generated password is shown once, through the page, never as a var.
    await admin.call(
        UserAdminState.confirm_reset,
        {"user_id": una["id"]},
        until=lambda t: bool(t.frontend_events("_set_value")),
    )
    (shown,) = admin.frontend_events("_set_value")
    assert shown["payload"]["ref"] == "ref_" + PASSWORD_FIELD_ID.replace("-", "_")
    password = shown["payload"]["value"]
    assert len(password) >= 16
    # Only in the event that fills in the field: never in a delta of the state.
    assert sum(password in str(frame.data) for frame in admin.frames) == 1
    # The reset ended the user's session: the next event sends them to sign in.
    since = len(user.visited)
    await user.navigate("/")
    await user.wait_for(lambda t: "/login" in t.visited[since:], timeout=TIMEOUT)
    since = len(user.visited)
    await user.emit(
        LoginState.sign_in, {"form": {"email": "una@example.com", "password": password}}
    )
    await user.wait_redirected("/", since=since, timeout=TIMEOUT)

    # Disabled: refused at the next event, with the page open and a valid token.
    await admin.call(
        UserAdminState.set_active,
        {"user_id": una["id"], "active": False},
        until=lambda t: _row(t, "una@example.com")["active"] is False,
    )
    since = len(user.visited)
    await user.navigate("/settings")
    # (the redirect's page may load before the page it redirected from counts as loaded)
    await user.wait_for(lambda t: "/login" in t.visited[since:], timeout=TIMEOUT)

    # Deleted: gone from the list and from the database.
    await admin.call(
        UserAdminState.confirm_delete,
        {"user_id": una["id"]},
        until=lambda t: t.get(UserAdminState, "notice_key") == "admin.user_deleted",
    )
    assert [u["email"] for u in admin.get(UserAdminState, "users")] == []
