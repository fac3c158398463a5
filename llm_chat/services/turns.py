"""The chat turn, one path for every door (the web UI, ``/api/chat``, ``/v1``).

plan (account, model, conversation, context window) -> provider request -> rows ->
batches -> outcome. A started turn runs in a task of its own, so a door that goes away
(a closed tab, a disconnected API client) cannot cut the reply off before it is saved; the
door reads its batches and its outcome. Every running turn of this process is in one
registry, where any door can stop it by conversation or by reply id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from llm_chat.config import get_settings
from llm_chat.errors import NotFoundError
from llm_chat.models import MessageRole, MessageStatus
from llm_chat.models.base import utcnow
from llm_chat.providers import ChatMessage, StreamStats, classify_provider_error, stream_pieces
from llm_chat.providers.errors import INTERRUPTED
from llm_chat.services import usage
from llm_chat.services.conversations import MessageView
from llm_chat.services.replies import Batch, ReplyFeed, batch_by_time
from llm_chat.services.stream_owners import owners
from llm_chat.services.stream_slots import RENEW_SECONDS, slot_store, take_slot
from llm_chat.services.turn_plan import ModelChoice, TurnPlan, plan_gateway_turn, plan_turn
from llm_chat.services.turn_rows import TurnRows, record_turn, save_reply
from llm_chat.services.usage import TurnUsage

logger = logging.getLogger(__name__)

# How often a streaming reply's text so far is saved (a crash loses at most this much).
CHECKPOINT_SECONDS = 3.0
# How long a turn's rows may wait for the provider to answer its request (see _launch).
RECORD_WAIT_SECONDS = 0.25


@dataclass(frozen=True)
class ReplyOutcome:
    """How a reply ended and what it said."""

    content: str
    reasoning: str
    status: MessageStatus
    error: str | None
    # The tokens the turn used and their cost (as saved).
    usage: TurnUsage | None = None


class RunningTurn:
    """A started turn: its rows are written and its reply streams in a task of its own."""

    def __init__(
        self, plan: TurnPlan, rows: TurnRows, feed: ReplyFeed, stats: StreamStats, slot: str
    ) -> None:
        self.plan = plan
        self.rows = rows
        self.stats = stats
        self._feed = feed
        self._slot = slot
        self._stop = asyncio.Event()
        self._stopped_status = MessageStatus.STOPPED
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._used: TurnUsage | None = None
        # Batches not yet handed to the door: a door that is slow takes them joined.
        self._unread: list[Batch] = []
        self._ready = asyncio.Event()
        # Set (and replaced) at each new batch and at the end: what watchers wait for.
        self._grown = asyncio.Event()
        _register(self)
        self._task = asyncio.create_task(self._run())
        self._task.add_done_callback(self._ended)

    def _ended(self, _task: asyncio.Task[ReplyOutcome]) -> None:
        self._ready.set()
        self._grown.set()

    @property
    def user_id(self) -> int:
        """Whose turn it is."""
        return self.plan.user_id

    @property
    def conversation_id(self) -> int:
        """The conversation the reply belongs to (0: not saved)."""
        return self.rows.conversation_id

    @property
    def reply_message_id(self) -> int:
        """The reply's row, also the turn's id (0: not saved)."""
        return self.rows.reply_message_id

    def done(self) -> bool:
        """Whether the reply has ended and is saved."""
        return self._task.done()

    def stop(self, status: MessageStatus = MessageStatus.STOPPED) -> None:
        """End the reply now; what it said so far is saved with ``status``."""
        if not self._stop.is_set():
            self._stopped_status = status
            self._stop.set()

    async def batches(self) -> AsyncIterator[Batch]:
        """The reply as it streams, batch by batch, until it ends (one reader only).

        Batches that came while the reader was busy come joined, as one.
        """
        while True:
            if not self._unread:
                if self._task.done():
                    return
                self._ready.clear()
                await self._ready.wait()
                continue
            unread, self._unread = self._unread, []
            if len(unread) == 1:
                yield unread[0]
            else:
                yield Batch("".join(b.text for b in unread), "".join(b.reasoning for b in unread))

    async def watch(self) -> AsyncIterator[Batch]:
        """The reply so far as one batch, then each new batch, until it ends.

        For any number of readers besides the door's (another tab showing the same reply).
        """
        text_seen = reasoning_seen = 0
        while True:
            grown = self._grown
            text, reasoning = self._text[text_seen:], self._reasoning[reasoning_seen:]
            if text or reasoning:
                text_seen += len(text)
                reasoning_seen += len(reasoning)
                yield Batch("".join(text), "".join(reasoning))
                continue
            if self._task.done():
                return
            await grown.wait()

    async def outcome(self) -> ReplyOutcome:
        """How the reply ended (waits until it is saved)."""
        return await asyncio.shield(self._task)

    def messages(self, outcome: ReplyOutcome) -> tuple[MessageView, MessageView]:
        """The question and the reply of the finished turn, as a reload would show them."""
        plan, rows, now = self.plan, self.rows, utcnow()
        question = MessageView(
            id=rows.user_message_id,
            role=MessageRole.USER,
            content=plan.text,
            status=MessageStatus.COMPLETE,
            error=None,
            reasoning="",
            model_id=None,
            model_name="",
            provider_name="",
            context_dropped=0,
            created_at=now,
        )
        reply = MessageView(
            id=rows.reply_message_id,
            role=MessageRole.ASSISTANT,
            content=outcome.content,
            status=outcome.status,
            error=outcome.error,
            reasoning=outcome.reasoning,
            model_id=plan.target.model_id,
            model_name=plan.target.display_name,
            provider_name=plan.target.provider_name,
            context_dropped=plan.context_dropped,
            created_at=now,
        )
        return question, reply

    async def close(self, status: MessageStatus = MessageStatus.INTERRUPTED) -> ReplyOutcome:
        """The door is gone: stop the reply if it still runs, and wait until it is saved."""
        self.stop(status)
        await asyncio.wait({self._task})
        return self._task.result()

    async def _save(
        self, status: MessageStatus, error: str | None, used: TurnUsage | None = None
    ) -> None:
        """Save the reply so far; at the end (``used``) with what the turn used."""
        if not self.reply_message_id and used is None:  # a turn that is not saved
            return
        await save_reply(
            message_id=self.reply_message_id,
            content="".join(self._text),
            reasoning="".join(self._reasoning),
            status=status,
            error=error,
            usage_id=self.rows.usage_id,
            used=used,
        )

    async def _checkpoint(self) -> None:
        """Save the text so far; a failure is logged, the reply goes on (its end saves it)."""
        try:
            await self._save(MessageStatus.STREAMING, None)
        except Exception:
            logger.exception("Reply %s: a checkpoint could not be saved", self.reply_message_id)

    async def _run(self) -> ReplyOutcome:
        settings = get_settings()
        status, error = MessageStatus.COMPLETE, None
        loop = asyncio.get_running_loop()
        last_checkpoint = last_renewal = loop.time()
        batches = batch_by_time(
            self._feed,
            settings.stream_batch_seconds,
            self._stop,
            max_interval=settings.stream_batch_max_seconds,
        )
        try:
            async for batch in batches:
                if batch.text:
                    self._text.append(batch.text)
                if batch.reasoning:
                    self._reasoning.append(batch.reasoning)
                self._unread.append(batch)
                self._ready.set()
                self._grown.set()
                self._grown = asyncio.Event()
                if loop.time() - last_checkpoint >= CHECKPOINT_SECONDS:
                    last_checkpoint = loop.time()
                    await self._checkpoint()
                if loop.time() - last_renewal >= RENEW_SECONDS:
                    last_renewal = loop.time()
                    await slot_store().renew(self.user_id, self._slot)
            if self._stop.is_set():
                status = self._stopped_status
        except asyncio.CancelledError:
            status, error = MessageStatus.INTERRUPTED, INTERRUPTED
            raise
        except Exception as exc:  # noqa: BLE001  (every provider failure ends the turn cleanly)
            code = classify_provider_error(exc)
            said = bool(self._text or self._reasoning)
            status = MessageStatus.INTERRUPTED if said else MessageStatus.ERROR
            error = INTERRUPTED if said else code
            logger.warning(
                "Reply %s from model %s failed: %s (%s)",
                self.reply_message_id,
                self.plan.target.model_id,
                code,
                type(exc).__name__,
            )
        finally:
            await batches.aclose()
            try:
                used = self._used = usage.at_end(
                    self.plan.target,
                    self.stats,
                    prompt_estimate=self.plan.prompt_tokens,
                    content="".join(self._text),
                    reasoning="".join(self._reasoning),
                )
                await asyncio.shield(self._save(status, error, used))
                if self.reply_message_id:
                    await asyncio.shield(owners().release(self.reply_message_id))
            except Exception:  # the reply ends for its readers all the same
                logger.exception("Reply %s could not be saved", self.reply_message_id)
            finally:
                _unregister(self)
                await asyncio.shield(slot_store().give_back(self.user_id, self._slot))
        return ReplyOutcome(
            content="".join(self._text),
            reasoning="".join(self._reasoning),
            status=status,
            error=error,
            usage=self._used,
        )


# The turns running in this process, by user.
_running: dict[int, set[RunningTurn]] = {}


def _register(turn: RunningTurn) -> None:
    _running.setdefault(turn.user_id, set()).add(turn)


def _unregister(turn: RunningTurn) -> None:
    turns = _running.get(turn.user_id)
    if turns is not None:
        turns.discard(turn)
        if not turns:
            del _running[turn.user_id]


def running_turns(user_id: int) -> list[RunningTurn]:
    """The user's turns running in this process."""
    return list(_running.get(user_id, ()))


def running_count() -> int:
    """How many turns run in this process."""
    return sum(len(turns) for turns in _running.values())


def stop_turns(
    *,
    user_id: int,
    conversation_id: int | None = None,
    reply_message_id: int | None = None,
    status: MessageStatus = MessageStatus.STOPPED,
) -> int:
    """Stop the user's running turns in a conversation, or the one with that reply.

    Only the user's own turns are ever found. Returns how many were stopped.

    Raises:
        NotFoundError: neither ``conversation_id`` nor ``reply_message_id`` is given.
    """
    if conversation_id is None and reply_message_id is None:
        raise NotFoundError()
    stopped = 0
    for turn in running_turns(user_id):
        if turn.done():
            continue
        if conversation_id is not None and turn.conversation_id != conversation_id:
            continue
        if reply_message_id is not None and turn.reply_message_id != reply_message_id:
            continue
        turn.stop(status)
        stopped += 1
    return stopped


async def _launch(plan: TurnPlan, slot: str) -> RunningTurn:
    """Ask the provider, then write the turn's rows, then stream.

    The rows are written once the provider has answered the request (at most
    :data:`RECORD_WAIT_SECONDS` later), while it prepares its first token; if they cannot
    be written, the request is closed again. Writing only after the answer keeps the writes
    out of the way of other turns' requests: with 100 turns starting at once, every write
    came before the requests still waiting for their connection to the provider
    (``make bench``).
    """
    answered = asyncio.Event()
    stats = StreamStats()
    feed = ReplyFeed(
        stream_pieces(
            plan.target,
            plan.messages,
            provider_timeout=get_settings().provider_timeout_seconds,
            stats=stats,
            answered=answered,
        ),
        answered,
    )
    try:
        await feed.wait_answered(RECORD_WAIT_SECONDS)
        rows = await record_turn(plan=plan)
        if rows.reply_message_id:
            await owners().claim(rows.reply_message_id)
    except BaseException:
        await feed.aclose()
        raise
    return RunningTurn(plan, rows, feed, stats, slot)


@contextlib.asynccontextmanager
async def _slot_for(user_id: int, limit: int) -> AsyncIterator[str]:
    """A stream slot of ``user_id`` (who may stream ``limit`` replies at once, 0: any number)
    for a turn being started; given back if it fails to start (a started turn gives it back
    when its reply is saved)."""
    slot = await take_slot(user_id, limit)
    try:
        yield slot
    except BaseException:
        await asyncio.shield(slot_store().give_back(user_id, slot))
        raise


async def start_turn(
    *,
    user_id: int,
    conversation_id: int | None,
    model: ModelChoice,
    text: str,
    token_version: int | None = None,
) -> RunningTurn:
    """Start a chat turn of a signed-in user (whose token's signature the door checked).

    ``model``: see :data:`llm_chat.services.turn_plan.ModelChoice`. ``token_version``: the
    sign-in token's, if the door has not checked it against the database.

    Raises:
        LimitError: the user has as many replies streaming as allowed.
        ValidationError, AuthError, RateLimitedError, NotFoundError, ProviderError: as
            :func:`llm_chat.services.turn_plan.plan_turn`; nothing is written or asked then.
    """
    plan = await plan_turn(
        user_id=user_id,
        conversation_id=conversation_id,
        model=model,
        text=text,
        token_version=token_version,
    )
    async with _slot_for(user_id, plan.concurrent_streams) as slot:
        return await _launch(plan, slot)


async def start_gateway_turn(
    *,
    user_id: int,
    model: str,
    messages: list[ChatMessage],
    store: bool,
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> RunningTurn:
    """Start a turn for a client that sends the whole conversation (``/v1``).

    Raises:
        LimitError: the user has as many replies streaming as allowed.
        ValidationError, AuthError, RateLimitedError, ProviderError: as
            :func:`llm_chat.services.turn_plan.plan_gateway_turn`.
    """
    plan = await plan_gateway_turn(
        user_id=user_id,
        model=model,
        messages=messages,
        store=store,
        temperature=temperature,
        max_tokens=max_tokens,
    )
    async with _slot_for(user_id, plan.concurrent_streams) as slot:
        return await _launch(plan, slot)
