"""The conversation: finished messages as safe markdown, the streaming reply as plain text."""

# pyright: reportAttributeAccessIssue=false
# (state vars read on the class are Vars at run time; pyright sees their value types)
from __future__ import annotations

import reflex as rx

from llm_chat.components.markdown import reply_markdown
from llm_chat.components.reflex_internals import hook_value
from llm_chat.components.streaming import streaming_text
from llm_chat.state.chat import ChatState, MessageItem
from llm_chat.state.locale import t, text_for
from llm_chat.state.stream import StreamState

# The hook that keeps the turns finished since the conversation was loaded (from assets/).
TURNS_SINCE_LOAD_MODULE = "$/public/turns_since_load.js"


def _status_note(item: rx.Var[MessageItem]) -> rx.Component | rx.Var:
    return rx.match(
        item.status,
        ("stopped", rx.badge(t("chat.status_stopped"), color_scheme="gray", variant="soft")),
        (
            "interrupted",
            rx.callout(t("chat.status_interrupted"), icon="unplug", color_scheme="amber", size="1"),
        ),
        ("streaming", rx.badge(t("chat.status_streaming"), color_scheme="blue", variant="soft")),
        ("error", rx.fragment()),
        rx.fragment(),
    )


def _error_note(item: rx.Var[MessageItem]) -> rx.Component:
    return rx.cond(
        (item.status == "error") & (item.error != ""),
        rx.callout(
            text_for(item.error),
            icon="circle_alert",
            color_scheme="red",
            size="1",
            class_name="reply-error",
        ),
    )


def _user_bubble(content: rx.Var[str] | str, *, finished: bool = True) -> rx.Component:
    return rx.flex(
        rx.box(
            rx.text(content, white_space="pre-wrap", size="3"),
            background=rx.color("accent", 3),
            padding="0.6em 0.9em",
            border_radius="var(--radius-4)",
            max_width="80%",
            class_name="user-message",
        ),
        justify="end",
        width="100%",
        # Finished messages far off screen are not rendered (assets/chat.css).
        class_name="finished-message" if finished else None,
    )


def _thinking(
    content: rx.Component, *, is_open: bool = False, display: str | rx.Var[str] = "block"
) -> rx.Component:
    """A reasoning model's thinking, folded above its answer (a native ``<details>``)."""
    return rx.el.details(
        rx.el.summary(
            rx.hstack(
                rx.icon("brain", size=14),
                rx.text(t("chat.thinking"), size="2"),
                spacing="1",
                align="center",
            ),
            class_name="thinking-summary",
        ),
        rx.box(content, class_name="thinking-body"),
        open=is_open,
        class_name="thinking",
        width="100%",
        display=display,
    )


def _context_note(item: rx.Var[MessageItem]) -> rx.Component:
    return rx.cond(
        item.context_dropped > 0,
        rx.hstack(
            rx.icon("scissors", size=12),
            rx.text(t("chat.context_dropped"), size="1"),
            color=rx.color("gray", 10),
            spacing="1",
            align="center",
            class_name="context-note",
        ),
    )


def _written_by(item: rx.Var[MessageItem]) -> rx.Var[str]:
    """The hover text of a reply: the model and provider that wrote it."""
    # A var formatted into an f-string keeps what it reads (Reflex's way to join text vars).
    return rx.cond(item.model != "", f"{t('chat.reply_by')} {item.model} · {item.provider}", "").to(
        str
    )


def _assistant_bubble(item: rx.Var[MessageItem]) -> rx.Component:
    return rx.vstack(
        rx.cond(
            item.reasoning != "",
            _thinking(rx.text(item.reasoning, white_space="pre-line", size="2")),
        ),
        rx.cond(
            item.content != "",
            rx.box(
                reply_body(content=item.content),
                # No outer margin on its first and last blocks (assets/chat.css).
                class_name="assistant-message markdown-body",
                width="100%",
            ),
        ),
        _status_note(item),
        _error_note(item),
        _context_note(item),
        spacing="2",
        width="100%",
        align="start",
        title=_written_by(item),
        class_name="assistant-turn finished-message",
    )


@rx.memo
def reply_body(content: rx.Var[str]) -> rx.Component:
    """A finished reply's markdown, parsed again only when its text changes (``React.memo``).

    A component of its own also for the markdown's component map, which reads the colour
    mode with a hook: called in the render of a list of messages, it made that list's hook
    count follow the number of replies (React's hook-order warning in dev mode).
    """
    return reply_markdown(content)


@rx.memo
def chat_message(item: rx.Var[MessageItem]) -> rx.Component:
    """One finished message, a React component of its own (``React.memo``).

    The page keeps every message it has shown. As plain items of the lists' ``rx.foreach``,
    all of them rendered again with the list on every change of the chat's state (a send, a
    turn's end) and parsed their markdown again: with 50 long replies on the page that was
    ~0.9 s of script per reply (make bench, target 7). An item keeps its identity while it
    stays on the page (the browser's state merges equal values), so React skips it.
    """
    return rx.cond(item.role == "user", _user_bubble(item.content), _assistant_bubble(item))


def message_view(item: rx.Var[MessageItem]) -> rx.Component:
    """One finished message, for ``rx.foreach``."""
    return chat_message(item=item)


def streaming_turn() -> rx.Component:
    """The question being answered and its reply so far (plain text, cheap to update)."""
    return rx.cond(
        ChatState.is_streaming,
        rx.fragment(
            _user_bubble(ChatState.pending_question, finished=False),
            _streaming_reply(),
        ),
    )


def _streaming_reply() -> rx.Component:
    return rx.box(
        # Open while the model thinks; the finished reply shows it folded. Mounted (hidden)
        # from the start of every reply: the text starts from the reply's first batch.
        _thinking(
            streaming_text(
                seq=StreamState.thought_seq,
                base=StreamState.thought_base,
                chunk=StreamState.thought_chunk,
                on_gap=ChatState.resync_stream,
                id="streaming-thought",
            ),
            is_open=True,
            display=rx.cond(StreamState.thought_seq > 0, "block", "none"),
        ),
        rx.cond(StreamState.seq == 0, rx.spinner(size="2")),
        streaming_text(
            seq=StreamState.seq,
            base=StreamState.base,
            chunk=StreamState.chunk,
            on_gap=ChatState.resync_stream,
            id="streaming-text",
        ),
        width="100%",
        class_name="assistant-message streaming",
    )


def empty_state() -> rx.Component:
    """Shown in a new chat before the first message."""
    return rx.center(
        rx.vstack(
            rx.icon("message_square_text", size=40, color=rx.color("accent", 9)),
            rx.heading(t("chat.empty_title"), size="6", text_align="center"),
            rx.text(t("chat.empty_hint"), color_scheme="gray", text_align="center"),
            align="center",
            spacing="3",
        ),
        flex="1",
        width="100%",
        # Off the screen's edges on a phone.
        padding_x="1.5em",
        id="empty-chat",
    )


def _turns_since_load() -> rx.Var:
    """The turns finished since the conversation was loaded, kept in the browser.

    Each turn's end sends only `last_turn` (its question and reply); the hook in
    ``assets/turns_since_load.js`` appends it, and starts over when `messages` is loaded
    again (`load_seq` changes).
    """
    return hook_value(
        "turnsSinceLoad",
        library=TURNS_SINCE_LOAD_MODULE,
        hook="useTurnsSinceLoad",
        args=(ChatState.load_seq, ChatState.turns_since_load, ChatState.last_turn),
        var_type=list[MessageItem],
    )


def message_list() -> rx.Component:
    """All messages of the open conversation, newest at the bottom."""
    return rx.cond(
        (ChatState.messages.length() > 0)
        | (ChatState.turns_since_load > 0)
        | ChatState.is_streaming,
        rx.box(
            rx.vstack(
                rx.cond(
                    ChatState.has_older,
                    rx.center(
                        rx.button(
                            rx.icon("chevrons_up", size=14),
                            t("chat.load_older"),
                            variant="ghost",
                            size="1",
                            on_click=ChatState.load_older,
                            id="load-older",
                        ),
                        width="100%",
                    ),
                ),
                # The finished messages in a box of their own: a new line of the streaming
                # reply lays out (and hit-tests) the few items of the outer list, not each
                # message on the page. (Hidden when empty: no gap above a new chat's turn.)
                rx.vstack(
                    rx.foreach(ChatState.messages, message_view),
                    rx.foreach(_turns_since_load(), message_view),
                    spacing="5",
                    width="100%",
                    class_name="finished-messages",
                    style={"&:empty": {"display": "none"}},
                ),
                streaming_turn(),
                spacing="5",
                width="100%",
                max_width="48rem",
                margin_x="auto",
                padding="1.5em 1em",
            ),
            id="message-scroll",
            flex="1",
            width="100%",
            overflow_y="auto",
        ),
        empty_state(),
    )
