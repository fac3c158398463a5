"""The chat page (a new chat at ``/``, a saved one at ``/c/<id>``)."""

from __future__ import annotations

import reflex as rx

from llm_chat.components.composer import composer
from llm_chat.components.conversation_url import conversation_url
from llm_chat.components.layout import loading_screen
from llm_chat.components.messages import message_list
from llm_chat.components.sidebar import mobile_top_bar, sidebar, sidebar_backdrop
from llm_chat.state.chat import ChatState


def chat_page() -> rx.Component:
    """Sidebar and conversation; nothing renders before the session is verified."""
    return rx.cond(
        ChatState.signed_in,
        rx.hstack(
            conversation_url(),
            sidebar_backdrop(),
            sidebar(),
            rx.vstack(
                mobile_top_bar(),
                message_list(),
                composer(),
                height="100vh",
                flex="1",
                spacing="0",
                min_width="0",
            ),
            spacing="0",
            width="100%",
            height="100vh",
        ),
        loading_screen(),
    )
