"""The admin page's sign-up tab: the policy, invitations (links shown once) and approvals."""

from __future__ import annotations

import dataclasses

import reflex as rx

from llm_chat.models import Role
from llm_chat.services import signup
from llm_chat.services.signup import InviteRow, SignupMode, SignupPolicy, invite_link
from llm_chat.services.users import UserInfo
from llm_chat.state.admin_tab import AdminTab
from llm_chat.state.auth import AuthState

# The field that shows a new invitation's link once. Its value is set by an event, so the
# link's token never enters the state (which is pickled to disk or Redis).
INVITE_LINK_FIELD_ID = "invite-link"


@dataclasses.dataclass
class InviteItem:
    """A row of the invitation list; times as ``YYYY-MM-DD HH:MM`` (UTC)."""

    id: int
    email: str
    role: str
    created: str
    expires: str
    usable: bool

    @classmethod
    def of(cls, row: InviteRow) -> InviteItem:
        """An invitation as the list shows it."""
        return cls(
            id=row.id,
            email=row.email,
            role=row.role.value,
            created=row.created_at.strftime("%Y-%m-%d %H:%M"),
            expires=row.expires_at.strftime("%Y-%m-%d %H:%M"),
            usable=row.usable,
        )


class SignupAdminState(AdminTab, AuthState):
    """The sign-up policy and the invitations; the services check the admin role each time."""

    mode: str = SignupMode.OPEN.value
    invite_days: int = 7
    invites: list[InviteItem] = []  # noqa: RUF012
    # The address whose new link is on screen (empty: none); the link is never a var.
    link_for: str = ""

    async def _reload(self, actor: UserInfo) -> None:
        policy = await signup.policy_for_admin(actor=actor)
        self.mode, self.invite_days = policy.mode.value, policy.invite_days
        self.invites = [InviteItem.of(row) for row in await signup.list_invites(actor=actor)]

    @rx.event
    async def open_tab(self, tab: str):
        """The admin page's tab changed: load this one when it is shown."""
        if tab != "signup":
            return None
        self.error_key = self.notice_key = ""
        return await self._apply(self._reload, "")

    @rx.event
    def set_mode(self, mode: str) -> None:
        """The policy the form shows (stored by :meth:`save_policy`)."""
        if mode in {m.value for m in SignupMode}:
            self.mode = mode

    @rx.event
    async def save_policy(self, form: dict[str, str]):
        """Store the policy of the form."""
        mode = str(form.get("mode", self.mode))
        try:
            days = int(str(form.get("invite_days", self.invite_days)))
        except ValueError:
            days = 0
        if mode not in {m.value for m in SignupMode}:
            self.error_key = "admin.invalid_setting"
            return None

        async def save(actor: UserInfo) -> None:
            policy = SignupPolicy.model_construct(mode=SignupMode(mode), invite_days=days)
            await signup.set_signup_policy(actor=actor, policy=policy)

        return await self._apply(save, "admin.saved")

    @rx.event
    async def invite(self, form: dict[str, str]):
        """Invite the form's address with its role; show the link once."""
        role = str(form.get("role", Role.USER.value))
        if role not in {r.value for r in Role}:
            return None
        email = str(form.get("email", ""))[:255]
        made: list[signup.NewInvite] = []

        async def create(actor: UserInfo) -> None:
            made.append(await signup.create_invite(actor=actor, email=email, role=Role(role)))

        redirect = await self._apply(create, "")
        if redirect is not None or not made:
            return redirect
        self.link_for = made[0].invite.email
        return [
            rx.set_value(INVITE_LINK_FIELD_ID, invite_link(self.router.url.origin, made[0].token)),
            rx.set_value("invite-email", ""),
        ]

    @rx.event
    def dismiss_link(self):
        """Hide the new link and wipe it from the page."""
        self.link_for = ""
        return rx.set_value(INVITE_LINK_FIELD_ID, "")

    @rx.event
    async def revoke(self, invite_id: int):
        """Withdraw an invitation: its link stops working."""
        return await self._apply(
            lambda actor: signup.revoke_invite(actor=actor, invite_id=invite_id),
            "admin.invite_revoked",
        )
