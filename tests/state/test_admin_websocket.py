"""Admin handlers over Reflex's websocket: only admins change the catalog, users see it live."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from llm_chat.db import session_scope
from llm_chat.models import Role
from llm_chat.services import catalog, users
from llm_chat.services.access import SYSTEM
from llm_chat.state.admin import AdminState
from llm_chat.state.chat import ChatState
from tests.fake_provider import FakeProvider
from tests.state.conftest import TabFactory
from tests.state.helpers import TIMEOUT, make_model, make_provider, make_user, sign_in


def _provider_names() -> list[str]:
    with session_scope() as session:
        return [p.name for p in catalog.list_providers.within(session, actor=SYSTEM)]


async def test_a_user_cannot_use_admin_handlers(app_db: Engine, open_tab: TabFactory) -> None:
    make_user("mallory@example.com")
    tab = open_tab()
    await sign_in(tab, "mallory@example.com")
    since = len(tab.visited)
    await tab.navigate("/admin")
    await tab.wait_redirected("/", since=since, timeout=TIMEOUT)  # the page sends users away

    # Handlers are public endpoints: calling them directly changes nothing.
    await tab.emit(
        AdminState.add_provider,
        {"form": {"name": "Evil", "base_url": "https://evil.example/v1", "api_key": "k"}},
    )
    await tab.wait_for(lambda t: t.get(AdminState, "error_key") == "admin.only_admins")
    assert _provider_names() == []


async def test_a_model_added_by_an_admin_is_offered_without_restart(
    app_db: Engine, provider: FakeProvider, open_tab: TabFactory
) -> None:
    make_user("ursula@example.com")
    make_user("root@example.com")
    with session_scope() as session:
        users.set_role.within(session, email="root@example.com", role=Role.ADMIN)
    first = make_model(make_provider(provider), "fake-first", display_name="First")

    user = open_tab()
    await sign_in(user, "ursula@example.com")
    assert [m["name"] for m in user.get(ChatState, "models")] == ["First"]

    admin = open_tab()
    await sign_in(admin, "root@example.com")
    await admin.navigate("/admin")
    await admin.wait_for(lambda t: len(t.get(AdminState, "providers") or []) == 1)
    provider_id = admin.get(AdminState, "providers")[0]["id"]
    await admin.emit(
        AdminState.add_model,
        {
            "form": {
                "provider_id": str(provider_id),
                "display_name": "Second",
                "model_name": "fake-second",
                "temperature": "0.3",
                "max_tokens": "256",
            }
        },
    )
    await admin.wait_for(lambda t: t.get(AdminState, "notice_key") == "admin.saved")
    await admin.emit(AdminState.set_model_enabled, {"model_id": first, "enabled": False})
    await admin.wait_for(
        lambda t: (
            [m["enabled"] for m in t.get(AdminState, "models")] == [False, True]
            or [m["enabled"] for m in t.get(AdminState, "models")] == [True, False]
        )
    )

    # The user's next interaction (opening the dropdown) shows the change; no restart.
    await user.emit(ChatState.refresh_models, {"is_open": True})
    await user.wait_for(lambda t: [m["name"] for m in t.get(ChatState, "models")] == ["Second"])
    assert user.get(ChatState, "selected_model") != str(first)

    # Bad input from the admin form gets a clear message and creates nothing.
    await admin.emit(
        AdminState.add_model,
        {
            "form": {
                "provider_id": str(provider_id),
                "display_name": "Third",
                "model_name": "fake-third",
                "temperature": "hot",
            }
        },
    )
    await admin.wait_for(lambda t: t.get(AdminState, "error_key") == "admin.invalid_temperature")
    assert len(admin.get(AdminState, "models")) == 2
