"""Who may do what: the rules that depend on who asks, checked inside the services."""

from __future__ import annotations

from sqlmodel import Session

from llm_chat.errors import ForbiddenError
from llm_chat.models import Role
from llm_chat.services.users import UserInfo, get_active_user

# The actor of the shell (the CLI) and of start-up work: trusted, and no account of its own.
SYSTEM = UserInfo(id=0, email="system", display_name="System", role=Role.ADMIN)


def require_admin(session: Session, actor: UserInfo) -> None:
    """Refuse unless ``actor`` is, as of now, an active admin (or :data:`SYSTEM`).

    The role is read again in the caller's transaction: a demoted or disabled admin is
    refused at once, whatever a page or a token still says.

    Raises:
        AuthError: the account is gone or disabled.
        ForbiddenError: ``admin.only_admins`` for anyone else.
    """
    if actor is SYSTEM:
        return
    if not get_active_user.within(session, user_id=actor.id).is_admin:
        raise ForbiddenError("admin.only_admins")
