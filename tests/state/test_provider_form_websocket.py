"""Test connection in the add-provider form and the edit dialog, over Reflex's websocket: the
values typed are checked before anything is saved, a stored key never goes to a new host, the
key never comes back to the browser, and only admins get a check."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from llm_chat.db import session_scope
from llm_chat.models import AuditEntry, Provider, Role
from llm_chat.services import users
from llm_chat.state.admin import AdminState
from tests.fake_provider import DEFAULT_MODELS, FakeProvider
from tests.state.conftest import TabFactory
from tests.state.helpers import TIMEOUT, make_provider, make_user, sign_in
from tests.support.reflex_server import ReflexClient

KEY = "sk-form-SECRET-1618"


def _check(tab: ReflexClient) -> dict[str, Any]:
    """The form check as the browser holds it ({} while None)."""
    return tab.get(AdminState, "form_check") or {}


async def _submit_check(tab: ReflexClient, handler: Any, form: dict[str, str]) -> None:
    """Click Test connection (its click says so, then the form submits) and wait for the
    check it starts to end."""
    mark = len(tab.frames)
    await tab.emit(AdminState.check_next, {})
    await tab.emit(handler, {"form": form})

    def ended(t: ReflexClient) -> bool:
        shown = t.values(AdminState, "form_check", since=mark)
        return bool(shown) and shown[-1] is not None and shown[-1]["running"] is False

    await tab.wait_for(ended, timeout=TIMEOUT)


def _stored() -> tuple[list[str], int]:
    """The providers' names and how many audit entries there are."""
    with session_scope() as session:
        names = list(session.exec(select(Provider.name)).all())
        entries = len(session.exec(select(AuditEntry.id)).all())
    return sorted(names), entries


async def _admin_tab(open_tab: TabFactory, email: str = "root@example.com") -> ReflexClient:
    make_user(email)
    with session_scope() as session:
        users.set_role.within(session, email=email, role=Role.ADMIN)
    tab = open_tab()
    await sign_in(tab, email)
    await tab.navigate("/admin")
    return tab


async def _test_new(tab: ReflexClient, form: dict[str, str]) -> None:
    """Test connection in the add-provider form."""
    await _submit_check(tab, AdminState.submit_new_provider, form)


async def _test_edit(tab: ReflexClient, form: dict[str, str]) -> None:
    """Test connection in the edit dialog."""
    await _submit_check(tab, AdminState.submit_edit_provider, form)


async def test_an_admin_tests_a_new_provider_then_adds_it_and_imports_what_it_listed(
    app_db: Engine, open_tab: TabFactory
) -> None:
    admin = await _admin_tab(open_tab)
    await admin.emit(AdminState.pick_kind, {"kind": "custom"})
    with FakeProvider(api_key=KEY) as fake:
        form = {"name": "", "base_url": fake.base_url, "api_key": KEY, "timeout": ""}
        await _test_new(admin, form)  # no name yet: a check needs none
        check = _check(admin)
        assert (check["error_key"], check["models_code"], check["completion_code"]) == ("", "", "")
        assert check["listed"] == len(DEFAULT_MODELS)
        assert check["completion_model"] == sorted(DEFAULT_MODELS)[0]
        assert _stored() == ([], 0)  # nothing saved, nothing audited

        await _test_new(admin, {**form, "api_key": "sk-typo"})
        assert _check(admin)["models_code"] == "provider.auth"
        await _test_new(admin, {**form, "base_url": "not a url"})
        assert _check(admin)["error_key"] == "admin.invalid_base_url"
        await _test_new(admin, form)
        requests = len(fake.requests)

        # Add (its click says so): saved, and the models the check listed offered for import.
        await admin.emit(AdminState.save_next, {})
        await admin.emit(AdminState.submit_new_provider, {"form": {**form, "name": "Loopback"}})
        await admin.wait_for(lambda t: t.get(AdminState, "check_provider_id") != 0)
        assert admin.get(AdminState, "notice_key") == "admin.saved"
        assert admin.get(AdminState, "check_provider_name") == "Loopback"
        assert sorted(admin.get(AdminState, "importable")) == sorted(DEFAULT_MODELS)
        assert admin.get(AdminState, "form_check") is None
        assert len(fake.requests) == requests  # offered from the check, asked nothing
        await admin.emit(AdminState.toggle_import, {"model_name": "fake-model", "on": True})
        await admin.emit(AdminState.import_picked_models, {})
        await admin.wait_for(lambda t: t.get(AdminState, "notice_key") == "admin.imported")
    assert [m["model_name"] for m in admin.get(AdminState, "models")] == ["fake-model"]
    assert _stored()[0] == ["Loopback"]
    assert KEY not in admin.wire_text


async def test_the_edit_dialog_tests_its_values_and_keeps_the_stored_key_at_home(
    app_db: Engine, open_tab: TabFactory
) -> None:
    with FakeProvider(api_key=KEY) as home, FakeProvider() as elsewhere:
        provider_id = make_provider(home, name="Saved", api_key=KEY)
        admin = await _admin_tab(open_tab)
        await admin.emit(AdminState.open_edit_provider, {"provider_id": provider_id})
        await admin.wait_for(lambda t: t.get(AdminState, "edit_provider_id") == provider_id)
        form = {"name": "Saved", "kind": "openai", "base_url": home.base_url, "api_key": ""}

        await _test_edit(admin, form)  # the key left empty: the stored one, at its own URL
        assert (_check(admin)["models_code"], _check(admin)["completion_code"]) == ("", "")
        assert home.requests[-1].headers["authorization"] == f"Bearer {KEY}"

        await _test_edit(admin, {**form, "base_url": elsewhere.base_url})
        assert _check(admin)["error_key"] == "admin.secrets_for_new_url"
        assert elsewhere.requests == []
        await _test_edit(admin, {**form, "base_url": elsewhere.base_url, "remove_key": "on"})
        assert _check(admin)["models_code"] == ""
        assert [r.headers["authorization"] for r in elsewhere.requests] == ["Bearer not-needed"] * 2

        # Closing the dialog forgets the check; Save (its click says so) still saves.
        await admin.emit(AdminState.close_edit_provider, {"is_open": False})
        await admin.wait_for(lambda t: t.get(AdminState, "form_check") is None)
        await admin.emit(AdminState.open_edit_provider, {"provider_id": provider_id})
        await admin.wait_for(lambda t: t.get(AdminState, "edit_provider_id") == provider_id)
        await admin.emit(AdminState.save_next, {})
        await admin.emit(AdminState.submit_edit_provider, {"form": {**form, "name": "Renamed"}})
        await admin.wait_for(lambda t: t.get(AdminState, "edit_provider_id") == 0)
    assert _stored() == (["Renamed"], 2)  # created, then renamed: the checks left no entry
    assert KEY not in admin.wire_text


async def test_a_user_gets_no_check(app_db: Engine, open_tab: TabFactory) -> None:
    make_user("mallory@example.com")
    tab = open_tab()
    await sign_in(tab, "mallory@example.com")
    with FakeProvider(api_key=KEY) as fake:
        provider_id = make_provider(fake, name="Saved", api_key=KEY)
        form = {"name": "Evil", "base_url": fake.base_url, "api_key": ""}
        await _test_new(tab, form)
        assert _check(tab)["error_key"] == "admin.only_admins"
        await tab.emit(AdminState.open_edit_provider, {"provider_id": provider_id})
        await tab.emit(AdminState.check_next, {})
        await tab.emit(AdminState.submit_edit_provider, {"form": form})
        await tab.emit(AdminState.submit_new_provider, {"form": form})  # a save
        await tab.wait_for(lambda t: t.get(AdminState, "error_key") == "admin.only_admins")
        assert fake.requests == []
    assert _stored() == (["Saved"], 1)
    assert KEY not in tab.wire_text
