"""Following a reply that is being written, from a page that did not start it.

A second tab, a page opened again, or a conversation an API client is writing to: the page
shows the reply live until it ends. A turn running in this process is followed batch by
batch; one running in another worker is read from its row, which the turn saves every few
seconds (:data:`llm_chat.services.turns.CHECKPOINT_SECONDS`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from llm_chat.models import MessageRole, MessageStatus
from llm_chat.services import conversations, turns
from llm_chat.services.conversations import MessageView
from llm_chat.services.replies import Batch

# How often the row of a reply written by another worker is read again.
POLL_SECONDS = 1.0


async def follow_reply(
    *, user_id: int, conversation_id: int, reply_message_id: int
) -> AsyncIterator[Batch]:
    """The user's reply so far as one batch, then what it adds, until it ends.

    Only the user's own replies are found: a turn of another user or an id of another
    conversation yields nothing.

    Raises:
        NotFoundError: the conversation is not the user's (or was deleted meanwhile).
    """
    for turn in turns.running_turns(user_id):
        if turn.reply_message_id == reply_message_id and turn.conversation_id == conversation_id:
            async for batch in turn.watch():
                yield batch
            return
    text_seen = reasoning_seen = 0
    while True:
        reply = await _stored_reply(user_id, conversation_id, reply_message_id)
        if reply is None:
            return
        text, reasoning = reply.content[text_seen:], reply.reasoning[reasoning_seen:]
        if text or reasoning:
            text_seen, reasoning_seen = len(reply.content), len(reply.reasoning)
            yield Batch(text, reasoning)
        if reply.status != MessageStatus.STREAMING:
            return
        await asyncio.sleep(POLL_SECONDS)


async def finished_turn(
    *, user_id: int, conversation_id: int, reply_message_id: int
) -> list[MessageView]:
    """The question and the reply of a turn that has ended, as a reload shows them (the
    reply alone if it has no question before it).

    Raises:
        NotFoundError: the conversation is not the user's.
    """
    views = await _up_to(user_id, conversation_id, reply_message_id, 2)
    return views if len(views) == 2 and views[0].role == MessageRole.USER else views[-1:]


async def _stored_reply(
    user_id: int, conversation_id: int, reply_message_id: int
) -> MessageView | None:
    views = await _up_to(user_id, conversation_id, reply_message_id, 1)
    return views[0] if views else None


async def _up_to(
    user_id: int, conversation_id: int, reply_message_id: int, count: int
) -> list[MessageView]:
    """The ``count`` messages ending with the reply (none if the reply is gone)."""
    views = await conversations.list_messages(
        user_id=user_id,
        conversation_id=conversation_id,
        limit=count,
        before_id=reply_message_id + 1,
    )
    return views if views and views[-1].id == reply_message_id else []
