"""What the browser is told when a handler fails unexpectedly: nothing internal."""

from __future__ import annotations

import logging

import reflex as rx
from reflex.event import EventSpec

from llm_chat.i18n import translate

logger = logging.getLogger("llm_chat.errors")


def backend_exception_handler(exception: Exception) -> EventSpec:
    """Log the failure with its traceback; show the user a short, generic message.

    Reflex's default handler puts the exception text in the toast in development mode,
    and exception texts can carry internals (SQL, URLs); this one never does.
    """
    logger.error("Unhandled error in an event handler", exc_info=exception)
    return rx.toast.error(
        translate("en", "error.generic"),
        description=translate("zh-CN", "error.generic"),
        position="top-center",
        id="backend_error",
    )
