"""A chat turn before anything is written: who asks, with which model, in which conversation,
and what the provider gets."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from llm_chat.db import short_transaction
from llm_chat.errors import NotFoundError, ValidationError
from llm_chat.models import Conversation, Message, MessageRole
from llm_chat.providers import ChatMessage, ModelTarget, ProviderError
from llm_chat.services.catalog import find_enabled_model, resolve_target
from llm_chat.services.context import fit_context, reserve_for
from llm_chat.services.conversations import owned_by, title_from_message
from llm_chat.services.limits import check_turn
from llm_chat.services.users import get_active_user

MAX_MESSAGE_CHARS = 100_000

# What a turn asks for: a model id (the web UI's picker), a reference (an API client: a name,
# a provider model id or an id as text), or None: the conversation's own model, else the
# default.
ModelChoice = int | str | None


@dataclass(frozen=True)
class TurnPlan:
    """A turn read and checked, ready to ask the provider; nothing is written yet."""

    user_id: int
    # None: the turn starts a new conversation.
    conversation_id: int | None
    title: str
    # The question.
    text: str
    target: ModelTarget
    # What the provider gets: the system prompt, the newest history that fits, the question.
    messages: list[ChatMessage]
    # How many earlier messages were left out to fit the model's context window.
    context_dropped: int
    # The estimated size of ``messages`` in tokens.
    prompt_tokens: int
    # False: nothing of the turn is saved (an API client opted out).
    store: bool = True
    # Messages a new conversation starts with, saved before the question (the gateway's).
    earlier: tuple[ChatMessage, ...] = ()
    # How many replies the user may have streaming at once (0: no limit).
    concurrent_streams: int = 0


def validate_message(text: str) -> str:
    """The message to send, or a ValidationError."""
    if not text.strip():
        raise ValidationError("chat.message_empty")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ValidationError("chat.message_too_long")
    return text


# A turn's reads as plain statements built once, values at execution: no ORM objects, and
# no statement built and cache-keyed per call (that was most of their cost).
_MESSAGES = Message.__table__  # type: ignore[attr-defined]  (SQLModel sets it)
_CONVERSATIONS = Conversation.__table__  # type: ignore[attr-defined]
_OWNED_CONVERSATION = sa.select(_CONVERSATIONS.c.title, _CONVERSATIONS.c.model_id).where(
    owned_by(sa.bindparam("owner"), sa.bindparam("conversation"))
)
# The provider never gets a message's reasoning back, only what was said.
_HISTORY = (
    sa.select(_MESSAGES.c.role, _MESSAGES.c.content)
    .where(_MESSAGES.c.conversation_id == sa.bindparam("conversation"))
    .order_by(_MESSAGES.c.id)
)


def history_of(session: Session, conversation_id: int) -> list[ChatMessage]:
    """The conversation as the provider should see it: every non-empty message, in order."""
    rows = session.connection().execute(_HISTORY, {"conversation": conversation_id})
    return [
        {"role": role, "content": content}  # type: ignore[typeddict-item]
        for role, content in rows
        if content and role in (MessageRole.USER, MessageRole.ASSISTANT)
    ]


def _choose_target(
    session: Session, model: ModelChoice, remembered: int | None, role: str
) -> ModelTarget:
    """The model the turn uses: the one asked for, else the conversation's, else the default
    (among the models open to the user's ``role``).

    Raises:
        ProviderError: the model asked for (or, with none asked for, every model) is
            unavailable.
    """
    if isinstance(model, int):
        return resolve_target(session, model_id=model, role=role)
    if model and model.strip():
        found = find_enabled_model(session, ref=model, role=role)
        return resolve_target(session, model_id=found.id, role=role)
    if remembered is not None:
        try:
            return resolve_target(session, model_id=remembered, role=role)
        except ProviderError:
            pass  # disabled or deleted since: the conversation goes on with the default
    found = find_enabled_model(session, ref="", role=role)
    return resolve_target(session, model_id=found.id, role=role)


@short_transaction
def plan_turn(
    session: Session,
    *,
    user_id: int,
    conversation_id: int | None,
    model: ModelChoice,
    text: str,
    token_version: int | None = None,
) -> TurnPlan:
    """Read and check everything a turn needs; write nothing.

    ``token_version``: the version of the sign-in token the door checked only the
    signature of (the web app's send), checked here; None if the door checked the token.

    Raises:
        ValidationError: an empty or overlong message, or one the model cannot take.
        AuthError: the account is gone or disabled, or the token was revoked.
        RateLimitedError: the user is over a limit (see :func:`limits.check_turn`).
        NotFoundError: ``conversation_id`` is not the user's.
        ProviderError: the model is missing or disabled.
    """
    text = validate_message(text)
    user = get_active_user.within(session, user_id=user_id, token_version=token_version)
    limits = check_turn(session, user_id=user_id, role=user.role)
    if conversation_id is None:
        title, remembered, history = title_from_message(text), None, []
    else:
        row = (
            session.connection()
            .execute(_OWNED_CONVERSATION, {"conversation": conversation_id, "owner": user_id})
            .first()
        )
        if row is None:
            raise NotFoundError("error.conversation_not_found")
        title, remembered = row
        history = history_of(session, conversation_id)
    target = _choose_target(session, model, remembered, user.role)
    fit = fit_context(
        system_prompt=target.system_prompt,
        history=history,
        question={"role": "user", "content": text},
        context_window=target.context_window,
        reserve_output=reserve_for(target.context_window, target.max_tokens),
    )
    return TurnPlan(
        user_id=user_id,
        conversation_id=conversation_id,
        title=title,
        text=text,
        target=target,
        messages=fit.messages,
        context_dropped=fit.dropped,
        prompt_tokens=fit.prompt_tokens,
        concurrent_streams=limits.concurrent_streams,
    )


@short_transaction
def plan_gateway_turn(
    session: Session,
    *,
    user_id: int,
    model: str,
    messages: list[ChatMessage],
    store: bool,
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> TurnPlan:
    """A turn for a client that sends the whole conversation each time (``/v1``).

    The provider gets the model's system prompt, the client's system messages, and the
    newest of its other messages that fit the context window. When ``store`` is true the
    exchange is saved as a new conversation: the earlier user and assistant messages as
    they are (system messages are not kept), the last one as the question.
    ``temperature`` and ``max_tokens`` override the model's settings for this turn.

    Raises:
        ValidationError: the last message is not the user's, or is empty or overlong.
        AuthError: the account is gone or disabled.
        RateLimitedError: the user is over a limit (see :func:`limits.check_turn`).
        ProviderError: ``provider.model_unavailable`` if no enabled model is named ``model``.
    """
    if not messages or messages[-1]["role"] != MessageRole.USER:
        raise ValidationError("chat.last_message_not_user")
    question = validate_message(messages[-1]["content"])
    role = get_active_user.within(session, user_id=user_id).role
    limits = check_turn(session, user_id=user_id, role=role)
    found = find_enabled_model(session, ref=model, role=role)
    target = resolve_target(session, model_id=found.id, role=role)
    if temperature is not None:
        target = dataclasses.replace(target, temperature=temperature)
    if max_tokens is not None:
        target = dataclasses.replace(target, max_tokens=max_tokens)
    earlier = messages[:-1]
    pinned = [m for m in earlier if m["role"] == "system"]
    said = [m for m in earlier if m["role"] != "system"]
    fit = fit_context(
        system_prompt="\n\n".join(
            p for p in (target.system_prompt, *(m["content"] for m in pinned)) if p.strip()
        ),
        history=said,
        question={"role": "user", "content": question},
        context_window=target.context_window,
        reserve_output=reserve_for(target.context_window, target.max_tokens),
    )
    kept = fit.messages[-(len(said) - fit.dropped + 1) :]
    system: list[ChatMessage] = (
        [{"role": "system", "content": target.system_prompt}]
        if target.system_prompt.strip()
        else []
    )
    first_question = next((m["content"] for m in messages if m["role"] == MessageRole.USER), "")
    return TurnPlan(
        user_id=user_id,
        conversation_id=None,
        title=title_from_message(first_question) or title_from_message(question),
        text=question,
        target=target,
        messages=[*system, *pinned, *kept],
        context_dropped=fit.dropped,
        prompt_tokens=fit.prompt_tokens,
        store=store,
        earlier=tuple(m for m in said if m["content"]),
        concurrent_streams=limits.concurrent_streams,
    )
