"""Where messages are written: model picker, text box, send and stop."""

# pyright: reportAttributeAccessIssue=false
# (state vars read on the class are Vars at run time; pyright sees their value types)
from __future__ import annotations

import reflex as rx

from llm_chat.components.layout import error_callout
from llm_chat.state.chat import COMPOSER_ID, ChatState, ModelGroup
from llm_chat.state.locale import t


def _model_group(group: rx.Var[ModelGroup]) -> rx.Component:
    return rx.select.group(
        rx.select.label(group.provider),
        rx.foreach(group.models, lambda m: rx.select.item(m.name, value=m.id)),
    )


def model_picker() -> rx.Component:
    """The enabled models; re-read from the database whenever it opens."""
    return rx.cond(
        ChatState.model_groups.length() > 0,
        rx.select.root(
            rx.select.trigger(placeholder=t("chat.model"), variant="soft", id="model-picker"),
            rx.select.content(rx.foreach(ChatState.model_groups, _model_group)),
            value=ChatState.selected_model,
            on_change=ChatState.pick_model,
            on_open_change=ChatState.refresh_models,
            size="2",
        ),
        rx.text(t("chat.no_models"), size="2", color_scheme="amber", id="no-models"),
    )


def composer() -> rx.Component:
    """The form at the bottom of the chat."""
    return rx.box(
        rx.vstack(
            error_callout(ChatState.error_key, minutes=ChatState.retry_minutes),
            rx.cond(
                ChatState.model_gone,
                rx.callout(
                    t("chat.model_gone"),
                    icon="info",
                    color_scheme="amber",
                    size="1",
                    id="model-gone",
                ),
            ),
            rx.form(
                rx.vstack(
                    rx.text_area(
                        id=COMPOSER_ID,
                        name="message",
                        placeholder=t("chat.placeholder"),
                        auto_focus=True,
                        rows="3",
                        resize="vertical",
                        width="100%",
                        size="3",
                    ),
                    rx.hstack(
                        model_picker(),
                        rx.spacer(),
                        rx.cond(
                            ChatState.is_streaming,
                            rx.button(
                                rx.icon("square", size=14),
                                t("chat.stop"),
                                type="button",
                                color_scheme="red",
                                variant="soft",
                                on_click=ChatState.stop_streaming,
                                id="stop-button",
                            ),
                            rx.button(
                                rx.icon("send", size=14),
                                t("chat.send"),
                                type="submit",
                                id="send-button",
                            ),
                        ),
                        width="100%",
                        align="center",
                    ),
                    spacing="2",
                    width="100%",
                ),
                on_submit=ChatState.send,
                reset_on_submit=False,
                width="100%",
                id="composer-form",
            ),
            width="100%",
            max_width="48rem",
            margin_x="auto",
            spacing="2",
        ),
        width="100%",
        padding="0.75em 1em 1em",
        border_top=f"1px solid {rx.color('gray', 4)}",
    )
