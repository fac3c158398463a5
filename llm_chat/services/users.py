"""Accounts: registration, sign-in, roles."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from llm_chat.db import short_transaction, transaction
from llm_chat.errors import AuthError, NotFoundError, ValidationError
from llm_chat.models import Role, User
from llm_chat.security import dummy_password_hash, hash_password, verify_password

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
MAX_DISPLAY_NAME = 100
COMMON_PASSWORDS = frozenset(
    {
        "password",
        "password1",
        "12345678",
        "123456789",
        "1234567890",
        "qwertyui",
        "qwerty123",
        "iloveyou",
        "11111111",
        "00000000",
        "abcdefgh",
        "abc12345",
        "letmein1",
        "admin123",
    }
)


@dataclass(frozen=True)
class UserInfo:
    """What the rest of the app may know about a user (never the password hash)."""

    id: int
    email: str
    display_name: str
    role: Role
    # What the user's sign-in tokens must carry to be valid (see ``User.token_version``).
    token_version: int = 0

    @property
    def is_admin(self) -> bool:
        """Whether the user has the admin role."""
        return self.role == Role.ADMIN


def to_info(user: User) -> UserInfo:
    """The public view of a user row."""
    assert user.id is not None
    return UserInfo(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=Role(user.role),
        token_version=user.token_version,
    )


def normalize_email(email: str) -> str:
    """Trimmed, lower-cased email."""
    return email.strip().lower()


def validate_email(email: str) -> str:
    """The address normalized, if it looks like one.

    Raises:
        ValidationError: ``auth.invalid_email``.
    """
    email = normalize_email(email)
    if not EMAIL_PATTERN.match(email) or len(email) > 255:
        raise ValidationError("auth.invalid_email")
    return email


def validate_registration(email: str, password: str, display_name: str) -> tuple[str, str]:
    """Check registration input; returns the normalized email and display name.

    Raises:
        ValidationError: with a code saying what is wrong.
    """
    email = validate_email(email)
    validate_password(email, password)
    name = " ".join(display_name.split())[:100] or email.split("@")[0][:100]
    return email, name


def clean_display_name(display_name: str) -> str:
    """A display name as stored: spaces collapsed, at most MAX_DISPLAY_NAME characters.

    Raises:
        ValidationError: ``auth.name_empty`` when nothing is left, ``auth.name_too_long``.
    """
    name = " ".join(display_name.split())
    if not name:
        raise ValidationError("auth.name_empty")
    if len(name) > MAX_DISPLAY_NAME:
        raise ValidationError("auth.name_too_long")
    return name


def validate_password(email: str, password: str) -> None:
    """Refuse a password too short, too long or too easy to guess for the account ``email``.

    Raises:
        ValidationError: with a code saying what is wrong.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError("auth.password_too_short")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError("auth.password_too_long")
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 4:
        raise ValidationError("auth.password_too_weak")
    if password.lower() == email or password.lower() == email.split("@")[0]:
        raise ValidationError("auth.password_too_weak")


def create_account(
    session: Session,
    *,
    email: str,
    password: str,
    display_name: str = "",
    role: Role = Role.USER,
    pending_approval: bool = False,
) -> UserInfo:
    """Add an account in ``session``'s transaction (inactive while ``pending_approval``).
    Hashes with bcrypt: call it off the event loop.

    Raises:
        ValidationError: bad input or the email is taken (``auth.email_taken``).
    """
    email, name = validate_registration(email, password, display_name)
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        raise ValidationError("auth.email_taken")
    user = User(
        email=email,
        display_name=name,
        password_hash=hash_password(password),
        role=role,
        is_active=not pending_approval,
        pending_approval=pending_approval,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent registration won the race
        session.rollback()
        raise ValidationError("auth.email_taken") from exc
    return to_info(user)


@transaction
def register_user(
    session: Session, *, email: str, password: str, display_name: str = "", role: Role = Role.USER
) -> UserInfo:
    """Create an active account, whatever the sign-up policy (the shell, tests; people sign
    up through :func:`llm_chat.services.signup.sign_up`). Slow (bcrypt).

    Raises:
        ValidationError: bad input or the email is taken (``auth.email_taken``).
    """
    return create_account(
        session, email=email, password=password, display_name=display_name, role=role
    )


@transaction
def authenticate(session: Session, *, email: str, password: str) -> UserInfo:
    """The user with these credentials. Slow (bcrypt).

    Counts no attempts: the doors sign in through :func:`llm_chat.services.sessions.sign_in`,
    which limits them.

    Raises:
        AuthError: ``auth.bad_credentials`` for an unknown email or a wrong password alike,
            ``auth.disabled`` for a disabled account.
    """
    user = session.exec(select(User).where(User.email == normalize_email(email))).first()
    if user is None:
        verify_password(password, dummy_password_hash())
        raise AuthError("auth.bad_credentials")
    if not verify_password(password, user.password_hash):
        raise AuthError("auth.bad_credentials")
    if user.pending_approval:
        raise AuthError("auth.pending_approval")
    if not user.is_active:
        raise AuthError("auth.disabled")
    return to_info(user)


_USERS = User.__table__  # type: ignore[attr-defined]  (SQLModel sets it)
# Read for every message and API call: a plain statement built once, no ORM object (a
# third of the ORM lookup's cost).
_ACTIVE_USER = sa.select(
    _USERS.c.email,
    _USERS.c.display_name,
    _USERS.c.role,
    _USERS.c.is_active,
    _USERS.c.token_version,
).where(_USERS.c.id == sa.bindparam("user"))


@short_transaction
def get_active_user(
    session: Session, *, user_id: int, token_version: int | None = None
) -> UserInfo:
    """The active user with this id; the one place a sign-in token is checked against the
    database (every API request, every handler of the web app, every turn).

    Args:
        user_id: The user's id (a token's subject).
        token_version: The version a sign-in token carries; refused unless it is the
            user's current one. None when no sign-in token is involved (an API key, a
            service's actor).

    Raises:
        AuthError: ``error.auth_required`` if there is no such user, ``auth.invalid_token``
            for a revoked token, ``auth.disabled`` if the account is disabled.
    """
    row = session.connection().execute(_ACTIVE_USER, {"user": user_id}).first()
    if row is None:
        raise AuthError("error.auth_required")
    email, display_name, role, is_active, current_version = row
    if token_version is not None and token_version != current_version:
        raise AuthError("auth.invalid_token")
    if not is_active:
        raise AuthError("auth.disabled")
    return UserInfo(
        id=user_id,
        email=email,
        display_name=display_name,
        role=Role(role),
        token_version=current_version,
    )


def revoke_tokens(session: Session, *, user_id: int, token_version: int | None = None) -> int:
    """End every sign-in token of the user (a step of the session services, in their
    transaction); with ``token_version``, only if it is still the user's current one.

    Returns:
        How many users' tokens were revoked (0 or 1).
    """
    statement = (
        sa.update(_USERS)
        .where(_USERS.c.id == user_id)
        .values(token_version=_USERS.c.token_version + 1)
    )
    if token_version is not None:
        statement = statement.where(_USERS.c.token_version == token_version)
    result = session.connection().execute(statement)
    return result.rowcount


@transaction
def change_password(session: Session, *, user_id: int, current: str, new: str) -> UserInfo:
    """Set a new password after checking the current one; every sign-in token of the user
    stops working (sign in again, or issue a token for the returned user). Slow (bcrypt).

    Raises:
        AuthError: the account is gone or disabled.
        ValidationError: ``auth.wrong_password``, or a new password that would not be
            accepted at registration.
    """
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise AuthError("auth.disabled" if user is not None else "error.auth_required")
    if not verify_password(current, user.password_hash):
        raise ValidationError("auth.wrong_password")
    validate_password(user.email, new)
    session.connection().execute(
        sa.update(_USERS).where(_USERS.c.id == user_id).values(password_hash=hash_password(new))
    )
    revoke_tokens(session, user_id=user_id)
    return get_active_user.within(session, user_id=user_id)


@transaction
def update_profile(session: Session, *, user_id: int, display_name: str) -> UserInfo:
    """Rename the user (what the chat shows at the sidebar's foot and admins see).

    Raises:
        AuthError: the account is gone or disabled.
        ValidationError: an empty or too long name.
    """
    name = clean_display_name(display_name)
    get_active_user.within(session, user_id=user_id)
    session.connection().execute(
        sa.update(_USERS).where(_USERS.c.id == user_id).values(display_name=name)
    )
    return get_active_user.within(session, user_id=user_id)


@transaction
def set_role(session: Session, *, email: str, role: Role) -> UserInfo:
    """Give the user with ``email`` a role.

    Raises:
        NotFoundError: no user has that email.
    """
    user = session.exec(select(User).where(User.email == normalize_email(email))).first()
    if user is None:
        raise NotFoundError("auth.no_such_user")
    user.role = role.value
    session.add(user)
    return to_info(user)


@transaction
def count_admins(session: Session) -> int:
    """How many admins there are."""
    return session.exec(select(func.count()).select_from(User).where(User.role == Role.ADMIN)).one()
