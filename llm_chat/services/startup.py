"""Work done once when a server process starts."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from llm_chat.db import session_scope
from llm_chat.services.catalog import seed_from_environment
from llm_chat.services.conversations import mark_stale_replies_interrupted

logger = logging.getLogger(__name__)


def prepare_database() -> None:
    """Create providers for API keys in the environment; close replies a crash left open."""
    try:
        with session_scope() as session:
            seed_from_environment(session=session)
    except IntegrityError:  # another worker seeded at the same moment
        logger.info("Providers were seeded by another worker")
    with session_scope() as session:
        marked = mark_stale_replies_interrupted(session=session)
    if marked:
        logger.warning(
            "Marked %d replies left streaming by a stopped server as interrupted", marked
        )
