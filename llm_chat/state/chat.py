"""The chat view: sidebar, open conversation, model picker, streaming replies."""

from __future__ import annotations

import dataclasses
import logging
import uuid

import reflex as rx
from reflex.event import EventSpec, EventType

from llm_chat.errors import AppError, AuthError, RateLimitedError
from llm_chat.models import MessageRole, MessageStatus, Role
from llm_chat.providers import ProviderError
from llm_chat.security import TokenClaims
from llm_chat.services import catalog, conversations, following, turns
from llm_chat.services.catalog import ModelOption
from llm_chat.services.conversations import MessageView
from llm_chat.services.turn_plan import validate_message
from llm_chat.state.auth import HOME_ROUTE, LOGIN_ROUTE, AuthState
from llm_chat.state.stream import StreamState

logger = logging.getLogger(__name__)

CONVERSATION_ROUTE = "/c/[cid]"
COMPOSER_ID = "composer"
SIDEBAR_LIMIT = 200
# Messages loaded when a conversation opens, and per "earlier messages" click: the page
# stays small however long the conversation is.
MESSAGE_WINDOW = 30


@dataclasses.dataclass
class ConversationItem:
    """A sidebar entry."""

    id: int
    title: str
    model_id: int


@dataclasses.dataclass
class MessageItem:
    """A finished message on screen; ``error`` is a translation key or empty."""

    id: int
    role: str
    content: str
    status: str
    error: str
    # A reasoning model's thinking (shown folded above the answer), or empty.
    reasoning: str = ""
    # The model and provider that wrote a reply (shown on hover), or empty.
    model: str = ""
    provider: str = ""
    # How many earlier messages the reply's context left out (0: none).
    context_dropped: int = 0

    @classmethod
    def of(cls, view: MessageView) -> MessageItem:
        """A stored message as the page shows it."""
        return cls(
            id=view.id,
            role=view.role.value,
            content=view.content,
            status=view.status.value,
            error=view.error or "",
            reasoning=view.reasoning,
            model=view.model_name,
            provider=view.provider_name,
            context_dropped=view.context_dropped,
        )


@dataclasses.dataclass
class ModelItem:
    """A dropdown entry; ``id`` is a string because the select speaks strings."""

    id: str
    name: str


@dataclasses.dataclass
class ModelGroup:
    """A provider's models in the dropdown."""

    provider: str
    models: list[ModelItem]


def group_by_provider(options: list[ModelOption]) -> list[ModelGroup]:
    """``options`` under their providers: the default model's provider first, then by name;
    within each, the order of ``options`` (the default first, then by name)."""
    groups: dict[str, list[ModelItem]] = {}
    for option in options:
        groups.setdefault(option.provider, []).append(
            ModelItem(id=str(option.id), name=option.name)
        )
    first = options[0].provider if options and options[0].is_default else None
    names = sorted(groups, key=lambda name: (name != first, name.casefold()))
    return [ModelGroup(provider=name, models=groups[name]) for name in names]


def conversation_path(conversation_id: int) -> str:
    """The URL of a conversation."""
    return f"/c/{conversation_id}"


def conversation_id_in(path: str) -> str:
    """The conversation id part of a ``/c/<id>`` path, or empty."""
    parts = path.strip("/").split("/")
    return parts[1] if len(parts) == 2 and parts[0] == "c" else ""


class ChatState(AuthState):
    """Everything the chat page shows."""

    # The user's conversations, newest first.
    conversations: list[ConversationItem] = []  # noqa: RUF012
    # The open conversation (0: a new chat that has no messages yet).
    conversation_id: int = 0
    # Finished messages of the open conversation when it was opened, oldest first. Turns
    # finished since then are not added here (that would re-send the whole list each turn):
    # the browser appends `last_turn` to its own copy (assets/turns_since_load.js).
    messages: list[MessageItem] = []  # noqa: RUF012
    # Whether the conversation has messages before the first one in `messages`.
    has_older: bool = False
    # Counts how often `messages` was loaded; the browser drops its appended turns on a change.
    load_seq: int = 0
    # Turns finished in the open conversation since it was loaded, and the newest of them.
    turns_since_load: int = 0
    last_turn: list[MessageItem] = []  # noqa: RUF012
    # True while the open conversation has a reply being written, which the tab shows live
    # (its own, or one another tab or an API client started).
    is_streaming: bool = False
    # Models the user may pick now, under their providers.
    model_groups: list[ModelGroup] = []  # noqa: RUF012
    # The open conversation's model is no longer offered (its next reply goes to the one
    # picked now).
    model_gone: bool = False
    # The picked model's id ("" when there is none).
    selected_model: str = ""
    # Translation key of an error to show above the composer, or empty; a limit's error
    # says in how many minutes it resets (its ``{minutes}``).
    error_key: str = ""
    retry_minutes: int = 0
    # The conversation being renamed or deleted (0: no dialog open).
    rename_id: int = 0
    rename_title: str = ""
    delete_id: int = 0
    # Whether the sidebar is open over the chat (phones only; wide screens always show it).
    sidebar_open: bool = False
    # The question being answered, shown apart from `messages` until its reply ends, so that
    # the history is sent once per turn (when both join `messages`), never per token.
    pending_question: str = ""
    # The live reply the tab shows (backend only). Each showing gets a new ticket; a loop
    # whose ticket is no longer `_live` stops showing (the tab went to another conversation,
    # was reloaded, or signed out), while its turn goes on and is saved.
    _live: str = ""
    _live_conversation: int = 0
    _live_question_id: int = 0
    _live_reply_id: int = 0
    # The ticket whose follow loop runs (a follow is started once per showing).
    _followed: str = ""
    # Stop was asked for before the reply's row existed (backend only).
    _stop_asked: bool = False
    # A conversation this tab's turn just created and sent the tab to (backend only): its
    # page needs no loading then, only the reply so far.
    _addressed: int = 0

    def _role(self) -> Role:
        """The signed-in user's role, as last verified."""
        return Role.ADMIN if self.is_admin else Role.USER

    async def _refresh_models(self) -> None:
        self._show_models(await catalog.list_enabled_models(role=self._role()))

    def _offered(self) -> set[str]:
        """The ids of the models in the dropdown."""
        return {m.id for group in self.model_groups for m in group.models}

    def _show_models(self, options: list[ModelOption]) -> bool:
        """Offer ``options`` (the models of the user's role) in the dropdown, on a signed-in
        page only; the picked model stays unless it is gone. Whether the page is signed in."""
        if not self._user_id:
            return False
        groups = group_by_provider(options)
        if groups != self.model_groups:
            self.model_groups = groups
        offered = self._offered()
        if self.selected_model not in offered:
            self.selected_model = str(options[0].id) if options else ""
        # The open conversation's model was just deleted, disabled or closed to the user.
        remembered = self._remembered_model(self.conversation_id)
        if self.messages and remembered and remembered not in offered and not self.model_gone:
            self.model_gone = True
        return True

    def _remembered_model(self, conversation_id: int) -> str:
        """The model the sidebar's conversation last used ("": not in the sidebar)."""
        return next(
            (str(c.model_id) for c in self.conversations if c.id == conversation_id and c.model_id),
            "",
        )

    async def _refresh_conversations(self) -> None:
        rows = await conversations.list_conversations(user_id=self._user_id, limit=SIDEBAR_LIMIT)
        self.conversations = [
            ConversationItem(id=c.id, title=c.title, model_id=c.model_id or 0) for c in rows
        ]

    @rx.event
    async def load_page(self):
        """``on_load``: verify the session, then load the sidebar, models and conversation;
        a reply being written in it is shown live."""
        if await self._verified_user() is None:
            return rx.redirect(LOGIN_ROUTE)
        raw_id = conversation_id_in(self.router.url.path)
        addressed, self._addressed = self._addressed, 0
        if addressed and raw_id == str(addressed) == str(self.conversation_id):
            # The tab's own new conversation got its address: the page was mounted anew,
            # everything else it shows is as it was.
            if self.is_streaming:
                (await self.get_state(StreamState))._resync()
            return None
        self.error_key = ""
        self.rename_id = self.delete_id = 0
        self.sidebar_open = False
        self.load_seq += 1
        self.turns_since_load = 0
        self.last_turn = []
        await self._refresh_models()
        await self._refresh_conversations()
        self.has_older = False
        if not raw_id:
            self.conversation_id = 0
            self.messages = []
            self.model_gone = False
            return await self._show_live_in(0, [])
        conversation_id = int(raw_id) if raw_id.isdigit() else -1
        try:
            views = await self._window(conversation_id, before_id=None)
        except AppError as exc:
            self.conversation_id = 0
            self.messages = []
            self.error_key = exc.code
            return await self._show_live_in(0, [])
        self.conversation_id = conversation_id
        follow = await self._show_live_in(conversation_id, views)
        self.messages = self._items(views)
        remembered = self._remembered_model(conversation_id)
        if remembered in self._offered():
            self.selected_model = remembered
        # Its model was deleted, disabled or closed to the user: say where replies go now.
        gone = bool(views) and remembered not in self._offered()
        if gone != self.model_gone:
            self.model_gone = gone
        return follow

    async def _show_live_in(
        self, conversation_id: int, views: list[MessageView]
    ) -> EventType[()] | None:
        """Show the reply being written in the conversation just loaded, if any: the one
        already shown (a reload of the tab), else the newest message if it is still being
        written (another tab's, an API client's, or this tab's from before it went
        elsewhere). Returns the event that starts following it."""
        stream = await self.get_state(StreamState)
        if self._live and self._live_conversation == conversation_id:
            stream._resync()  # a reload or a reconnect: the browser lost the text so far
            return None
        newest = views[-1] if views else None
        if (
            newest is None
            or newest.role != MessageRole.ASSISTANT
            or newest.status != MessageStatus.STREAMING
        ):
            self._end_turn()
            return None
        question = views[-2] if len(views) > 1 and views[-2].role == MessageRole.USER else None
        self._start_showing(conversation_id, question.content if question else "")
        self._live_question_id = question.id if question else 0
        self._live_reply_id = newest.id
        stream._restart()
        return ChatState.follow_live

    def _start_showing(self, conversation_id: int, question: str) -> str:
        """Show a new live reply in ``conversation_id``; returns its ticket."""
        self._live = uuid.uuid4().hex
        self._live_conversation = conversation_id
        self._live_question_id = self._live_reply_id = 0
        self._stop_asked = False
        self.is_streaming = True
        self.pending_question = question
        return self._live

    async def _window(self, conversation_id: int, before_id: int | None) -> list[MessageView]:
        """Up to MESSAGE_WINDOW messages (before ``before_id``), setting ``has_older``."""
        views = await conversations.list_messages(
            user_id=self._user_id,
            conversation_id=conversation_id,
            limit=MESSAGE_WINDOW + 1,
            before_id=before_id,
        )
        self.has_older = len(views) > MESSAGE_WINDOW
        return views[-MESSAGE_WINDOW:]

    def _items(self, views: list[MessageView]) -> list[MessageItem]:
        """``views`` as the page shows them: the live turn's rows are shown apart."""
        live = {self._live_question_id, self._live_reply_id} if self._live else set()
        return [MessageItem.of(v) for v in views if v.id not in live]

    @rx.event
    async def load_older(self):
        """Show the messages before the earliest one on screen."""
        if await self._verified_user() is None:
            return rx.redirect(LOGIN_ROUTE)
        if not self.conversation_id or not self.messages:
            return None
        try:
            older = await self._window(self.conversation_id, self.messages[0].id)
        except AppError as exc:
            self.error_key = exc.code
            return None
        self.messages = [*self._items(older), *self.messages]
        return None

    @rx.event
    async def refresh_models(self, is_open: bool = True) -> None:
        """Re-read the enabled models when the dropdown opens."""
        if is_open and await self._verified_user() is not None:
            await self._refresh_models()

    @rx.event
    def pick_model(self, model_id: str) -> None:
        """Use ``model_id`` for the next message of this conversation."""
        if model_id in self._offered():
            self.selected_model = model_id
            self.model_gone = False

    async def _accept(self, text: str) -> TokenClaims | EventSpec | None:
        """Take ``text`` as the open conversation's next question: the claims of the user's
        token, else why not (an error shown, or a redirect). Shows the turn as live. Call
        inside ``async with self``."""
        if self.is_streaming:
            self.error_key = "chat.busy"
            return None
        try:
            validate_message(text)
        except AppError as exc:
            self.error_key = exc.code
            return None
        # The signature only: the turn's own transaction checks that the account is active
        # and the token not revoked.
        claims = await self._token_claims()
        if claims is None:
            return rx.redirect(LOGIN_ROUTE)
        # Another account signed in (shared storage): check it now.
        if claims.user_id != self._user_id and await self._verified_user() is None:
            return rx.redirect(LOGIN_ROUTE)
        if not self.selected_model:
            await self._refresh_models()
            if not self.selected_model:
                self.error_key = "chat.no_models"
                return None
        if self.error_key:
            self.error_key = ""
        self._start_showing(self.conversation_id, text)
        (await self.get_state(StreamState))._restart()
        return claims

    def _shows(self, ticket: str) -> bool:
        """Whether the tab still shows the live reply of ``ticket``."""
        return self._live == ticket

    def _end_turn(self) -> None:
        """The open conversation has no live reply (any more)."""
        self.pending_question = ""
        self.is_streaming = False
        self._live = ""
        self._live_conversation = self._live_question_id = self._live_reply_id = 0

    @rx.event(background=True)
    async def send(self, form: dict[str, str]):
        """Ask the question and stream the reply; the text stays if it cannot be sent.

        The turn itself (checks, provider request, rows, batches, saving) is the turn
        service's; this shows it while its conversation is open in the tab. The tab may go
        to another conversation and ask there meanwhile; the turn goes on and is saved.
        """
        text = str(form.get("message", ""))
        async with self:
            accepted = await self._accept(text)
            model, conversation_id, ticket = self.selected_model, self.conversation_id, self._live
        if not isinstance(accepted, TokenClaims):
            if accepted is not None:
                yield accepted
            return
        yield rx.set_value(COMPOSER_ID, "")
        try:
            turn = await turns.start_turn(
                user_id=accepted.user_id,
                token_version=accepted.version,
                conversation_id=conversation_id or None,
                model=int(model),
                text=text,
            )
        except (AppError, ProviderError) as exc:
            signed_out = isinstance(exc, AuthError)
            async with self:
                shown = self._shows(ticket)
                if shown:
                    self._end_turn()
                if signed_out:
                    await self._forget_user()
                elif shown:
                    self.error_key = exc.code
                    self.retry_minutes = (
                        exc.retry_minutes if isinstance(exc, RateLimitedError) else 0
                    )
                    await self._refresh_models()
            if signed_out:
                yield rx.redirect(LOGIN_ROUTE)
            elif shown:
                yield rx.set_value(COMPOSER_ID, text)
            return
        except Exception:  # a database failure, or a bug: the tab must not stay busy
            logger.exception("A turn could not start")
            async with self:
                shown = self._shows(ticket)
                if shown:
                    self._end_turn()
                    self.error_key = "chat.send_failed"
            if shown:
                yield rx.set_value(COMPOSER_ID, text)
            return
        rows = turn.rows
        async with self:
            if self._user_id != accepted.user_id:
                return  # signed out meanwhile: the turn goes on, and is saved, unseen
            self._bump_conversation(
                rows.conversation_id, turn.plan.title, turn.plan.target.model_id
            )
            if not self._shows(ticket):
                return  # the tab went elsewhere: the reply is shown when it comes back
            if self.model_gone and self.conversation_id == rows.conversation_id:
                self.model_gone = False
            self._live_question_id = rows.user_message_id
            self._live_reply_id = rows.reply_message_id
            self._live_conversation = rows.conversation_id
            if self.conversation_id in (0, rows.conversation_id):
                self.conversation_id = rows.conversation_id
            if self._stop_asked:
                turn.stop()
            address = rows.created_conversation and self.conversation_id == rows.conversation_id
            if address:
                self._addressed = rows.conversation_id
        if address:
            # Through the router (not history.replaceState behind its back), so that a
            # reconnect or a restart loads this conversation, not the empty page.
            yield rx.redirect(conversation_path(rows.conversation_id), replace=True)
        async for batch in turn.batches():
            async with self:
                if not self._shows(ticket):
                    return
                (await self.get_state(StreamState))._push(batch.text, batch.reasoning)
        outcome = await turn.outcome()
        async with self:
            if self._shows(ticket):
                await self._finish_live(list(turn.messages(outcome)))

    async def _finish_live(self, views: list[MessageView]) -> None:
        """The live reply has ended: its turn joins the page's messages."""
        if self.conversation_id == self._live_conversation and views:
            self.turns_since_load += 1
            self.last_turn = [MessageItem.of(view) for view in views]
        (await self.get_state(StreamState))._restart()
        self._end_turn()

    @rx.event(background=True)
    async def follow_live(self):
        """Show the reply being written that the page found when it loaded, until it ends
        (started by :meth:`load_page`; once per showing)."""
        async with self:
            ticket = self._live
            if not ticket or self._followed == ticket or not self._live_reply_id:
                return
            self._followed = ticket
            user_id, conversation_id = self._user_id, self._live_conversation
            reply_id = self._live_reply_id
        try:
            async for batch in following.follow_reply(
                user_id=user_id, conversation_id=conversation_id, reply_message_id=reply_id
            ):
                async with self:
                    if not self._shows(ticket):
                        return
                    (await self.get_state(StreamState))._push(batch.text, batch.reasoning)
            views = await following.finished_turn(
                user_id=user_id, conversation_id=conversation_id, reply_message_id=reply_id
            )
        except AppError:  # the conversation was deleted meanwhile
            views = []
        async with self:
            if self._shows(ticket):
                await self._finish_live(views)

    def _bump_conversation(self, conversation_id: int, title: str, model_id: int) -> None:
        rest = [c for c in self.conversations if c.id != conversation_id]
        self.conversations = [ConversationItem(conversation_id, title, model_id), *rest]

    @rx.event
    def toggle_sidebar(self) -> None:
        """Open or close the sidebar over the chat (phones)."""
        self.sidebar_open = not self.sidebar_open

    @rx.event
    async def resync_stream(self) -> None:
        """Send the whole reply so far again (the page missed a batch of it).

        Nothing is sent when the newest delta already holds the whole text (the page asked
        before a resync that was on its way: a reload's, or a new page's).
        """
        stream = await self.get_state(StreamState)
        if self.is_streaming and not stream._is_whole():
            stream._resync()

    @rx.event
    def stop_streaming(self) -> None:
        """End the live reply of the open conversation now; what was written so far is kept
        as ``stopped``."""
        if not self.is_streaming:
            return
        if self._live_reply_id:
            turns.stop_turns(user_id=self._user_id, reply_message_id=self._live_reply_id)
        else:  # still starting: stopped as soon as it has started
            self._stop_asked = True

    @rx.event
    def open_rename(self, conversation_id: int, title: str) -> None:
        """Open the rename dialog."""
        self.rename_id = conversation_id
        self.rename_title = title
        self.error_key = ""

    @rx.event
    def open_delete(self, conversation_id: int) -> None:
        """Open the delete confirmation."""
        self.delete_id = conversation_id
        self.error_key = ""

    @rx.event
    def close_dialogs(self, _open: bool = False) -> None:
        """Close the rename and delete dialogs."""
        self.rename_id = self.delete_id = 0

    @rx.event
    async def save_rename(self, form: dict[str, str]):
        """Rename the conversation the dialog is for."""
        if await self._verified_user() is None:
            return rx.redirect(LOGIN_ROUTE)
        try:
            summary = await conversations.rename_conversation(
                user_id=self._user_id,
                conversation_id=self.rename_id,
                title=str(form.get("title", "")),
            )
        except AppError as exc:
            self.error_key = exc.code
            return None
        self.conversations = [
            dataclasses.replace(c, title=summary.title) if c.id == summary.id else c
            for c in self.conversations
        ]
        self.rename_id = 0
        return None

    @rx.event
    async def confirm_delete(self, target: int):
        """Delete conversation ``target`` (the one the dialog was opened for)."""
        if await self._verified_user() is None:
            return rx.redirect(LOGIN_ROUTE)
        self.delete_id = 0
        try:
            await conversations.delete_conversation(user_id=self._user_id, conversation_id=target)
        except AppError as exc:
            self.error_key = exc.code
            return None
        self.conversations = [c for c in self.conversations if c.id != target]
        if target == self.conversation_id:
            self.conversation_id = 0
            self.messages = []
            return rx.redirect(HOME_ROUTE)
        return None
