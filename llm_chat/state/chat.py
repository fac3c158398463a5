"""The chat view: sidebar, open conversation, model picker, streaming replies."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging

import reflex as rx

from llm_chat.config import get_settings
from llm_chat.db import run_in_session
from llm_chat.errors import AppError, AuthError
from llm_chat.models import MessageRole, MessageStatus
from llm_chat.providers import ProviderError
from llm_chat.services import catalog, chat, conversations
from llm_chat.state.auth import HOME_ROUTE, LOGIN_ROUTE, AuthState
from llm_chat.state.stream import StreamState

logger = logging.getLogger(__name__)

CONVERSATION_ROUTE = "/c/[cid]"
COMPOSER_ID = "composer"
SIDEBAR_LIMIT = 200
# Messages loaded when a conversation opens, and per "earlier messages" click: the page
# stays small however long the conversation is.
MESSAGE_WINDOW = 30
# Stop signals of the replies streaming in this process, by browser tab (client token).
# A tab's events always reach the worker that runs its stream, so a local registry suffices.
_stop_signals: dict[str, asyncio.Event] = {}


@dataclasses.dataclass(frozen=True)
class _TurnRequest:
    """A turn `send` accepted and started opening, for the `stream_reply` it chains."""

    text: str
    # Reads and checks the turn, asks the provider, writes the rows (chat.open_turn).
    opening: asyncio.Task[tuple[chat.Turn, chat.ReplyFeed]]


# Turns accepted by `send` whose `stream_reply` has not started yet, by tab (same process,
# like `_stop_signals`). A request that never started is abandoned for the tab's next one.
_turn_requests: dict[str, _TurnRequest] = {}
# Abandoned turns being closed (referenced until they are).
_closing: set[asyncio.Task[None]] = set()


def _abandon(request: _TurnRequest) -> None:
    """Close a turn that will not be streamed: no provider request left open, no row left
    ``streaming``."""

    async def close() -> None:
        try:
            turn, feed = await request.opening
        except (Exception, asyncio.CancelledError):  # noqa: BLE001  (it left nothing open)
            return
        await chat.abandon_turn(turn, feed)

    task = asyncio.create_task(close())
    _closing.add(task)
    task.add_done_callback(_closing.discard)


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


@dataclasses.dataclass
class ModelItem:
    """A dropdown entry; ``id`` is a string because the select speaks strings."""

    id: str
    name: str


def _release_stop_signal(tab: str, stop: asyncio.Event) -> None:
    """Forget ``tab``'s stream, if ``stop`` is still its signal."""
    if _stop_signals.get(tab) is stop:
        del _stop_signals[tab]


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
    # True while this tab waits for or streams a reply.
    is_streaming: bool = False
    # The conversation the streaming reply belongs to.
    streaming_conversation_id: int = 0
    # Models users may pick now.
    models: list[ModelItem] = []  # noqa: RUF012
    # The picked model's id ("" when there is none).
    selected_model: str = ""
    # Translation key of an error to show above the composer, or empty.
    error_key: str = ""
    # The conversation being renamed or deleted (0: no dialog open).
    rename_id: int = 0
    rename_title: str = ""
    delete_id: int = 0
    # Whether the sidebar is open over the chat (phones only; wide screens always show it).
    sidebar_open: bool = False
    # The question being answered, shown apart from `messages` until its reply ends, so that
    # the history is sent once per turn (when both join `messages`), never per token.
    pending_question: str = ""
    # The rows being streamed (backend only).
    _streaming_question_id: int = 0
    _streaming_reply_id: int = 0

    @rx.var
    def show_streaming(self) -> bool:
        """Whether the streaming reply belongs to the open conversation."""
        return self.is_streaming and self.streaming_conversation_id == self.conversation_id

    async def _refresh_models(self) -> None:
        options = await run_in_session(catalog.list_enabled_models)
        self.models = [ModelItem(id=str(o.id), name=o.name) for o in options]
        ids = {m.id for m in self.models}
        if self.selected_model not in ids:
            self.selected_model = self.models[0].id if self.models else ""

    async def _refresh_conversations(self) -> None:
        rows = await run_in_session(
            conversations.list_conversations, user_id=self._user_id, limit=SIDEBAR_LIMIT
        )
        self.conversations = [
            ConversationItem(id=c.id, title=c.title, model_id=c.model_id or 0) for c in rows
        ]

    @rx.event
    async def load_page(self):
        """``on_load``: verify the session, then load the sidebar, models and conversation."""
        if await self.verified_user() is None:
            return rx.redirect(LOGIN_ROUTE)
        self.error_key = ""
        self.rename_id = self.delete_id = 0
        self.sidebar_open = False
        self.load_seq += 1
        self.turns_since_load = 0
        self.last_turn = []
        if self.is_streaming:  # a reload or reconnect: the browser lost the text so far
            (await self.get_state(StreamState)).resync()
        await self._refresh_models()
        await self._refresh_conversations()
        raw_id = conversation_id_in(self.router.url.path)
        self.has_older = False
        if not raw_id:
            self.conversation_id = 0
            self.messages = []
            return None
        conversation_id = int(raw_id) if raw_id.isdigit() else -1
        try:
            self.messages = await self._message_window(conversation_id, before_id=None)
        except AppError as exc:
            self.conversation_id = 0
            self.messages = []
            self.error_key = exc.code
            return None
        self.conversation_id = conversation_id
        remembered = next(
            (str(c.model_id) for c in self.conversations if c.id == conversation_id), ""
        )
        if remembered in {m.id for m in self.models}:
            self.selected_model = remembered
        return None

    async def _message_window(
        self, conversation_id: int, before_id: int | None
    ) -> list[MessageItem]:
        """Up to MESSAGE_WINDOW messages (before ``before_id``), setting ``has_older``."""
        views = await run_in_session(
            conversations.list_messages,
            user_id=self._user_id,
            conversation_id=conversation_id,
            limit=MESSAGE_WINDOW + 1,
            before_id=before_id,
        )
        self.has_older = len(views) > MESSAGE_WINDOW
        return [
            MessageItem(
                id=v.id, role=v.role, content=v.content, status=v.status, error=v.error or ""
            )
            for v in views[-MESSAGE_WINDOW:]
            if not (
                self.is_streaming
                and v.id in (self._streaming_question_id, self._streaming_reply_id)
            )
        ]

    @rx.event
    async def load_older(self):
        """Show the messages before the earliest one on screen."""
        if await self.verified_user() is None:
            return rx.redirect(LOGIN_ROUTE)
        if not self.conversation_id or not self.messages:
            return None
        try:
            older = await self._message_window(self.conversation_id, self.messages[0].id)
        except AppError as exc:
            self.error_key = exc.code
            return None
        self.messages = [*older, *self.messages]
        return None

    @rx.event
    async def refresh_models(self, is_open: bool = True) -> None:
        """Re-read the enabled models when the dropdown opens."""
        if is_open and await self.verified_user() is not None:
            await self._refresh_models()

    @rx.event
    def pick_model(self, model_id: str) -> None:
        """Use ``model_id`` for the next message of this conversation."""
        if model_id in {m.id for m in self.models}:
            self.selected_model = model_id

    @rx.event
    async def send(self, form: dict[str, str]):
        """Show the question and start the reply; the text stays if it cannot be sent."""
        text = str(form.get("message", ""))
        if self.is_streaming:
            self.error_key = "chat.busy"
            return None
        try:
            chat.validate_message(text)
        except AppError as exc:
            self.error_key = exc.code
            return None
        # The signature only: the turn's own transaction checks that the account is active.
        user_id = self.token_user_id()
        if user_id is None:
            return rx.redirect(LOGIN_ROUTE)
        if user_id != self._user_id:  # another account signed in (shared storage)
            if await self.verified_user() is None:
                return rx.redirect(LOGIN_ROUTE)
            user_id = self._user_id
        if not self.selected_model:
            await self._refresh_models()
            if not self.selected_model:
                self.error_key = "chat.no_models"
                return None
        if self.error_key:
            self.error_key = ""
        tab = self.router.session.client_token
        if (unstarted := _turn_requests.pop(tab, None)) is not None:
            _abandon(unstarted)
        # The provider is asked while this update and the chained stream_reply go out.
        _turn_requests[tab] = _TurnRequest(
            text=text,
            opening=asyncio.create_task(
                chat.open_turn(
                    user_id=user_id,
                    conversation_id=self.conversation_id or None,
                    model_id=int(self.selected_model),
                    text=text,
                    provider_timeout=get_settings().provider_timeout_seconds,
                )
            ),
        )
        self.is_streaming = True
        (await self.get_state(StreamState)).restart()
        self.streaming_conversation_id = self.conversation_id
        self.pending_question = text
        return [rx.set_value(COMPOSER_ID, ""), ChatState.stream_reply]

    @rx.event(background=True)
    async def stream_reply(self):
        """Save the question, stream the reply in time batches, save the reply."""
        settings = get_settings()
        tab = self.router.session.client_token
        # Only as the continuation of `send`, once: never a second stream in one tab.
        request = _turn_requests.pop(tab, None)
        if request is None:
            return
        if tab in _stop_signals:
            _abandon(request)
            return
        stop = asyncio.Event()
        _stop_signals[tab] = stop
        text = request.text
        try:
            try:
                turn, feed = await request.opening
            except (AppError, ProviderError) as exc:
                signed_out = isinstance(exc, AuthError)
                async with self:
                    _release_stop_signal(tab, stop)
                    self.is_streaming = False
                    self.pending_question = ""
                    if signed_out:
                        self._forget_user()
                    else:
                        self.error_key = exc.code
                        await self._refresh_models()
                yield rx.redirect(LOGIN_ROUTE) if signed_out else rx.set_value(COMPOSER_ID, text)
                return
            try:
                async with self:
                    self._streaming_question_id = turn.user_message_id
                    self._streaming_reply_id = turn.reply_message_id
                    self.streaming_conversation_id = turn.conversation_id
                    if self.conversation_id in (0, turn.conversation_id):
                        self.conversation_id = turn.conversation_id
                    self._bump_conversation(turn.conversation_id, turn.title, turn.target.model_id)
                if turn.created_conversation:
                    path = json.dumps(conversation_path(turn.conversation_id))
                    yield rx.call_script(
                        f"window.history.replaceState(window.history.state, '', {path})"
                    )
            except BaseException:
                await chat.abandon_turn(turn, feed)
                raise

            async def show(piece: str) -> None:
                async with self:
                    (await self.get_state(StreamState)).push(piece)

            outcome = await chat.stream_reply(
                turn,
                on_text=show,
                stop=stop,
                batch_seconds=settings.stream_batch_seconds,
                max_batch_seconds=settings.stream_batch_max_seconds,
                provider_timeout=settings.provider_timeout_seconds,
                feed=feed,
            )
            async with self:
                if self.conversation_id == turn.conversation_id:
                    self.turns_since_load += 1
                    self.last_turn = [
                        MessageItem(
                            id=turn.user_message_id,
                            role=MessageRole.USER.value,
                            content=text,
                            status=MessageStatus.COMPLETE.value,
                            error="",
                        ),
                        MessageItem(
                            id=turn.reply_message_id,
                            role=MessageRole.ASSISTANT.value,
                            content=outcome.content,
                            status=outcome.status.value,
                            error=outcome.error or "",
                        ),
                    ]
                (await self.get_state(StreamState)).restart()
                # Before the tab can see the end: its next question must find no stream.
                _release_stop_signal(tab, stop)
                self.pending_question = ""
                self.is_streaming = False
                self._streaming_question_id = self._streaming_reply_id = 0
        finally:
            _release_stop_signal(tab, stop)

    def _bump_conversation(self, conversation_id: int, title: str, model_id: int) -> None:
        rest = [c for c in self.conversations if c.id != conversation_id]
        self.conversations = [ConversationItem(conversation_id, title, model_id), *rest]

    @rx.event
    def toggle_sidebar(self) -> None:
        """Open or close the sidebar over the chat (phones)."""
        self.sidebar_open = not self.sidebar_open

    @rx.event
    def stop_streaming(self) -> None:
        """End the reply now; what was written so far is kept as ``stopped``."""
        signal = _stop_signals.get(self.router.session.client_token)
        if signal is not None:
            signal.set()

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
        if await self.verified_user() is None:
            return rx.redirect(LOGIN_ROUTE)
        try:
            summary = await run_in_session(
                conversations.rename_conversation,
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
        if await self.verified_user() is None:
            return rx.redirect(LOGIN_ROUTE)
        self.delete_id = 0
        try:
            await run_in_session(
                conversations.delete_conversation, user_id=self._user_id, conversation_id=target
            )
        except AppError as exc:
            self.error_key = exc.code
            return None
        self.conversations = [c for c in self.conversations if c.id != target]
        if target == self.conversation_id:
            self.conversation_id = 0
            self.messages = []
            return rx.redirect(HOME_ROUTE)
        return None
