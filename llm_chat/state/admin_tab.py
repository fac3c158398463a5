"""What the admin page's tabs share: the signed-in admin, and a change made as them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import reflex as rx
from reflex.event import EventSpec

from llm_chat.errors import AppError, AuthError, ForbiddenError
from llm_chat.services.users import UserInfo
from llm_chat.state.auth import HOME_ROUTE, LOGIN_ROUTE


class AdminTab(rx.State, mixin=True):
    """A tab whose every change is a service call as the signed-in admin (the services check
    the role again), followed by :meth:`_reload` of what the tab shows. Mixed into an
    ``AuthState`` subclass: ``class UsersTab(AdminTab, AuthState)``."""

    # Translation key of the last error or confirmation.
    error_key: str = ""
    notice_key: str = ""

    if TYPE_CHECKING:  # AuthState's, which the tab's state class also derives from

        async def _verified_user(self) -> UserInfo | None: ...

    async def _admin(self) -> UserInfo | EventSpec:
        """The signed-in admin, else where to send the tab."""
        user = await self._verified_user()
        if user is None:
            return rx.redirect(LOGIN_ROUTE)
        if not user.is_admin:
            return rx.redirect(HOME_ROUTE)
        return user

    async def _reload(self, actor: UserInfo) -> None:
        """Read what the tab shows again."""
        raise NotImplementedError

    async def _apply(
        self, change: Callable[[UserInfo], Awaitable[object]], notice: str
    ) -> EventSpec | None:
        """Make ``change`` as the signed-in admin, then show the tab as it is now."""
        actor = await self._admin()
        if not isinstance(actor, UserInfo):
            return actor
        try:
            await change(actor)
            await self._reload(actor)
        except (AuthError, ForbiddenError):  # disabled or demoted meanwhile
            return rx.redirect(HOME_ROUTE)
        except AppError as exc:
            self.error_key, self.notice_key = exc.code, ""
            return None
        self.error_key, self.notice_key = "", notice
        return None
