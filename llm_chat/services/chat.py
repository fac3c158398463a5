"""One chat turn: save the question, stream the answer, save the answer however it ends."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from llm_chat.db import inserted_id, run_short_in_session
from llm_chat.errors import NotFoundError, ValidationError
from llm_chat.models import Conversation, Message, MessageRole, MessageStatus
from llm_chat.models.base import utcnow
from llm_chat.providers import (
    ChatMessage,
    ModelTarget,
    StreamStats,
    classify_provider_error,
    stream_chat,
)
from llm_chat.providers.errors import INTERRUPTED
from llm_chat.services.catalog import resolve_target
from llm_chat.services.conversations import create_conversation, title_from_message
from llm_chat.services.users import get_active_user

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 100_000
CHECKPOINT_SECONDS = 3.0
# How long a turn's rows may wait for the provider to answer its request (see open_turn).
RECORD_WAIT_SECONDS = 0.25
# How long batches take to grow from the first interval to the largest (see batch_by_time).
BATCH_RAMP_SECONDS = 2.0


@dataclass(frozen=True)
class Turn:
    """A started turn: the question is saved, the answer's row waits as ``streaming``.

    A turn that is not stored (an API client opted out) has no rows: its ids are 0.
    """

    conversation_id: int
    title: str
    created_conversation: bool
    user_message_id: int
    reply_message_id: int
    target: ModelTarget
    history: list[ChatMessage]


@dataclass(frozen=True)
class ReplyOutcome:
    """How a reply ended and what it said."""

    content: str
    status: MessageStatus
    error: str | None


def validate_message(text: str) -> str:
    """The message to send, or a ValidationError."""
    if not text.strip():
        raise ValidationError("chat.message_empty")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ValidationError("chat.message_too_long")
    return text


# A turn's reads and writes, as plain statements whose values come at execution: no ORM
# objects, and no statement built and cache-keyed per call (that was most of their cost).
_MESSAGE = Message.__table__  # type: ignore[attr-defined]  (SQLModel sets it)
_CONVERSATION = Conversation.__table__  # type: ignore[attr-defined]
# The conversation ``conversation`` if it belongs to ``owner``.
_OWNED = (
    _CONVERSATION.c.id == sa.bindparam("conversation"),
    _CONVERSATION.c.user_id == sa.bindparam("owner"),
)
_OWNED_TITLE = sa.select(_CONVERSATION.c.title).where(*_OWNED)
_HISTORY = (
    sa.select(_MESSAGE.c.role, _MESSAGE.c.content)
    .where(_MESSAGE.c.conversation_id == sa.bindparam("conversation"))
    .order_by(_MESSAGE.c.id)
)
_INSERT_MESSAGE = sa.insert(_MESSAGE)
_TOUCH_CONVERSATION = sa.update(_CONVERSATION).where(*_OWNED)
_SAVE_REPLY = sa.update(_MESSAGE).where(_MESSAGE.c.id == sa.bindparam("message"))


def history_of(*, session: Session, conversation_id: int) -> list[ChatMessage]:
    """The conversation as the provider should see it: every non-empty message, in order."""
    rows = session.connection().execute(_HISTORY, {"conversation": conversation_id})
    return [
        {"role": role, "content": content}  # type: ignore[typeddict-item]
        for role, content in rows
        if content and role in (MessageRole.USER, MessageRole.ASSISTANT)
    ]


@dataclass(frozen=True)
class TurnPlan:
    """What a turn sends to the provider, read and checked before anything is written."""

    user_id: int
    # None: the turn starts a new conversation.
    conversation_id: int | None
    title: str
    model_id: int
    text: str
    target: ModelTarget
    # What the provider gets: the conversation so far, then the question.
    history: list[ChatMessage]


def plan_turn(
    *,
    session: Session,
    user_id: int,
    conversation_id: int | None,
    model_id: int,
    text: str,
    verify_user: bool = False,
) -> TurnPlan:
    """Read and check everything a turn needs; write nothing.

    With ``verify_user``, the account must still exist and be active (the caller checked
    only the token's signature).

    Raises:
        ValidationError: an empty or overlong message.
        AuthError: (``verify_user``) the account is gone or disabled.
        NotFoundError: ``conversation_id`` is not the user's.
        ProviderError: the model is missing or disabled.
    """
    text = validate_message(text)
    if verify_user:
        get_active_user(session=session, user_id=user_id)
    target = resolve_target(session=session, model_id=model_id)
    if conversation_id is None:
        title, history = title_from_message(text), []
    else:
        title = (
            session.connection()
            .execute(_OWNED_TITLE, {"conversation": conversation_id, "owner": user_id})
            .scalar()
        )
        if title is None:
            raise NotFoundError("error.conversation_not_found")
        history = history_of(session=session, conversation_id=conversation_id)
    return TurnPlan(
        user_id=user_id,
        conversation_id=conversation_id,
        title=title,
        model_id=model_id,
        text=text,
        target=target,
        history=[*history, {"role": "user", "content": text}],
    )


def record_turn(*, session: Session, plan: TurnPlan) -> Turn:
    """Save the question and the reply's placeholder (``streaming``) of a planned turn.

    Raises:
        NotFoundError: the conversation was deleted since the plan was made.
    """
    connection = session.connection()
    created = plan.conversation_id is None
    if plan.conversation_id is None:
        conversation_id = create_conversation(
            session=session, user_id=plan.user_id, title=plan.title, model_id=plan.model_id
        )
    else:
        conversation_id = plan.conversation_id
        touched = connection.execute(
            _TOUCH_CONVERSATION,
            {
                "conversation": conversation_id,
                "owner": plan.user_id,
                "model_id": plan.model_id,
                "updated_at": utcnow(),
            },
        )
        if touched.rowcount != 1:
            raise NotFoundError("error.conversation_not_found")
    # One row each, so that the question's id is below the reply's.
    question_id = inserted_id(
        connection.execute(
            _INSERT_MESSAGE,
            {
                "conversation_id": conversation_id,
                "role": MessageRole.USER.value,
                "content": plan.text,
                "status": MessageStatus.COMPLETE.value,
            },
        )
    )
    reply_id = inserted_id(
        connection.execute(
            _INSERT_MESSAGE,
            {
                "conversation_id": conversation_id,
                "role": MessageRole.ASSISTANT.value,
                "content": "",
                "status": MessageStatus.STREAMING.value,
                "model_id": plan.model_id,
            },
        )
    )
    return Turn(
        conversation_id=conversation_id,
        title=plan.title,
        created_conversation=created,
        user_message_id=question_id,
        reply_message_id=reply_id,
        target=plan.target,
        history=plan.history,
    )


def begin_turn(
    *, session: Session, user_id: int, conversation_id: int | None, model_id: int, text: str
) -> Turn:
    """Save the user's message (and the reply's placeholder) before the provider is called.

    Raises:
        ValidationError: an empty or overlong message.
        NotFoundError: ``conversation_id`` is not the user's.
        ProviderError: the model is missing or disabled (nothing is saved).
    """
    plan = plan_turn(
        session=session,
        user_id=user_id,
        conversation_id=conversation_id,
        model_id=model_id,
        text=text,
    )
    return record_turn(session=session, plan=plan)


def save_reply(
    *,
    session: Session,
    message_id: int,
    content: str,
    status: MessageStatus,
    error: str | None = None,
) -> None:
    """Store the reply's text and status (a checkpoint while streaming, or the end).

    One UPDATE, without reading the row first; it changes nothing if the conversation was
    deleted meanwhile.
    """
    session.connection().execute(
        _SAVE_REPLY,
        {
            "message": message_id,
            "content": content,
            "status": status.value,
            "error": error,
            "updated_at": utcnow(),
        },
    )


class ReplyFeed:
    """A reply's pieces, read from ``source`` by a task of its own from the moment it exists.

    Reading starts at once, so a provider request can go out before the turn's rows are
    written. A piece costs a list append; the consumer (:func:`batch_by_time`) waits once per
    batch, not once per piece.
    """

    def __init__(self, source: AsyncIterator[str], answered: asyncio.Event | None = None) -> None:
        """Start reading ``source``; ``answered``: set by ``source`` once the provider has
        answered the request (see :func:`llm_chat.providers.client.stream_chat`)."""
        self.buffer: list[str] = []
        self.arrived = asyncio.Event()
        self.failure: BaseException | None = None
        self.answered = answered if answered is not None else asyncio.Event()
        self._source = source
        self.reader = asyncio.ensure_future(self._pump())

    async def _pump(self) -> None:
        try:
            async for piece in self._source:
                self.buffer.append(piece)
                self.arrived.set()
        except Exception as exc:  # noqa: BLE001  (raised by the consumer, after the text)
            self.failure = exc
        finally:
            self.answered.set()  # also when the request failed or the reply was short

    async def wait_answered(self, seconds: float) -> None:
        """Wait until the provider has answered the request (or failed), at most ``seconds``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.answered.wait()

    async def aclose(self) -> None:
        """Stop reading and close ``source`` (its HTTP response, so the provider stops)."""
        if not self.reader.done():
            self.reader.cancel()
        await asyncio.gather(self.reader, return_exceptions=True)
        aclose = getattr(self._source, "aclose", None)
        if aclose is not None:
            await aclose()


async def batch_by_time(
    source: AsyncIterator[str] | ReplyFeed,
    interval: float,
    stop: asyncio.Event,
    *,
    max_interval: float | None = None,
) -> AsyncGenerator[str, None]:
    """Join pieces that arrive within ``interval`` seconds; the first goes out at once.

    With ``max_interval``, the interval grows from ``interval`` to it over the first
    BATCH_RAMP_SECONDS: the start of a reply stays lively, a long reply takes few frames
    (each costs a fixed envelope on the wire; the browser smooths the text between them).
    Ends early when ``stop`` is set. An error of ``source`` is raised after what came
    before it has been yielded. ``source`` is closed when the batches end.
    """
    loop = asyncio.get_running_loop()
    feed = source if isinstance(source, ReplyFeed) else ReplyFeed(source)
    buffer, reader = feed.buffer, feed.reader
    stopped = asyncio.ensure_future(stop.wait())
    first_flush: float | None = None
    last_flush = -math.inf

    def interval_now(now: float) -> float:
        if max_interval is None or first_flush is None:
            return interval
        progress = min(1.0, (now - first_flush) / BATCH_RAMP_SECONDS)
        return interval + (max_interval - interval) * progress

    try:
        while not stop.is_set():
            if not buffer:
                if reader.done():
                    break
                feed.arrived.clear()
                waiter = asyncio.ensure_future(feed.arrived.wait())
                await asyncio.wait({waiter, reader, stopped}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                continue
            now = loop.time()
            delay = last_flush + interval_now(now) - now
            if delay > 0 and not reader.done():
                # Gather more; the end of the source or a stop flushes at once.
                await asyncio.wait({reader, stopped}, timeout=delay)
                if stop.is_set():
                    break
            text = "".join(buffer)
            buffer.clear()
            last_flush = loop.time()
            if first_flush is None:
                first_flush = last_flush
            yield text
        if buffer:
            yield "".join(buffer)
            buffer.clear()
        if feed.failure is not None and not stop.is_set():
            raise feed.failure
    finally:
        if not stopped.done():
            stopped.cancel()
        await asyncio.gather(stopped, return_exceptions=True)
        await feed.aclose()


async def _save(message_id: int, content: str, status: MessageStatus, error: str | None) -> None:
    if not message_id:  # a turn that is not stored
        return
    await run_short_in_session(
        save_reply, message_id=message_id, content=content, status=status, error=error
    )


async def stream_reply(
    turn: Turn,
    *,
    on_text: Callable[[str], Awaitable[None]],
    stop: asyncio.Event,
    batch_seconds: float,
    max_batch_seconds: float | None = None,
    provider_timeout: float = 60.0,
    stopped_status: MessageStatus = MessageStatus.STOPPED,
    stats: StreamStats | None = None,
    feed: ReplyFeed | None = None,
) -> ReplyOutcome:
    """Stream the reply to ``on_text`` in time batches and save it however it ends.

    Ends as ``complete``, ``stopped`` (``stop`` was set; ``stopped_status`` names it
    otherwise, e.g. ``interrupted`` when an API client went away), ``error`` (the provider
    failed before any text) or ``interrupted`` (it failed midway, or the task was
    cancelled); the text produced so far is saved in every case. ``stats`` receives the
    provider's token counts, if it reports them. ``feed``: the reply, already requested
    (see :func:`open_turn`); else it is requested now.
    """
    parts: list[str] = []
    status, error = MessageStatus.COMPLETE, None
    if feed is None:
        feed = ReplyFeed(
            stream_chat(turn.target, turn.history, provider_timeout=provider_timeout, stats=stats)
        )
    loop = asyncio.get_running_loop()
    last_checkpoint = loop.time()
    batches = batch_by_time(feed, batch_seconds, stop, max_interval=max_batch_seconds)
    try:
        async with contextlib.aclosing(batches):
            async for text in batches:
                parts.append(text)
                await on_text(text)
                if loop.time() - last_checkpoint >= CHECKPOINT_SECONDS:
                    last_checkpoint = loop.time()
                    await _save(
                        turn.reply_message_id, "".join(parts), MessageStatus.STREAMING, None
                    )
        if stop.is_set():
            status = stopped_status
    except asyncio.CancelledError:
        status, error = MessageStatus.INTERRUPTED, INTERRUPTED
        raise
    except Exception as exc:  # noqa: BLE001  (every provider failure ends the turn cleanly)
        code = classify_provider_error(exc)
        status = MessageStatus.INTERRUPTED if parts else MessageStatus.ERROR
        error = INTERRUPTED if parts else code
        logger.warning(
            "Reply %s from model %s failed: %s (%s)",
            turn.reply_message_id,
            turn.target.model_id,
            code,
            type(exc).__name__,
        )
    finally:
        await feed.aclose()
        content = "".join(parts)
        await asyncio.shield(_save(turn.reply_message_id, content, status, error))
    return ReplyOutcome(content=content, status=status, error=error)


async def open_turn(
    *,
    user_id: int,
    conversation_id: int | None,
    model_id: int,
    text: str,
    provider_timeout: float,
) -> tuple[Turn, ReplyFeed]:
    """Start a chat turn of a signed-in user, asking the provider as early as possible.

    The turn is read and checked first (the account too), then the provider request goes
    out, and the question and the reply's placeholder are written once the provider has
    answered it (at most :data:`RECORD_WAIT_SECONDS` later), while it prepares its first
    token. If they cannot be written, the request is closed again.

    Writing only after the answer keeps the writes out of the way of other turns' requests:
    with 100 turns starting at once, every write came before the requests still waiting
    for their connection to the provider (``make bench``).

    Raises:
        AppError, ProviderError: as :func:`plan_turn` and :func:`record_turn`.
    """
    plan = await run_short_in_session(
        plan_turn,
        user_id=user_id,
        conversation_id=conversation_id,
        model_id=model_id,
        text=text,
        verify_user=True,
    )
    answered = asyncio.Event()
    feed = ReplyFeed(
        stream_chat(
            plan.target, plan.history, provider_timeout=provider_timeout, answered=answered
        ),
        answered,
    )
    try:
        await feed.wait_answered(RECORD_WAIT_SECONDS)
        turn = await run_short_in_session(record_turn, plan=plan)
    except BaseException:
        await feed.aclose()
        raise
    return turn, feed


async def abandon_turn(turn: Turn, feed: ReplyFeed) -> None:
    """Close a turn that was opened but will not be streamed: its reply ends interrupted."""
    await feed.aclose()
    await _save(turn.reply_message_id, "", MessageStatus.INTERRUPTED, INTERRUPTED)
