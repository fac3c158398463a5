"""``/api/admin/signup`` and ``/api/admin/invites``: who may create an account, for admins
only (the admin page's sign-up tab)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Path, Request, Response, status
from pydantic import BaseModel, Field

from llm_chat.api.admin_router import admin_router
from llm_chat.api.deps import CurrentUser
from llm_chat.api.schemas import MAX_ID, error_responses
from llm_chat.models import Role
from llm_chat.services import signup
from llm_chat.services.signup import (
    MAX_INVITE_DAYS,
    InviteRow,
    SignupMode,
    SignupPolicy,
    invite_link,
)

router = admin_router()
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
BODY = error_responses(400, 413)


class SignupPolicyIO(BaseModel):
    """Who may create an account: ``open`` (anyone), ``approval`` (anyone, signing in once
    an admin approves the account) or ``closed`` (invitations only); and how many days an
    invitation stays valid."""

    mode: Literal["open", "approval", "closed"]
    invite_days: int = Field(ge=1, le=MAX_INVITE_DAYS)

    @classmethod
    def of(cls, policy: SignupPolicy) -> SignupPolicyIO:
        """The policy as the API shows it."""
        return cls(mode=policy.mode.value, invite_days=policy.invite_days)


class InviteIn(BaseModel):
    """Whom to invite, and the role their account gets."""

    email: str = Field(min_length=3, max_length=255)
    role: Literal["admin", "user"] = "user"


class InviteOut(BaseModel):
    """An invitation not used yet (never its link)."""

    id: int
    email: str
    role: Literal["admin", "user"]
    created_at: datetime
    expires_at: datetime
    usable: bool

    @classmethod
    def of(cls, row: InviteRow) -> InviteOut:
        """The invitation as the API shows it."""
        return cls(
            id=row.id,
            email=row.email,
            role=row.role.value,
            created_at=row.created_at.replace(tzinfo=UTC),
            expires_at=row.expires_at.replace(tzinfo=UTC),
            usable=row.usable,
        )


class NewInviteOut(BaseModel):
    """A new invitation and its link, returned this once (only a hash of it is kept)."""

    invite: InviteOut
    link: str


@router.get("/signup")
async def get_policy(user: CurrentUser) -> SignupPolicyIO:
    """The sign-up policy."""
    return SignupPolicyIO.of(await signup.policy_for_admin(actor=user))


@router.put("/signup", responses=BODY)
async def put_policy(body: SignupPolicyIO, user: CurrentUser) -> SignupPolicyIO:
    """Change the sign-up policy (audited). Accounts waiting for an approval keep waiting."""
    policy = SignupPolicy(mode=SignupMode(body.mode), invite_days=body.invite_days)
    return SignupPolicyIO.of(await signup.set_signup_policy(actor=user, policy=policy))


@router.get("/invites")
async def list_invites(user: CurrentUser) -> list[InviteOut]:
    """The invitations not used yet, newest first (expired ones too)."""
    return [InviteOut.of(row) for row in await signup.list_invites(actor=user)]


@router.post("/invites", status_code=status.HTTP_201_CREATED, responses=BODY)
async def create_invite(body: InviteIn, user: CurrentUser, request: Request) -> NewInviteOut:
    """Invite an email address: the link creates its account once, with ``role``, whatever
    the policy and with no approval. An earlier unused invitation of the address stops
    working."""
    made = await signup.create_invite(actor=user, email=body.email, role=Role(body.role))
    return NewInviteOut(
        invite=InviteOut.of(made.invite), link=invite_link(str(request.base_url), made.token)
    )


@router.delete(
    "/invites/{invite_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404)
)
async def revoke_invite(invite_id: Id, user: CurrentUser) -> Response:
    """Withdraw an unused invitation: its link stops working."""
    await signup.revoke_invite(actor=user, invite_id=invite_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
