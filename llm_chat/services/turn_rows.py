"""A chat turn's rows: the question and the reply's placeholder, then the reply as it ends."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from llm_chat.db import inserted_id, short_transaction
from llm_chat.errors import NotFoundError
from llm_chat.models import Conversation, Message, MessageRole, MessageStatus
from llm_chat.models.base import utcnow
from llm_chat.services.conversations import create_conversation, owned_by
from llm_chat.services.turn_plan import TurnPlan


@dataclass(frozen=True)
class TurnRows:
    """Where a turn is saved; ids are 0 for a turn that is not saved."""

    conversation_id: int
    created_conversation: bool
    user_message_id: int
    reply_message_id: int


NOT_SAVED = TurnRows(
    conversation_id=0, created_conversation=False, user_message_id=0, reply_message_id=0
)

# Plain statements built once, values at execution (see turn_plan).
_MESSAGES = Message.__table__  # type: ignore[attr-defined]  (SQLModel sets it)
_CONVERSATIONS = Conversation.__table__  # type: ignore[attr-defined]
_INSERT_MESSAGE = sa.insert(_MESSAGES)
_TOUCH_CONVERSATION = sa.update(_CONVERSATIONS).where(
    owned_by(sa.bindparam("owner"), sa.bindparam("conversation"))
)
_SAVE_REPLY = sa.update(_MESSAGES).where(_MESSAGES.c.id == sa.bindparam("message"))


def _insert(session: Session, row: dict[str, object]) -> int:
    return inserted_id(session.connection().execute(_INSERT_MESSAGE, row))


@short_transaction
def record_turn(session: Session, *, plan: TurnPlan) -> TurnRows:
    """Save the question and the reply's placeholder (``streaming``) of a planned turn.

    A new conversation also gets ``plan.earlier`` before the question. The conversation
    remembers the model the turn uses.

    Raises:
        NotFoundError: the conversation was deleted since the plan was made.
    """
    target = plan.target
    if plan.conversation_id is None:
        conversation_id = create_conversation(
            session, user_id=plan.user_id, title=plan.title, model_id=target.model_id
        )
    else:
        conversation_id = plan.conversation_id
        touched = session.connection().execute(
            _TOUCH_CONVERSATION,
            {
                "conversation": conversation_id,
                "owner": plan.user_id,
                "model_id": target.model_id,
                "updated_at": utcnow(),
            },
        )
        if touched.rowcount != 1:
            raise NotFoundError("error.conversation_not_found")
    # One row each, so that ids keep the order.
    for earlier in plan.earlier:
        _insert(
            session,
            {
                "conversation_id": conversation_id,
                "role": earlier["role"],
                "content": earlier["content"],
                "status": MessageStatus.COMPLETE.value,
            },
        )
    question_id = _insert(
        session,
        {
            "conversation_id": conversation_id,
            "role": MessageRole.USER.value,
            "content": plan.text,
            "status": MessageStatus.COMPLETE.value,
        },
    )
    reply_id = _insert(
        session,
        {
            "conversation_id": conversation_id,
            "role": MessageRole.ASSISTANT.value,
            "content": "",
            "status": MessageStatus.STREAMING.value,
            "model_id": target.model_id,
            "model_name": target.display_name,
            "provider_name": target.provider_name,
            "context_dropped": plan.context_dropped,
        },
    )
    return TurnRows(
        conversation_id=conversation_id,
        created_conversation=plan.conversation_id is None,
        user_message_id=question_id,
        reply_message_id=reply_id,
    )


@short_transaction
def save_reply(
    session: Session,
    *,
    message_id: int,
    content: str,
    status: MessageStatus,
    error: str | None = None,
    reasoning: str = "",
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
            "reasoning": reasoning,
            "status": status.value,
            "error": error,
            "updated_at": utcnow(),
        },
    )
