"""Model changes reach every open chat page, with no reload and no user action.

Each worker reads the models each role may pick once a second (a small query per role
and worker, not per page); when they changed (an admin added, edited, disabled or deleted
a model or its provider, or changed who may use it, in any worker), it sends each page
connected to it the new list of its user's role.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import reflex as rx

from llm_chat.models import Role
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
    shown: dict[Role, list[ModelOption]] | None = None
    failing = False
    while True:
        await asyncio.sleep(POLL_SECONDS)
        try:
            options = {role: await catalog.list_enabled_models(role=role) for role in Role}
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


async def push_models(app: rx.App, options: dict[Role, list[ModelOption]]) -> int:
    """Show every signed-in chat page connected to this worker the ``options`` of its
    user's role; how many pages."""
    namespace = app.event_namespace
    if namespace is None:
        return 0
    pushed = 0
    for token in list(namespace.token_to_sid):
        try:
            async with app.modify_state(rx.BaseStateToken(ident=token, cls=ChatState)) as root:
                chat = await root.get_state(ChatState)
                if chat._show_models(options[chat._role()]):
                    pushed += 1
        except Exception:  # one page's state must not keep the others from the change
            logger.exception("Could not show the changed models on a page")
    return pushed
