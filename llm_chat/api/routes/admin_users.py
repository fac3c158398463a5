"""``/api/admin/users``: accounts, for admins only (the admin page's users tab)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Path, Query, Response, status
from pydantic import BaseModel

from llm_chat.api.admin_router import admin_router
from llm_chat.api.deps import CurrentUser
from llm_chat.api.schemas import MAX_ID, error_responses
from llm_chat.models import Role
from llm_chat.services import sessions, user_admin
from llm_chat.services.user_admin import MAX_PAGE, UserRow

router = admin_router("/api/admin/users")
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
NOT_FOUND = error_responses(404)
BODY = error_responses(400, 413)


class AccountOut(BaseModel):
    """An account (never its password hash)."""

    id: int
    email: str
    display_name: str
    role: Literal["admin", "user"]
    is_active: bool
    # Signed up while approval was required and not approved yet (inactive until then).
    pending_approval: bool
    created_at: datetime

    @classmethod
    def of(cls, row: UserRow) -> AccountOut:
        """The account as the API shows it."""
        return cls(
            id=row.id,
            email=row.email,
            display_name=row.display_name,
            role=row.role.value,
            is_active=row.is_active,
            pending_approval=row.pending_approval,
            created_at=row.created_at.replace(tzinfo=UTC),
        )


class AccountPageOut(BaseModel):
    """A page of accounts, newest first."""

    items: list[AccountOut]
    total: int
    limit: int
    offset: int


class AccountPatch(BaseModel):
    """What to change; a field left out stays."""

    role: Literal["admin", "user"] | None = None
    is_active: bool | None = None


class PasswordOut(BaseModel):
    """A generated password, shown this once (only its hash is stored)."""

    password: str


@router.get("")
async def list_accounts(
    user: CurrentUser,
    search: Annotated[str, Query(max_length=100, description="Part of an email or name")] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 25,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    pending: Annotated[bool, Query(description="Only accounts waiting for an approval")] = False,
) -> AccountPageOut:
    """Accounts whose email or name contains ``search``, newest first."""
    page = await user_admin.list_users(
        actor=user, search=search, limit=limit, offset=offset, pending=pending
    )
    return AccountPageOut(
        items=[AccountOut.of(row) for row in page.users],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.patch("/{user_id}", responses={**NOT_FOUND, **BODY})
async def update_account(user_id: Id, body: AccountPatch, user: CurrentUser) -> AccountOut:
    """Change an account's role or enable/disable it; it takes effect on the account's next
    request. Enabling an account that waits for an approval approves it. Nobody may change
    their own account here, nor leave no active admin."""
    if body.role is not None:
        await user_admin.set_role(actor=user, user_id=user_id, role=Role(body.role))
    if body.is_active is not None:
        await user_admin.set_active(actor=user, user_id=user_id, active=body.is_active)
    return AccountOut.of(await user_admin.get_user(actor=user, user_id=user_id))


@router.post("/{user_id}/reset-password", responses=NOT_FOUND)
async def reset_password(user_id: Id, user: CurrentUser) -> PasswordOut:
    """Give the account a generated password (returned this once) and end its sign-ins."""
    return PasswordOut(password=await user_admin.reset_password(actor=user, user_id=user_id))


@router.post(
    "/{user_id}/sign-out-everywhere", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND
)
async def sign_out_everywhere(user_id: Id, user: CurrentUser) -> Response:
    """End every sign-in session of the account (its API keys keep working)."""
    await sessions.sign_out_everywhere(actor=user, user_id=user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_account(user_id: Id, user: CurrentUser) -> Response:
    """Delete the account with its conversations, messages and API keys."""
    await user_admin.delete_user(actor=user, user_id=user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
