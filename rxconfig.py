"""Reflex configuration. App settings (database, secrets) live in llm_chat/config.py."""

import reflex as rx

from llm_chat.config import environment

# The environment over .env, so that .env serves plain `reflex run` as well as `make run`.
environ = environment()
config = rx.Config(
    app_name="llm_chat",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # Each tab's state lives in this process's memory, or in Redis (shared by several
    # workers) when REFLEX_REDIS_URL is set. Not Reflex's default disk manager: it rewrote
    # the states of active tabs every 2 s and re-listed its whole directory each time, 14% of
    # the CPU with 100 users streaming (make bench). A tab whose state is gone after a restart
    # loads its page again from the database.
    state_manager_mode="redis" if environ.get("REFLEX_REDIS_URL") else "memory",
    redis_url=environ.get("REFLEX_REDIS_URL"),
    # Reverse proxies in front of the app: the websocket's client address (sign-in limits)
    # is then read from X-Forwarded-For, as the API's is (llm_chat/api/deps.py).
    trusted_proxy_hops=int(environ.get("LLM_CHAT_TRUSTED_PROXY_HOPS") or 0),
    cors_allowed_origins=environ.get(
        "LLM_CHAT_ALLOWED_ORIGINS", "http://localhost:3000,http://127.0.0.1:3000"
    ).split(","),
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(appearance="inherit", accent_color="indigo", radius="medium")
        )
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
