"""Work done once when a server process starts."""

from __future__ import annotations

import logging

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import IntegrityError

from llm_chat.config import PROJECT_ROOT, environment
from llm_chat.db import get_engine, session_scope
from llm_chat.services.catalog import seed_from_environment

logger = logging.getLogger(__name__)


def schema_is_current() -> bool:
    """Whether the database has every migration applied (else log how to fix it)."""
    script = ScriptDirectory.from_config(Config(str(PROJECT_ROOT / "alembic.ini")))
    with get_engine().connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    if set(current) != set(script.get_heads()):
        logger.error(
            "The database schema is not up to date (at %s, code expects %s): run `make migrate`"
            " (or `alembic upgrade head`) and restart.",
            ", ".join(current) or "no schema",
            ", ".join(script.get_heads()),
        )
        return False
    return True


def prepare_database() -> None:
    """Create providers for API keys in the environment (or .env)."""
    if not schema_is_current():
        return
    try:
        with session_scope() as session:
            seed_from_environment(session, environ=environment())
    except IntegrityError:  # another worker seeded at the same moment
        logger.info("Providers were seeded by another worker")
