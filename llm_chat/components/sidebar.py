"""The conversation list with new, rename and delete."""

# pyright: reportAttributeAccessIssue=false
# (state vars read on the class are Vars at run time; pyright sees their value types)
from __future__ import annotations

import reflex as rx

from llm_chat.components.layout import confirm_dialog, page_tools
from llm_chat.state.chat import ChatState, ConversationItem
from llm_chat.state.locale import t

# One line, cut with an ellipsis (rx.text has no `truncate` prop; Radix's is not passed on).
_ONE_LINE = {
    "width": "100%",
    "overflow": "hidden",
    "text_overflow": "ellipsis",
    "white_space": "nowrap",
}


def _entry(item: rx.Var[ConversationItem]) -> rx.Component:
    active = item.id == ChatState.conversation_id
    return rx.hstack(
        rx.link(
            rx.text(item.title, size="2", class_name="conversation-title", style=_ONE_LINE),
            href="/c/" + item.id.to_string(),
            underline="none",
            color_scheme="gray",
            high_contrast=True,
            flex="1",
            min_width="0",
            padding_y="0.45em",
            white_space="nowrap",
            overflow="hidden",
            text_overflow="ellipsis",
        ),
        rx.dropdown_menu.root(
            rx.dropdown_menu.trigger(
                rx.icon_button(
                    rx.icon("ellipsis", size=14),
                    variant="ghost",
                    size="1",
                    color_scheme="gray",
                    aria_label=t("chat.menu"),
                ),
            ),
            rx.dropdown_menu.content(
                rx.dropdown_menu.item(
                    t("chat.rename"), on_click=ChatState.open_rename(item.id, item.title)
                ),
                rx.dropdown_menu.item(
                    t("chat.delete"), color="red", on_click=ChatState.open_delete(item.id)
                ),
            ),
        ),
        align="center",
        padding_x="0.6em",
        border_radius="var(--radius-2)",
        background=rx.cond(active, rx.color("accent", 4), "transparent"),
        _hover={"background": rx.cond(active, rx.color("accent", 4), rx.color("gray", 3))},
        width="100%",
        class_name="conversation-entry",
    )


def rename_dialog() -> rx.Component:
    """Asks for the new title."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(t("chat.rename_title")),
            rx.form(
                rx.vstack(
                    rx.input(
                        name="title",
                        default_value=ChatState.rename_title,
                        max_length=200,
                        required=True,
                        auto_focus=True,
                        width="100%",
                        id="rename-input",
                    ),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button(
                                t("chat.cancel"), variant="soft", color_scheme="gray", type="button"
                            )
                        ),
                        rx.button(t("chat.save"), type="submit", id="rename-save"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="4",
                ),
                on_submit=ChatState.save_rename,
            ),
        ),
        open=ChatState.rename_id != 0,
        on_open_change=ChatState.close_dialogs,
    )


def delete_dialog() -> rx.Component:
    """Confirms before a conversation is deleted."""
    return confirm_dialog(
        rx.alert_dialog.description(t("chat.delete_warning")),
        title_key="chat.delete_title",
        action_key="chat.delete",
        on_confirm=ChatState.confirm_delete(ChatState.delete_id),
        is_open=ChatState.delete_id != 0,
        on_close=ChatState.close_dialogs,
        action_id="delete-confirm",
    )


def sidebar() -> rx.Component:
    """New chat, the conversations, and the account corner."""
    return rx.vstack(
        rx.hstack(
            rx.heading(t("app.name"), size="4"),
            page_tools(),
            justify="between",
            align="center",
            width="100%",
        ),
        rx.link(
            rx.button(rx.icon("plus", size=16), t("chat.new_chat"), variant="soft", width="100%"),
            href="/",
            width="100%",
            id="new-chat",
        ),
        rx.text(t("chat.conversations"), size="1", color_scheme="gray", weight="medium"),
        rx.box(
            rx.cond(
                ChatState.conversations.length() > 0,
                rx.vstack(rx.foreach(ChatState.conversations, _entry), spacing="1", width="100%"),
                rx.text(t("chat.no_conversations"), size="2", color_scheme="gray"),
            ),
            flex="1",
            width="100%",
            min_height="0",
            overflow_y="auto",
            id="conversation-list",
        ),
        rx.hstack(
            rx.avatar(fallback=ChatState.user_name[:1].to(str), size="2", radius="full"),
            rx.vstack(
                rx.text(ChatState.user_name, size="2", weight="medium", style=_ONE_LINE),
                rx.text(ChatState.user_email, size="1", color_scheme="gray", style=_ONE_LINE),
                spacing="0",
                min_width="0",
                flex="1",
            ),
            rx.cond(
                ChatState.is_admin,
                rx.link(
                    rx.icon_button(
                        rx.icon("settings", size=16), variant="ghost", aria_label=t("chat.admin")
                    ),
                    href="/admin",
                ),
            ),
            rx.link(
                rx.icon_button(
                    rx.icon("key_round", size=16), variant="ghost", aria_label=t("chat.settings")
                ),
                href="/settings",
                id="settings-link",
            ),
            rx.tooltip(
                rx.icon_button(
                    rx.icon("log_out", size=16),
                    variant="ghost",
                    on_click=ChatState.sign_out,
                    aria_label=t("auth.sign_out"),
                    id="sign-out",
                ),
                content=t("auth.sign_out"),
            ),
            align="center",
            width="100%",
            padding_top="0.5em",
            border_top=f"1px solid {rx.color('gray', 5)}",
        ),
        rename_dialog(),
        delete_dialog(),
        width="17rem",
        min_width="17rem",
        height="100vh",
        padding="1em",
        spacing="3",
        background=rx.color("gray", 2),
        border_right=f"1px solid {rx.color('gray', 5)}",
        # Beside the chat on wide screens; on phones a panel over it (assets/chat.css).
        class_name=rx.cond(ChatState.sidebar_open, "sidebar-open", ""),
        id="sidebar",
    )


def mobile_top_bar() -> rx.Component:
    """On phones: the menu button that opens the sidebar, and the new-chat button."""
    return rx.hstack(
        rx.icon_button(
            rx.icon("menu", size=18),
            variant="ghost",
            on_click=ChatState.toggle_sidebar,
            aria_label=t("chat.conversations"),
            id="sidebar-toggle",
        ),
        rx.heading(t("app.name"), size="3"),
        rx.link(
            rx.icon_button(
                rx.icon("plus", size=18), variant="ghost", aria_label=t("chat.new_chat")
            ),
            href="/",
        ),
        justify="between",
        align="center",
        width="100%",
        padding="0.5em 0.75em",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="mobile-only",
    )


def sidebar_backdrop() -> rx.Component:
    """Dims the chat behind the open sidebar on phones; a tap closes it."""
    return rx.cond(
        ChatState.sidebar_open,
        rx.box(
            position="fixed",
            inset="0",
            z_index="19",
            background="rgba(0, 0, 0, 0.35)",
            class_name="mobile-only",
            on_click=ChatState.toggle_sidebar,
        ),
    )
