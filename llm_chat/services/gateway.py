"""The OpenAI-compatible gateway: a client's whole message list as one chat turn."""

from __future__ import annotations

import dataclasses

from sqlmodel import Session

from llm_chat.errors import ValidationError
from llm_chat.models import Message, MessageRole, MessageStatus
from llm_chat.providers import ChatMessage
from llm_chat.services import catalog, chat
from llm_chat.services.conversations import create_conversation, title_from_message


def begin_gateway_turn(
    *,
    session: Session,
    user_id: int,
    model: str,
    messages: list[ChatMessage],
    store: bool,
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> chat.Turn:
    """Start a turn for a client that sends the whole conversation each time.

    The provider gets ``messages`` as they are (system messages included). When ``store``
    is true they are saved as a new conversation of the user's: the earlier user and
    assistant messages as they are (system messages are not kept), the last one as a
    question through :func:`llm_chat.services.chat.begin_turn`, so the reply is saved like
    any other.
    ``temperature`` and ``max_tokens`` override the model's settings for this turn.

    Raises:
        ValidationError: the last message is not the user's, or is empty or overlong.
        ProviderError: ``provider.model_unavailable`` if no enabled model is named ``model``.
    """
    if not messages or messages[-1]["role"] != MessageRole.USER:
        raise ValidationError("chat.last_message_not_user")
    question = chat.validate_message(messages[-1]["content"])
    model_id = catalog.find_enabled_model(session=session, ref=model).id
    if store:
        turn = _stored_turn(session, user_id, model_id, messages, question)
    else:
        turn = chat.Turn(
            conversation_id=0,
            title="",
            created_conversation=False,
            user_message_id=0,
            reply_message_id=0,
            target=catalog.resolve_target(session=session, model_id=model_id),
            history=[],
        )
    target = turn.target
    if temperature is not None:
        target = dataclasses.replace(target, temperature=temperature)
    if max_tokens is not None:
        target = dataclasses.replace(target, max_tokens=max_tokens)
    return dataclasses.replace(turn, target=target, history=list(messages))


def _stored_turn(
    session: Session, user_id: int, model_id: int, messages: list[ChatMessage], question: str
) -> chat.Turn:
    first_question = next(m["content"] for m in messages if m["role"] == MessageRole.USER)
    conversation_id = create_conversation(
        session=session,
        user_id=user_id,
        title=title_from_message(first_question) or title_from_message(question),
        model_id=model_id,
    )
    for earlier in messages[:-1]:
        if earlier["role"] in (MessageRole.USER, MessageRole.ASSISTANT) and earlier["content"]:
            session.add(
                Message(
                    conversation_id=conversation_id,
                    role=earlier["role"],
                    content=earlier["content"],
                    status=MessageStatus.COMPLETE.value,
                )
            )
            session.flush()  # one at a time, so ids keep the order
    turn = chat.begin_turn(
        session=session,
        user_id=user_id,
        conversation_id=conversation_id,
        model_id=model_id,
        text=question,
    )
    return dataclasses.replace(turn, created_conversation=True)
