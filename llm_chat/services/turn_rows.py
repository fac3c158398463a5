"""A chat turn's rows: the question, the reply's placeholder and the turn's usage, then the
reply and its usage as it ends."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from llm_chat.db import inserted_id, short_transaction
from llm_chat.errors import NotFoundError
from llm_chat.models import Conversation, Message, MessageRole, MessageStatus, UsageRecord
from llm_chat.models.base import utcnow
from llm_chat.services import usage
from llm_chat.services.conversations import create_conversation, owned_by
from llm_chat.services.turn_plan import TurnPlan
from llm_chat.services.usage import TurnUsage


@dataclass(frozen=True)
class TurnRows:
    """Where a turn is saved; ids are 0 for a turn that is not saved (its usage is)."""

    conversation_id: int
    created_conversation: bool
    user_message_id: int
    reply_message_id: int
    # The turn's ``usage_record``.
    usage_id: int = 0


# Plain statements built once, values at execution (see turn_plan).
_MESSAGES = Message.__table__  # type: ignore[attr-defined]  (SQLModel sets it)
_CONVERSATIONS = Conversation.__table__  # type: ignore[attr-defined]
_USAGE = UsageRecord.__table__  # type: ignore[attr-defined]
_INSERT_MESSAGE = sa.insert(_MESSAGES)
_INSERT_USAGE = sa.insert(_USAGE)
_SAVE_USAGE = sa.update(_USAGE).where(_USAGE.c.id == sa.bindparam("usage"))
_TOUCH_CONVERSATION = sa.update(_CONVERSATIONS).where(
    owned_by(sa.bindparam("owner"), sa.bindparam("conversation"))
)
_SAVE_REPLY = sa.update(_MESSAGES).where(_MESSAGES.c.id == sa.bindparam("message"))


def _insert(session: Session, row: dict[str, object]) -> int:
    return inserted_id(session.connection().execute(_INSERT_MESSAGE, row))


def _record_usage(session: Session, plan: TurnPlan, reply_id: int | None) -> int:
    """The turn's usage row, with its prompt as estimated (the reply's end corrects it)."""
    start = usage.at_start(plan.target, plan.prompt_tokens)
    row = {
        "user_id": plan.user_id,
        "message_id": reply_id,
        "model_id": plan.target.model_id,
        "model_name": plan.target.display_name[:100],
        "prompt_tokens": start.prompt_tokens,
        "completion_tokens": start.completion_tokens,
        "estimated": start.estimated,
        "cost_nanos": start.cost_nanos,
        "created_at": utcnow(),
    }
    return inserted_id(session.connection().execute(_INSERT_USAGE, row))


@short_transaction
def record_turn(session: Session, *, plan: TurnPlan) -> TurnRows:
    """Save the question and the reply's placeholder (``streaming``) of a planned turn, and
    its usage (only the usage for a turn that is not to be saved).

    A new conversation also gets ``plan.earlier`` before the question. The conversation
    remembers the model the turn uses.

    Raises:
        NotFoundError: the conversation was deleted since the plan was made.
    """
    if not plan.store:
        return TurnRows(
            conversation_id=0,
            created_conversation=False,
            user_message_id=0,
            reply_message_id=0,
            usage_id=_record_usage(session, plan, None),
        )
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
        usage_id=_record_usage(session, plan, reply_id),
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
    usage_id: int = 0,
    used: TurnUsage | None = None,
) -> None:
    """Store the reply's text and status (a checkpoint while streaming, or the end), and at
    the end what the turn used (``used``, in row ``usage_id``).

    One UPDATE each, without reading the rows first; it changes nothing if the conversation
    was deleted meanwhile. ``message_id`` 0: a turn that is not saved, only its usage.
    """
    connection = session.connection()
    if message_id:
        connection.execute(
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
    if usage_id and used is not None:
        connection.execute(
            _SAVE_USAGE,
            {
                "usage": usage_id,
                "prompt_tokens": used.prompt_tokens,
                "completion_tokens": used.completion_tokens,
                "estimated": used.estimated,
                "cost_nanos": used.cost_nanos,
            },
        )
