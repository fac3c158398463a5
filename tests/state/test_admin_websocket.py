"""Admin handlers over Reflex's websocket: only admins change the catalog, users see it live."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from llm_chat.db import session_scope
from llm_chat.models import AuditEntry, ChatModel, Provider, Role
from llm_chat.services import catalog, users
from llm_chat.services.access import SYSTEM
from llm_chat.state.admin import AdminState
from llm_chat.state.audit import AuditState
from llm_chat.state.chat import ChatState
from tests.fake_provider import FakeProvider
from tests.state.conftest import TabFactory
from tests.state.helpers import TIMEOUT, make_model, make_provider, make_user, offered, sign_in


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
    assert [m["name"] for m in offered(user)] == ["First"]

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
    await user.wait_for(lambda t: [m["name"] for m in offered(t)] == ["Second"])
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


KEY = "sk-ws-SECRET-4242"
HEADER_SECRET = "ws-header-SECRET-77"


def _catalog_rows() -> tuple[list[Any], list[Any], int]:
    """Every provider and model as stored, and how many audit entries there are."""
    with session_scope() as session:
        providers = [
            (p.id, p.name, p.base_url, p.enabled, p.api_key_encrypted)
            for p in session.exec(select(Provider).order_by(col(Provider.id)))
        ]
        models = [
            (m.id, m.display_name, m.enabled, m.is_default)
            for m in session.exec(select(ChatModel).order_by(col(ChatModel.id)))
        ]
        entries = len(session.exec(select(AuditEntry.id)).all())
    return providers, models, entries


async def test_no_admin_handler_changes_anything_for_a_user(
    app_db: Engine, provider: FakeProvider, open_tab: TabFactory
) -> None:
    provider_id = make_provider(provider, api_key=KEY)
    model_id = make_model(provider_id, "fake-model")
    make_user("mallory@example.com")
    before = _catalog_rows()
    tab = open_tab()
    await sign_in(tab, "mallory@example.com")
    model_form = {"provider_id": str(provider_id), "display_name": "X", "model_name": "x"}
    calls: list[tuple[object, dict[str, object]]] = [
        (AdminState.add_provider, {"form": {"name": "Evil", "base_url": "http://e.test/v1"}}),
        (AdminState.set_provider_enabled, {"provider_id": provider_id, "enabled": False}),
        (AdminState.open_edit_provider, {"provider_id": provider_id}),
        (AdminState.save_provider, {"form": {"name": "Mine", "base_url": "http://e.test/v1"}}),
        (AdminState.ask_delete_provider, {"provider_id": provider_id}),
        (AdminState.confirm_delete_provider, {}),
        (AdminState.add_model, {"form": model_form}),
        (AdminState.open_edit_model, {"model_id": model_id}),
        (AdminState.save_model, {"form": model_form}),
        (AdminState.set_model_enabled, {"model_id": model_id, "enabled": False}),
        (AdminState.make_default, {"model_id": model_id}),
        (AdminState.ask_delete_model, {"model_id": model_id}),
        (AdminState.confirm_delete_model, {}),
        (AdminState.test_connection, {"provider_id": provider_id}),
    ]
    for handler, payload in calls:
        await tab.emit(handler, payload)  # type: ignore[arg-type]
    await tab.emit(AdminState.import_picked_models, {})
    # Events of a tab run in order: once the last one answered, the others have run (the
    # connection test in the background: it said it ran, then that it stopped).
    await tab.emit(AuditState.apply_filter, {"form": {"actor": "", "target_type": "all"}})
    await tab.wait_for(lambda t: t.get(AuditState, "error_key") == "admin.only_admins")
    await tab.wait_for(lambda t: t.values(AdminState, "check_running")[-2:] == [True, False])
    assert tab.get(AdminState, "error_key") in {"admin.only_admins", "admin.nothing_to_import"}
    assert tab.get(AuditState, "entries") in (None, [])
    assert tab.get(AdminState, "providers") in (None, [])
    assert _catalog_rows() == before
    assert provider.requests == []
    assert KEY not in tab.wire_text


async def test_an_admin_tests_imports_edits_and_reads_the_log_and_no_key_is_sent(
    app_db: Engine, open_tab: TabFactory
) -> None:
    make_user("root@example.com")
    with session_scope() as session:
        users.set_role.within(session, email="root@example.com", role=Role.ADMIN)
    admin = open_tab()
    await sign_in(admin, "root@example.com")
    await admin.navigate("/admin")
    with FakeProvider(api_key=KEY) as fake:
        await admin.emit(AdminState.pick_kind, {"kind": "custom"})
        await admin.emit(
            AdminState.add_provider,
            {
                "form": {
                    "name": "Loopback",
                    "base_url": fake.base_url,
                    "api_key": KEY,
                    "extra_headers": f"X-Gateway: {HEADER_SECRET}",
                    "timeout": "",
                }
            },
        )
        await admin.wait_for(lambda t: len(t.get(AdminState, "providers") or []) == 1)
        [listed] = admin.get(AdminState, "providers")
        assert (listed["has_api_key"], listed["header_names"]) == (True, ["X-Gateway"])

        await admin.emit(AdminState.test_connection, {"provider_id": listed["id"]})
        await admin.wait_for(
            lambda t: (
                t.get(AdminState, "check_running") is False
                and len(t.get(AdminState, "importable") or []) == 3
            ),
            timeout=TIMEOUT,
        )
        assert admin.get(AdminState, "check_models_code") == ""
        # No model yet: the first listed one answered the one-token completion.
        assert admin.get(AdminState, "check_completion_code") == ""
        await admin.emit(AdminState.pick_all_imports, {"on": True})
        await admin.emit(AdminState.toggle_import, {"model_name": "fake-echo", "on": False})
        await admin.emit(AdminState.import_picked_models, {})
        await admin.wait_for(lambda t: t.get(AdminState, "notice_key") == "admin.imported")
        assert sorted(m["model_name"] for m in admin.get(AdminState, "models")) == [
            "fake-model",
            "fake-model-large",
        ]
        assert admin.get(AdminState, "check_provider_id") == 0
        assert fake.requests[-1].headers["x-gateway"] == HEADER_SECRET

    model = next(m for m in admin.get(AdminState, "models") if m["model_name"] == "fake-model")
    await admin.emit(AdminState.open_edit_model, {"model_id": model["id"]})
    await admin.wait_for(lambda t: t.get(AdminState, "edit_model_id") == model["id"])
    assert admin.get(AdminState, "edit_model")["model_name"] == "fake-model"
    await admin.emit(
        AdminState.save_model,
        {
            "form": {
                "provider_id": str(listed["id"]),
                "display_name": "Fast",
                "model_name": "fake-model",
                "price_input": "0.15",
                "price_output": "0.6",
                "role_admin": "on",
                "is_reasoning": "on",
            }
        },
    )
    await admin.wait_for(lambda t: t.get(AdminState, "edit_model_id") == 0)
    edited = next(m for m in admin.get(AdminState, "models") if m["id"] == model["id"])
    assert (edited["display_name"], edited["allowed_roles"], edited["is_reasoning"]) == (
        "Fast",
        ["admin"],
        True,
    )

    # A new base URL without the key again is refused with a clear message.
    await admin.emit(AdminState.open_edit_provider, {"provider_id": listed["id"]})
    await admin.emit(
        AdminState.save_provider,
        {"form": {"name": "Loopback", "base_url": "http://other.test/v1", "kind": "custom"}},
    )
    await admin.wait_for(lambda t: t.get(AdminState, "error_key") == "admin.secrets_for_new_url")
    assert admin.get(AdminState, "edit_provider_id") == listed["id"]

    await admin.emit(AdminState.ask_delete_model, {"model_id": model["id"]})
    await admin.emit(AdminState.confirm_delete_model, {})
    await admin.wait_for(lambda t: len(t.get(AdminState, "models")) == 1)

    await admin.emit(AuditState.open_tab, {"tab": "audit"})
    await admin.wait_for(lambda t: (t.get(AuditState, "total") or 0) >= 5)
    actions = [e["action_key"] for e in admin.get(AuditState, "entries")]
    # The deleted model was the default (the first one added): another one became it.
    assert actions[:3] == [
        "admin.act_model_default",
        "admin.act_model_delete",
        "admin.act_model_update",
    ]
    assert actions[-1] == "admin.act_provider_create"
    await admin.emit(AuditState.apply_filter, {"form": {"actor": "", "target_type": "provider"}})
    await admin.wait_for(lambda t: t.get(AuditState, "total") == 1)
    assert KEY not in admin.wire_text
    assert HEADER_SECRET not in admin.wire_text
