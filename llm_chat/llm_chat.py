"""Wiring only: the app, its pages and its start-up work."""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from llm_chat.api.app import serve_beside
from llm_chat.components.i18n import with_i18n
from llm_chat.config import ensure_secrets
from llm_chat.gc_tuning import spare_startup_heap
from llm_chat.pages.admin import admin_page
from llm_chat.pages.auth import login_page, register_page
from llm_chat.pages.chat import chat_page
from llm_chat.pages.limits import limits_page
from llm_chat.pages.settings import settings_page
from llm_chat.pages.usage import usage_page
from llm_chat.providers.client import provider_connections
from llm_chat.services.startup import prepare_database
from llm_chat.services.stream_owners import watch_orphans
from llm_chat.state.admin import AdminState
from llm_chat.state.auth import LoginState, RegisterState
from llm_chat.state.chat import CONVERSATION_ROUTE, ChatState
from llm_chat.state.exceptions import backend_exception_handler
from llm_chat.state.live_catalog import push_model_changes
from llm_chat.state.locale import LocaleState
from llm_chat.state.operate import LIMITS_ROUTE, USAGE_ROUTE, OperateState
from llm_chat.state.settings import SETTINGS_ROUTE, SettingsState

logging.getLogger("llm_chat").setLevel(logging.INFO)


async def _on_startup() -> None:
    await asyncio.to_thread(prepare_database)
    spare_startup_heap()


app = rx.App(
    head_components=[rx.script(src="/chat.js")],
    stylesheets=["/chat.css"],
    backend_exception_handler=backend_exception_handler,
    # The REST + SSE API and the OpenAI-compatible gateway (/api/..., /v1/...), same port.
    api_transformer=serve_beside,
)
# First, before any request is served: generate the secrets on the first start (never at
# import: a `reflex export` must not bake them into a build) and refuse to start with an
# invalid setting or a weak secret. A plain function task runs, and raises, before serving.
app.register_lifespan_task(ensure_secrets)
# Before serving: replies a stopped process left streaming end interrupted (and, with
# several workers, those of a worker that dies later; see services/stream_owners.py).
app.register_lifespan_task(watch_orphans)
app.register_lifespan_task(_on_startup)
# Model changes reach every open chat page of every worker within a couple of seconds.
app.register_lifespan_task(push_model_changes)
# One provider connection pool, opened at start-up and closed at shutdown.
app.register_lifespan_task(provider_connections)

# Each page: route, title, render function, and its on_load guard (after language detection).
PAGES = (
    ("/", "LLM Chat", chat_page, ChatState.load_page),
    (CONVERSATION_ROUTE, "LLM Chat", chat_page, ChatState.load_page),
    ("/login", "Sign in · LLM Chat", login_page, LoginState.redirect_if_signed_in),
    ("/register", "Create account · LLM Chat", register_page, RegisterState.load_register),
    ("/admin", "Admin · LLM Chat", admin_page, AdminState.load_page),
    (USAGE_ROUTE, "Usage · LLM Chat", usage_page, OperateState.load_usage_page),
    (LIMITS_ROUTE, "Limits · LLM Chat", limits_page, OperateState.load_limits_page),
    (SETTINGS_ROUTE, "Settings · LLM Chat", settings_page, SettingsState.load_page),
)
# What some pages load besides, after their guard.
ALSO_ON_LOAD = {SETTINGS_ROUTE: (OperateState.load_mine,)}
for route, title, render, guard in PAGES:
    app.add_page(
        with_i18n(render()),
        route=route,
        title=title,
        on_load=[LocaleState.detect_language, guard, *ALSO_ON_LOAD.get(route, ())],
    )
