"""A chat turn's rows: the question, the reply's placeholder and the turn's usage, then the
reply and its usage as it ends."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from llm_chat.db import inserted_id, short_transaction
from llm_chat.errors import NotFoundError
from llm_chat.models import (
    ChatModel,
    Conversation,
    Message,
    MessageRole,
    MessageStatus,
    UsageRecord,
)
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
_MODELS = ChatModel.__table__  # type: ignore[attr-defined]
# A shared lock on MySQL/MariaDB (what the foreign keys' checks take anyway): a delete of the
# model waits until the turn's rows are written, then clears their link like its others'.
_MODEL_STILL_THERE = (
    sa.select(_MODELS.c.id).where(_MODELS.c.id == sa.bindparam("model")).with_for_update(read=True)
)
_INSERT_MESSAGE = sa.insert(_MESSAGES)
_INSERT_USAGE = sa.insert(_USAGE)
_SAVE_USAGE = sa.update(_USAGE).where(_USAGE.c.id == sa.bindparam("usage"))
_TOUCH_CONVERSATION = sa.update(_CONVERSATIONS).where(
    owned_by(sa.bindparam("owner"), sa.bindparam("conversation"))
)
_SAVE_REPLY = sa.update(_MESSAGES).where(_MESSAGES.c.id == sa.bindparam("message"))


def _insert(session: Session, row: dict[str, object]) -> int:
    return inserted_id(session.connection().execute(_INSERT_MESSAGE, row))


def _model_still_there(session: Session, model_id: int) -> int | None:
    """``model_id``, or None if an admin deleted the model (or its provider) after the plan
    read it, while the provider was being asked: the turn goes on, its rows name the model
    only by name, as the model's earlier replies do once it is deleted.

    On SQLite a delete could still come between this read and the first write (the writes
    wait for the write lock, the read does not): microseconds, against the up to
    ``RECORD_WAIT_SECONDS`` the rows wait for the provider's answer.
    """
    found = session.connection().execute(_MODEL_STILL_THERE, {"model": model_id}).first()
    return model_id if found is not None else None


def _record_usage(
    session: Session, plan: TurnPlan, reply_id: int | None, model_id: int | None
) -> int:
    """The turn's usage row, with its prompt as estimated (the reply's end corrects it)."""
    start = usage.at_start(plan.target, plan.prompt_tokens)
    row = {
        "user_id": plan.user_id,
        "message_id": reply_id,
        "model_id": model_id,
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
    remembers the model the turn uses (none if it was deleted meanwhile).

    Raises:
        NotFoundError: the conversation was deleted since the plan was made.
    """
    model_id = _model_still_there(session, plan.target.model_id)
    if not plan.store:
        return TurnRows(
            conversation_id=0,
            created_conversation=False,
            user_message_id=0,
            reply_message_id=0,
            usage_id=_record_usage(session, plan, None, model_id),
        )
    target = plan.target
    if plan.conversation_id is None:
        conversation_id = create_conversation(
            session, user_id=plan.user_id, title=plan.title, model_id=model_id
        )
    else:
        conversation_id = plan.conversation_id
        touched = session.connection().execute(
            _TOUCH_CONVERSATION,
            {
                "conversation": conversation_id,
                "owner": plan.user_id,
                "model_id": model_id,
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
            "model_id": model_id,
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
        usage_id=_record_usage(session, plan, reply_id, model_id),
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
