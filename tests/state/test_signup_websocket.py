"""Sign-up over the websocket: the registration page follows the policy, an invitation's
link makes its account, the admin's sign-up tab is for admins only and shows a link once."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from sqlalchemy.engine import Engine
from sqlmodel import select

from llm_chat.db import session_scope
from llm_chat.models import Invite, Role, User
from llm_chat.services import signup, users
from llm_chat.services.signup import SignupMode, SignupPolicy
from llm_chat.services.users import UserInfo
from llm_chat.state.admin_users import UserAdminState
from llm_chat.state.auth import AuthState, LoginState, RegisterState
from llm_chat.state.signup_admin import INVITE_LINK_FIELD_ID, SignupAdminState
from tests.state.conftest import TabFactory
from tests.state.helpers import PASSWORD, TIMEOUT, make_user, sign_in
from tests.support.reflex_server import ReflexClient


def _make_admin(email: str) -> UserInfo:
    make_user(email)
    with session_scope() as session:
        return users.set_role.within(session, email=email, role=Role.ADMIN)


async def _set_mode(admin: UserInfo, mode: SignupMode) -> None:
    await signup.set_signup_policy(actor=admin, policy=SignupPolicy(mode=mode))


def _form(email: str = "new@example.com") -> dict[str, dict[str, str]]:
    return {
        "form": {
            "email": email,
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "display_name": "New",
        }
    }


def _account(email: str) -> User | None:
    with session_scope() as session:
        user = session.exec(select(User).where(User.email == email)).first()
        if user is not None:
            session.expunge(user)
        return user


def _tokens(tab: ReflexClient) -> list[str]:
    return [v for v in tab.values(AuthState, "auth_token") if v]


async def test_approval_makes_an_account_that_waits(app_db: Engine, open_tab: TabFactory) -> None:
    admin = _make_admin("root@example.com")
    await _set_mode(admin, SignupMode.APPROVAL)
    tab = open_tab()
    await tab.connect("/register")
    assert tab.get(RegisterState, "signup_mode") == "approval"
    assert tab.get(RegisterState, "form_open") is True
    await tab.call(
        RegisterState.register,
        _form(),
        until=lambda t: t.get(RegisterState, "registered_pending") is True,
        timeout=TIMEOUT,
    )
    assert tab.get(RegisterState, "form_open") is False
    assert _tokens(tab) == []
    assert tab.frontend_events("_redirect") == []
    stored = _account("new@example.com")
    assert stored is not None
    assert (stored.is_active, stored.pending_approval) == (False, True)

    # The admin finds it among the accounts waiting and approves it; it signs in then.
    console = open_tab()
    await sign_in(console, "root@example.com")
    await console.navigate("/admin")
    await console.call(
        UserAdminState.show_pending,
        {"only": True},
        until=lambda t: (
            [u["email"] for u in t.get(UserAdminState, "users") or []] == ["new@example.com"]
        ),
    )
    (row,) = console.get(UserAdminState, "users")
    assert row["pending"] is True
    await console.call(
        UserAdminState.approve,
        {"user_id": row["id"]},
        until=lambda t: t.get(UserAdminState, "notice_key") == "admin.user_approved",
    )
    assert console.get(UserAdminState, "users") == []
    since = len(tab.visited)
    await tab.navigate("/login")
    await tab.emit(LoginState.sign_in, {"form": {"email": "new@example.com", "password": PASSWORD}})
    await tab.wait_redirected("/", since=since, timeout=TIMEOUT)


async def test_closed_sign_up_shows_no_form_and_makes_nothing(
    app_db: Engine, open_tab: TabFactory
) -> None:
    admin = _make_admin("root@example.com")
    await _set_mode(admin, SignupMode.CLOSED)
    tab = open_tab()
    await tab.connect("/register")
    assert tab.get(RegisterState, "form_open") is False
    # A crafted event is refused by the service all the same.
    await tab.call(
        RegisterState.register,
        _form(),
        until=lambda t: t.get(RegisterState, "error_key") == "auth.signup_closed",
        timeout=TIMEOUT,
    )
    assert _account("new@example.com") is None
    assert _tokens(tab) == []


async def test_an_invitation_link_makes_its_account_and_signs_in(
    app_db: Engine, open_tab: TabFactory
) -> None:
    _make_admin("root@example.com")
    console = open_tab()
    await sign_in(console, "root@example.com")
    await console.navigate("/admin")
    await console.call(
        SignupAdminState.save_policy,
        {"form": {"mode": "closed", "invite_days": "5"}},
        until=lambda t: t.get(SignupAdminState, "notice_key") == "admin.saved",
    )
    assert (await signup.signup_policy()) == SignupPolicy(mode=SignupMode.CLOSED, invite_days=5)
    await console.call(
        SignupAdminState.invite,
        {"form": {"email": "Ivy@Example.com", "role": "admin"}},
        until=lambda t: bool(t.frontend_events("_set_value")),
    )
    shown = console.frontend_events("_set_value")[0]
    assert shown["payload"]["ref"] == "ref_" + INVITE_LINK_FIELD_ID.replace("-", "_")
    link = urlparse(shown["payload"]["value"])
    (token,) = parse_qs(link.query)["invite"]
    # The link's token is only in the event that fills in the field, never in the state.
    assert sum(token in str(frame.data) for frame in console.frames) == 1
    assert console.get(SignupAdminState, "link_for") == "ivy@example.com"
    assert [i["email"] for i in console.get(SignupAdminState, "invites")] == ["ivy@example.com"]

    guest = open_tab()
    await guest.connect(f"{link.path}?{link.query}")
    assert guest.get(RegisterState, "invite_email") == "ivy@example.com"
    assert guest.get(RegisterState, "form_open") is True
    since = len(guest.visited)
    await guest.emit(RegisterState.register, _form("someone.else@example.com"))
    await guest.wait_redirected("/", since=since, timeout=TIMEOUT)
    assert guest.get(AuthState, "user_email") == "ivy@example.com"
    assert guest.get(AuthState, "is_admin") is True
    assert _account("someone.else@example.com") is None

    # Used: the same link shows why it no longer works.
    again = open_tab()
    await again.connect(f"{link.path}?{link.query}")
    assert again.get(RegisterState, "error_key") == "auth.invite_invalid"
    assert again.get(RegisterState, "form_open") is False


async def test_a_user_cannot_use_the_sign_up_tab(app_db: Engine, open_tab: TabFactory) -> None:
    _make_admin("root@example.com")
    make_user("mal@example.com")
    tab = open_tab()
    await sign_in(tab, "mal@example.com")
    for handler, payload in (
        (SignupAdminState.open_tab, {"tab": "signup"}),
        (SignupAdminState.save_policy, {"form": {"mode": "open", "invite_days": "90"}}),
        (SignupAdminState.invite, {"form": {"email": "pal@example.com", "role": "admin"}}),
        (SignupAdminState.revoke, {"invite_id": 1}),
    ):
        await tab.emit(handler, payload)
    await tab.wait_for(lambda t: len(t.frontend_events("_redirect")) >= 4, timeout=TIMEOUT)
    assert not tab.frontend_events("_set_value")
    assert (await signup.signup_policy()) == SignupPolicy()
    with session_scope() as session:
        assert session.exec(select(Invite)).first() is None
