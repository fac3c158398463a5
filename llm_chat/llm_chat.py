"""Wiring only: the app, its pages and its start-up work."""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from llm_chat.api.app import create_api
from llm_chat.config import get_settings
from llm_chat.pages.admin import admin_page
from llm_chat.pages.auth import login_page, register_page
from llm_chat.pages.chat import chat_page
from llm_chat.pages.settings import settings_page
from llm_chat.services.startup import prepare_database
from llm_chat.state.admin import AdminState
from llm_chat.state.auth import LoginState
from llm_chat.state.chat import CONVERSATION_ROUTE, ChatState
from llm_chat.state.exceptions import backend_exception_handler
from llm_chat.state.locale import LocaleState
from llm_chat.state.settings import SETTINGS_ROUTE, SettingsState

logging.getLogger("llm_chat").setLevel(logging.INFO)
# Refuse to start with an empty, short or well-known secret (raises InsecureSecretError).
get_settings()


async def _on_startup() -> None:
    await asyncio.to_thread(prepare_database)


app = rx.App(
    head_components=[rx.script(src="/chat.js")],
    stylesheets=["/chat.css"],
    backend_exception_handler=backend_exception_handler,
    # The REST + SSE API and the OpenAI-compatible gateway (/api/..., /v1/...), same port.
    api_transformer=create_api(),
)
app.register_lifespan_task(_on_startup)

app.add_page(
    chat_page,
    route="/",
    title="LLM Chat",
    on_load=[LocaleState.detect_language, ChatState.load_page],
)
app.add_page(
    chat_page,
    route=CONVERSATION_ROUTE,
    title="LLM Chat",
    on_load=[LocaleState.detect_language, ChatState.load_page],
)
app.add_page(
    login_page,
    route="/login",
    title="Sign in · LLM Chat",
    on_load=[LocaleState.detect_language, LoginState.redirect_if_signed_in],
)
app.add_page(
    register_page,
    route="/register",
    title="Create account · LLM Chat",
    on_load=[LocaleState.detect_language, LoginState.redirect_if_signed_in],
)
app.add_page(
    admin_page,
    route="/admin",
    title="Admin · LLM Chat",
    on_load=[LocaleState.detect_language, AdminState.load_page],
)
app.add_page(
    settings_page,
    route=SETTINGS_ROUTE,
    title="Settings · LLM Chat",
    on_load=[LocaleState.detect_language, SettingsState.load_page],
)
