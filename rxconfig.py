"""Reflex configuration. App settings (database, secrets) live in llm_chat/config.py."""

import os

import reflex as rx

config = rx.Config(
    app_name="llm_chat",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # state_manager_mode is left at Reflex's default, the disk state manager (no server
    # needed); setting it here would stop REFLEX_REDIS_URL from switching to Redis.
    cors_allowed_origins=os.environ.get(
        "LLM_CHAT_ALLOWED_ORIGINS", "http://localhost:3000,http://127.0.0.1:3000"
    ).split(","),
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(appearance="inherit", accent_color="indigo", radius="medium")
        )
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
