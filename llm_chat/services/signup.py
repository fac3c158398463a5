"""Who may create an account: the sign-up policy, approvals and one-time invitations.

An admin sets the policy (a setting every worker reads, changed in the audit log):

- **open**: anyone creates an account and is signed in;
- **approval**: anyone creates an account, which stays inactive until an admin approves
  it (:func:`llm_chat.services.user_admin.set_active`);
- **closed**: only people an admin invited: an invitation names an email address and a
  role, and its link (shown to the admin once) creates that one account, once.

An invitation works under every policy and never needs an approval. The first admin still
comes only from the shell (``make admin``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlencode

import pydantic
from sqlmodel import Session, col, delete, select

from llm_chat.db import short_transaction, transaction
from llm_chat.errors import NotFoundError, ValidationError
from llm_chat.models import AuditAction, AuditTarget, Invite, Role, User
from llm_chat.models.base import utcnow
from llm_chat.services import app_settings, audit
from llm_chat.services.access import require_admin
from llm_chat.services.app_settings import Setting
from llm_chat.services.users import UserInfo, create_account, validate_email

# An invitation link's secret: 32 random bytes, URL-safe (43 characters).
INVITE_TOKEN_BYTES = 32
MAX_INVITE_DAYS = 90
MAX_LISTED_INVITES = 200
REGISTER_ROUTE = "/register"


class SignupMode(StrEnum):
    """How people get an account."""

    OPEN = "open"
    APPROVAL = "approval"
    CLOSED = "closed"


class SignupPolicy(pydantic.BaseModel):
    """The sign-up policy and how long invitations stay valid."""

    model_config = pydantic.ConfigDict(frozen=True)

    mode: SignupMode = SignupMode.OPEN
    invite_days: int = pydantic.Field(default=7, ge=1, le=MAX_INVITE_DAYS)


POLICY = Setting(key="signup.policy", model=SignupPolicy, default=SignupPolicy())


@dataclass(frozen=True)
class SignUp:
    """A new account, and whether it may sign in now (False: it waits for an approval)."""

    user: UserInfo
    active: bool


@dataclass(frozen=True)
class InviteRow:
    """An invitation as the admin's list shows it (never its token)."""

    id: int
    email: str
    role: Role
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None

    @property
    def usable(self) -> bool:
        """Not used and not expired."""
        return self.used_at is None and self.expires_at > utcnow()


@dataclass(frozen=True)
class NewInvite:
    """An invitation just made, with the token of its link (shown once, never kept)."""

    invite: InviteRow
    token: str


def _row(invite: Invite) -> InviteRow:
    return InviteRow(
        id=invite.id or 0,
        email=invite.email,
        role=Role(invite.role),
        created_at=invite.created_at,
        expires_at=invite.expires_at,
        used_at=invite.used_at,
    )


def token_hash(token: str) -> str:
    """What is kept of an invitation's token."""
    return hashlib.sha256(token.encode()).hexdigest()


@short_transaction
def signup_policy(session: Session) -> SignupPolicy:
    """The policy in force (the registration page and every sign-up read it)."""
    return app_settings.read(session, POLICY)


@transaction
def policy_for_admin(session: Session, *, actor: UserInfo) -> SignupPolicy:
    """The policy, for the admin pages and API.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
    """
    require_admin(session, actor)
    return app_settings.read(session, POLICY)


def invite_link(origin: str, token: str) -> str:
    """The registration page's address for an invitation's token."""
    return f"{origin.rstrip('/')}{REGISTER_ROUTE}?{urlencode({'invite': token})}"


@transaction
def set_signup_policy(session: Session, *, actor: UserInfo, policy: SignupPolicy) -> SignupPolicy:
    """Change the policy (audited). Accounts waiting for an approval keep waiting whatever
    the new policy; invitations already sent stay valid.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        ValidationError: ``admin.invalid_setting``.
    """
    return app_settings.write(session, POLICY, policy, actor=actor)


def _usable_invite(session: Session, token: str) -> Invite:
    invite = session.exec(select(Invite).where(Invite.token_hash == token_hash(token))).first()
    if invite is None or invite.used_at is not None or invite.expires_at <= utcnow():
        raise ValidationError("auth.invite_invalid")
    return invite


@short_transaction
def invite_for(session: Session, *, token: str) -> InviteRow:
    """The usable invitation of a link's token (the registration page shows its email).

    Raises:
        ValidationError: ``auth.invite_invalid``: unknown, used, expired or withdrawn.
    """
    if not token:
        raise ValidationError("auth.invite_invalid")
    return _row(_usable_invite(session, token))


@transaction
def sign_up(
    session: Session, *, email: str, password: str, display_name: str = "", invite: str = ""
) -> SignUp:
    """Create an account as the policy allows. Slow (bcrypt).

    With ``invite`` (a link's token) the account is the invitation's: its email (``email``
    is ignored) and role, active at once; the invitation is used up in the same
    transaction, so two tabs cannot both use it.

    Raises:
        ValidationError: ``auth.signup_closed`` (closed, and no invitation),
            ``auth.invite_invalid``, bad input, or ``auth.email_taken``.
    """
    if invite:
        found = _usable_invite(session, invite)
        user = create_account(
            session,
            email=found.email,
            password=password,
            display_name=display_name,
            role=Role(found.role),
        )
        found.used_at = utcnow()
        found.used_by = user.id
        session.add(found)
        return SignUp(user=user, active=True)
    mode = app_settings.read(session, POLICY).mode
    if mode == SignupMode.CLOSED:
        raise ValidationError("auth.signup_closed")
    pending = mode == SignupMode.APPROVAL
    user = create_account(
        session,
        email=email,
        password=password,
        display_name=display_name,
        pending_approval=pending,
    )
    return SignUp(user=user, active=not pending)


@transaction
def create_invite(session: Session, *, actor: UserInfo, email: str, role: Role) -> NewInvite:
    """Invite ``email`` to create an account with ``role``, valid for the policy's
    ``invite_days``; an earlier unused invitation of the same address stops working.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        ValidationError: ``auth.invalid_email``, or ``auth.email_taken`` (the address has
            an account already).
    """
    require_admin(session, actor)
    email = validate_email(email)
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        raise ValidationError("auth.email_taken")
    session.exec(
        delete(Invite).where(col(Invite.email) == email, col(Invite.used_at).is_(None))  # type: ignore[call-overload]
    )
    days = app_settings.read(session, POLICY).invite_days
    token = secrets.token_urlsafe(INVITE_TOKEN_BYTES)
    now = utcnow()
    invite = Invite(
        token_hash=token_hash(token),
        email=email,
        role=role.value,
        created_by=actor.id or None,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(invite)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.INVITE_CREATE,
        target_type=AuditTarget.INVITE,
        target_id=invite.id,
        target_name=email,
        new={"email": email, "role": role.value, "expires_at": invite.expires_at.isoformat()},
    )
    return NewInvite(invite=_row(invite), token=token)


@transaction
def list_invites(session: Session, *, actor: UserInfo) -> list[InviteRow]:
    """The invitations not used yet (expired ones too, to withdraw), newest first.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
    """
    require_admin(session, actor)
    rows = session.exec(
        select(Invite)
        .where(col(Invite.used_at).is_(None))
        .order_by(col(Invite.id).desc())
        .limit(MAX_LISTED_INVITES)
    ).all()
    return [_row(invite) for invite in rows]


@transaction
def revoke_invite(session: Session, *, actor: UserInfo, invite_id: int) -> None:
    """Withdraw an unused invitation: its link stops working (audited).

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        NotFoundError: ``admin.invite_not_found`` (unknown, or used already).
    """
    require_admin(session, actor)
    invite = session.get(Invite, invite_id)
    if invite is None or invite.used_at is not None:
        raise NotFoundError("admin.invite_not_found")
    session.delete(invite)
    audit.record(
        session,
        actor=actor,
        action=AuditAction.INVITE_REVOKE,
        target_type=AuditTarget.INVITE,
        target_id=invite_id,
        target_name=invite.email,
        old={"email": invite.email, "role": invite.role},
    )
