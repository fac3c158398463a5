"""Who is signed in: the token in the browser, verified on every use."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable

import reflex as rx
from reflex.event import EventSpec
from reflex.state import BaseState

from llm_chat.config import get_settings
from llm_chat.errors import AppError, AuthError, RateLimitedError
from llm_chat.security import InvalidTokenError, TokenClaims, decode_token
from llm_chat.services import sessions, signup, users
from llm_chat.services.signup import SignupMode
from llm_chat.services.users import UserInfo
from llm_chat.state.locale import LocaleState

LOGIN_ROUTE = "/login"
HOME_ROUTE = "/"


class AuthState(rx.State):
    """Base state of every signed-in page."""

    # The signed JWT, kept in localStorage. The browser can change it: it is verified on use.
    auth_token: str = rx.LocalStorage("", name="llm_chat_token", sync=True)
    # The verified user's id (backend only, never sent to the browser).
    _user_id: int = 0
    # The signed-in user's name, email and role, loaded from the database.
    user_name: str = ""
    user_email: str = ""
    is_admin: bool = False
    # True once the token was verified for this page, so protected content can render.
    signed_in: bool = False

    async def _verified_user(self) -> UserInfo | None:
        """The user the token names, if it is valid, not revoked and the account active;
        else the tab is signed out."""
        settings = get_settings()
        try:
            claims = decode_token(self.auth_token, settings.jwt_secret)
            user = await users.get_active_user(user_id=claims.user_id, token_version=claims.version)
        except (InvalidTokenError, AuthError):
            await self._forget_user()
            return None
        if self._user_id not in (0, user.id):  # another account signed in (shared storage)
            await self._forget_user()
        self._show_user(user)
        return user

    async def _token_claims(self) -> TokenClaims | None:
        """What a validly signed, unexpired token says (else the tab is signed out); no
        database.

        For handlers whose own transaction checks that the account is still active and the
        token not revoked (they pass its version on).
        """
        try:
            return decode_token(self.auth_token, get_settings().jwt_secret)
        except InvalidTokenError:
            await self._forget_user()
            return None

    def _show_user(self, user: UserInfo) -> None:
        """Show ``user`` as signed in; only what changed is sent (each handler verifies)."""
        self._user_id = user.id
        shown = {
            "user_name": user.display_name,
            "user_email": user.email,
            "is_admin": user.is_admin,
            "signed_in": True,
        }
        for name, value in shown.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    async def _forget_user(self) -> None:
        """Sign the tab out: every var of every state of the tab, backend-only ones too, back
        to its default, so that nothing the user saw stays on the server or is sent to a
        reload of the tab.

        Kept: the language (not the user's), and the token in the browser's storage, which
        only :meth:`sign_out` clears (a tab that finds it invalid must not wipe a fresh one
        another tab of the browser has just stored).
        """
        if not self._user_id and not self.signed_in:
            return  # nothing of anyone's was loaded
        token = self.auth_token
        for state in await self._tab_states():
            state.reset()
        self.auth_token = token

    async def _tab_states(self) -> list[BaseState]:
        """The top states of this tab (each holds its substates), but for the language's."""
        tops = [s for s in self.get_root_state().get_substates() if s is not LocaleState]
        # The Redis state manager loads only the states an event needs: load all of them,
        # so that resetting a top state reaches every substate.
        pending = list(tops)
        while pending:
            state_class = pending.pop()
            pending.extend(state_class.get_substates())
            await self.get_state(state_class)
        return [await self.get_state(state_class) for state_class in tops]

    def _start_session(self, user: UserInfo) -> None:
        self.auth_token = sessions.token_for(user)
        self._show_user(user)

    @rx.event
    async def require_user(self):
        """``on_load`` guard: send visitors without a valid session to sign in."""
        if await self._verified_user() is None:
            return rx.redirect(LOGIN_ROUTE)
        return None

    @rx.event
    async def sign_out(self):
        """End the session on the server (the token stops working wherever it is, and so do
        the user's other sessions), forget it in this browser and go to sign in."""
        claims = await self._token_claims()
        if claims is not None:
            with contextlib.suppress(AuthError):  # revoked already
                await sessions.sign_out(user_id=claims.user_id, token_version=claims.version)
        await self._forget_user()
        self.auth_token = ""
        return rx.redirect(LOGIN_ROUTE)


class LoginState(AuthState):
    """The sign-in form."""

    # Translation key of the last error, or empty.
    error_key: str = ""
    # How many minutes to wait before trying again, for "auth.too_many_attempts".
    retry_minutes: int = 0
    # True while the password is being checked.
    busy: bool = False

    @rx.event
    async def redirect_if_signed_in(self):
        """``on_load`` of the sign-in and register pages."""
        self.error_key = ""
        if await self._verified_user() is not None:
            return rx.redirect(HOME_ROUTE)
        return None

    async def _enter(self, action: Awaitable[UserInfo]) -> EventSpec | None:
        """Await a sign-in or registration; on success keep a session and go to the chat."""
        try:
            user = await action
        except AppError as exc:
            self.error_key = exc.code
            if isinstance(exc, RateLimitedError):
                self.retry_minutes = exc.retry_minutes
            return None
        finally:
            self.busy = False
        self.error_key = ""
        self._start_session(user)
        return rx.redirect(HOME_ROUTE)

    @rx.event
    async def sign_in(self, form: dict[str, str]):
        """Check the credentials and keep a token in the browser."""
        self.busy = True
        yield
        yield await self._enter(
            sessions.sign_in(
                email=str(form.get("email", "")),
                password=str(form.get("password", "")),
                address=self.router.session.client_ip,
            )
        )


class RegisterState(LoginState):
    """The registration form, as the sign-up policy allows it (see services.signup)."""

    # "open", "approval" or "closed": what the page offers.
    signup_mode: str = SignupMode.OPEN.value
    # The email of the invitation the page's link carries ("": none, or not usable).
    invite_email: str = ""
    # The account was made and waits for an admin's approval.
    registered_pending: bool = False
    # The link's token (backend only).
    _invite: str = ""

    @rx.var
    def form_open(self) -> bool:
        """Whether the page shows the form: sign-up is not closed, or an invitation is."""
        if self.registered_pending:
            return False
        return bool(self.invite_email) or self.signup_mode != SignupMode.CLOSED.value

    @rx.event
    async def load_register(self):
        """``on_load``: the policy and the invitation of the link (``?invite=``)."""
        self.error_key = ""
        if await self._verified_user() is not None:
            return rx.redirect(HOME_ROUTE)
        self.registered_pending = False
        self.signup_mode = (await signup.signup_policy()).mode.value
        self._invite = self.router.url.query_parameters.get("invite", "")[:200]
        self.invite_email = ""
        if self._invite:
            try:
                self.invite_email = (await signup.invite_for(token=self._invite)).email
            except AppError as exc:
                self._invite = ""
                self.error_key = exc.code
        return None

    @rx.event
    async def register(self, form: dict[str, str]):
        """Create the account; sign in, or say it waits for an approval. Nothing is created
        if any check fails."""
        password = str(form.get("password", ""))
        if password != str(form.get("password_confirm", "")):
            self.error_key = "auth.password_mismatch"
            return
        self.busy = True
        yield
        try:
            made = await signup.sign_up(
                email=str(form.get("email", "")),
                password=password,
                display_name=str(form.get("display_name", "")),
                invite=self._invite,
            )
        except AppError as exc:
            self.error_key = exc.code
            if exc.code == "auth.invite_invalid":  # used meanwhile, or withdrawn
                self._invite = self.invite_email = ""
            return
        finally:
            self.busy = False
        self.error_key = ""
        self._invite = self.invite_email = ""
        if not made.active:
            self.registered_pending = True
            return
        self._start_session(made.user)
        yield rx.redirect(HOME_ROUTE)
