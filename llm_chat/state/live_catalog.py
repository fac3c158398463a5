"""Model changes reach every open chat page, with no reload and no user action.

Each worker reads the models users may pick once a second (one small query per worker,
not per page); when they changed (an admin added, edited, disabled or deleted a model or
its provider, in any worker), it sends the new list to every page connected to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import reflex as rx

from llm_chat.services import catalog
from llm_chat.services.catalog import ModelOption
from llm_chat.state.chat import ChatState

logger = logging.getLogger(__name__)

# How often each worker reads the models again.
POLL_SECONDS = 1.0


@contextlib.asynccontextmanager
async def push_model_changes(app: rx.App) -> AsyncIterator[None]:
    """The app's lifespan: watch the models while the app serves."""
    task = asyncio.create_task(_watch(app))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _watch(app: rx.App) -> None:
    shown: list[ModelOption] | None = None
    failing = False
    while True:
        await asyncio.sleep(POLL_SECONDS)
        try:
            options = await catalog.list_enabled_models()
            if shown is not None and options != shown:
                await push_models(app, options)
            shown = options
        except Exception:  # a database hiccup: the next round tries again
            if not failing:  # once per outage, not every second
                logger.exception("Could not check the models for changes")
            failing = True
        else:
            if failing:
                logger.info("Checking the models for changes again")
            failing = False


async def push_models(app: rx.App, options: list[ModelOption]) -> int:
    """Show ``options`` on every signed-in chat page connected to this worker; how many."""
    namespace = app.event_namespace
    if namespace is None:
        return 0
    pushed = 0
    for token in list(namespace.token_to_sid):
        try:
            async with app.modify_state(rx.BaseStateToken(ident=token, cls=ChatState)) as root:
                chat = await root.get_state(ChatState)
                if chat._show_models(options):
                    pushed += 1
        except Exception:  # one page's state must not keep the others from the change
            logger.exception("Could not show the changed models on a page")
    return pushed
