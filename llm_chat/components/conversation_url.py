"""Keeps the address bar on the open conversation (assets/conversation_url.js)."""

# pyright: reportAttributeAccessIssue=false
# (state vars read on the class are Vars at run time; pyright sees their value types)
from __future__ import annotations

import reflex as rx

from llm_chat.state.chat import ChatState

# The module Reflex copies from assets/ into the front end's public/ folder.
CONVERSATION_URL_MODULE = "$/public/conversation_url.js"


class ConversationUrl(rx.Component):
    """Renders nothing; when the open conversation changes to one the address does not
    name (a new chat just saved), it replaces the address with ``/c/<id>``."""

    library = CONVERSATION_URL_MODULE
    tag = "ConversationUrl"

    # The open conversation (0: a new chat).
    conversation_id: rx.Var[int]


def conversation_url() -> rx.Component:
    """The address-bar follower for :class:`ChatState`."""
    return ConversationUrl.create(conversation_id=ChatState.conversation_id)
