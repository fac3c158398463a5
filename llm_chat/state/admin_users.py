"""The admin page's users tab: find accounts, change roles, disable, reset, delete."""

from __future__ import annotations

import dataclasses

import reflex as rx

from llm_chat.models import Role
from llm_chat.services import sessions, user_admin
from llm_chat.services.user_admin import UserRow
from llm_chat.services.users import UserInfo
from llm_chat.state.admin_tab import AdminTab
from llm_chat.state.auth import AuthState

PAGE_SIZE = 25
# The field that shows a generated password once. Its value is set by an event, so the
# password never enters the state (which is pickled to disk or Redis).
PASSWORD_FIELD_ID = "generated-password"  # noqa: S105  (an element id)


@dataclasses.dataclass
class UserItem:
    """A row of the user list; ``created`` as ``YYYY-MM-DD``."""

    id: int
    email: str
    name: str
    role: str
    active: bool
    created: str
    # Waits for an admin's approval (signed up while approval was required).
    pending: bool = False

    @classmethod
    def of(cls, row: UserRow) -> UserItem:
        """An account as the list shows it."""
        return cls(
            id=row.id,
            email=row.email,
            name=row.display_name,
            role=row.role.value,
            active=row.is_active,
            created=row.created_at.strftime("%Y-%m-%d"),
            pending=row.pending_approval,
        )


class UserAdminState(AdminTab, AuthState):
    """The user list and its actions; the services check the admin role on every call."""

    users: list[UserItem] = []  # noqa: RUF012
    total: int = 0
    search: str = ""
    offset: int = 0
    # Only the accounts waiting for an approval.
    pending_only: bool = False
    # The account a confirmation dialog is open for (0: none), and its email.
    delete_id: int = 0
    reset_id: int = 0
    dialog_email: str = ""
    # Whose generated password is on screen (empty: none); the password is never a var.
    password_for: str = ""

    @rx.var
    def page_label(self) -> str:
        """``first-last / total`` of the rows shown."""
        if not self.total:
            return "0"
        return f"{self.offset + 1}–{self.offset + len(self.users)} / {self.total}"

    async def _reload(self, actor: UserInfo) -> None:
        page = await user_admin.list_users(
            actor=actor,
            search=self.search,
            limit=PAGE_SIZE,
            offset=self.offset,
            pending=self.pending_only,
        )
        self.users = [UserItem.of(row) for row in page.users]
        self.total = page.total

    @rx.event
    async def open_tab(self, tab: str):
        """The admin page's tab changed: show the first page when it is this one."""
        if tab == "users":
            return await self.load_users()
        return None

    @rx.event
    async def load_users(self):
        """Show the first page of the list."""
        self.offset = 0
        self.error_key = self.notice_key = ""
        return await self._apply(self._reload, "")

    @rx.event
    async def find(self, form: dict[str, str]):
        """Show the accounts whose email or name contains the form's text."""
        self.search = str(form.get("search", "")).strip()[:100]
        self.offset = 0
        return await self._apply(self._reload, "")

    @rx.event
    async def show_pending(self, only: bool):
        """Show only the accounts waiting for an approval, or every account."""
        self.pending_only = bool(only)
        self.offset = 0
        return await self._apply(self._reload, "")

    @rx.event
    async def approve(self, user_id: int):
        """Let an account that waits for an approval sign in."""
        return await self._apply(
            lambda actor: user_admin.set_active(actor=actor, user_id=user_id, active=True),
            "admin.user_approved",
        )

    @rx.event
    async def next_page(self):
        """The next page of the list."""
        if self.offset + PAGE_SIZE < self.total:
            self.offset += PAGE_SIZE
        return await self._apply(self._reload, "")

    @rx.event
    async def previous_page(self):
        """The previous page of the list."""
        self.offset = max(0, self.offset - PAGE_SIZE)
        return await self._apply(self._reload, "")

    @rx.event
    async def change_role(self, user_id: int, role: str):
        """Make the account an admin or a user."""
        if role not in {r.value for r in Role}:
            return None
        return await self._apply(
            lambda actor: user_admin.set_role(actor=actor, user_id=user_id, role=Role(role)),
            "admin.saved",
        )

    @rx.event
    async def set_active(self, user_id: int, active: bool):
        """Enable or disable the account."""
        return await self._apply(
            lambda actor: user_admin.set_active(actor=actor, user_id=user_id, active=active),
            "admin.saved",
        )

    @rx.event
    async def sign_out_everywhere(self, user_id: int):
        """End every sign-in session of the account."""
        return await self._apply(
            lambda actor: sessions.sign_out_everywhere(actor=actor, user_id=user_id),
            "admin.signed_out_everywhere",
        )

    @rx.event
    def open_delete(self, user_id: int, email: str) -> None:
        """Ask before deleting an account."""
        self.delete_id, self.reset_id, self.dialog_email = user_id, 0, email

    @rx.event
    def open_reset(self, user_id: int, email: str) -> None:
        """Ask before resetting an account's password."""
        self.reset_id, self.delete_id, self.dialog_email = user_id, 0, email

    @rx.event
    def close_dialogs(self, _open: bool = False) -> None:
        """Close the confirmations."""
        self.delete_id = self.reset_id = 0

    @rx.event
    async def confirm_delete(self, user_id: int):
        """Delete the account and all it owns."""
        self.delete_id = 0
        return await self._apply(
            lambda actor: user_admin.delete_user(actor=actor, user_id=user_id), "admin.user_deleted"
        )

    @rx.event
    async def confirm_reset(self, user_id: int):
        """Give the account a generated password and show it once."""
        self.reset_id = 0
        generated: list[str] = []

        async def reset(actor: UserInfo) -> None:
            generated.append(await user_admin.reset_password(actor=actor, user_id=user_id))

        redirect = await self._apply(reset, "")
        if redirect is not None or not generated:
            return redirect
        self.password_for = self.dialog_email
        return rx.set_value(PASSWORD_FIELD_ID, generated[0])

    @rx.event
    def dismiss_password(self):
        """Hide the generated password and wipe it from the page."""
        self.password_for = ""
        return rx.set_value(PASSWORD_FIELD_ID, "")
