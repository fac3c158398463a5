"""The settings page's account section: the user's name, password and other sessions."""

from __future__ import annotations

import reflex as rx

from llm_chat.errors import AppError, AuthError
from llm_chat.services import sessions, users
from llm_chat.state.auth import LOGIN_ROUTE, AuthState

# The password form's fields: cleared by an event after each try, so that no password
# stays in the page.
PASSWORD_FIELDS = ("current-password", "new-password", "new-password-confirm")


class AccountState(AuthState):
    """Rename, change the password, sign out other sessions; each handler re-checks the
    session, and a password change or sign-out gives this tab a new token."""

    # Translation keys of the last error and confirmation of each form.
    profile_error: str = ""
    profile_notice: str = ""
    security_error: str = ""
    security_notice: str = ""
    # True while a password is being checked (bcrypt).
    busy: bool = False

    def _clear_notes(self) -> None:
        self.profile_error = self.profile_notice = ""
        self.security_error = self.security_notice = ""

    @rx.event
    async def save_profile(self, form: dict[str, str]):
        """Rename the user."""
        if await self._verified_user() is None:
            return rx.redirect(LOGIN_ROUTE)
        self._clear_notes()
        try:
            user = await users.update_profile(
                user_id=self._user_id, display_name=str(form.get("display_name", ""))
            )
        except AppError as exc:
            self.profile_error = exc.code
            return None
        self._show_user(user)
        self.profile_notice = "account.profile_saved"
        return None

    @rx.event
    async def change_password(self, form: dict[str, str]):
        """Set a new password: every other session of the user ends, this tab stays in."""
        claims = await self._token_claims()
        if claims is None or await self._verified_user() is None:
            yield rx.redirect(LOGIN_ROUTE)
            return
        self._clear_notes()
        new = str(form.get("new_password", ""))
        if new != str(form.get("new_password_confirm", "")):
            self.security_error = "auth.password_mismatch"
            return
        self.busy = True
        yield
        try:
            user = await users.change_password(
                user_id=self._user_id, current=str(form.get("current_password", "")), new=new
            )
        except AuthError:
            await self._forget_user()
            yield rx.redirect(LOGIN_ROUTE)
            return
        except AppError as exc:
            self.security_error = exc.code
            return
        finally:
            self.busy = False
        self._start_session(user)
        self.security_notice = "account.password_changed"
        yield [rx.set_value(field, "") for field in PASSWORD_FIELDS]

    @rx.event
    async def sign_out_others(self):
        """End every other session of the user (other browsers, devices, API clients that
        signed in); personal API keys keep working."""
        claims = await self._token_claims()
        if claims is None:
            return rx.redirect(LOGIN_ROUTE)
        self._clear_notes()
        try:
            user = await sessions.sign_out_others(
                user_id=claims.user_id, token_version=claims.version
            )
        except AuthError:
            await self._forget_user()
            return rx.redirect(LOGIN_ROUTE)
        self._start_session(user)
        self.security_notice = "account.others_signed_out"
        return None
