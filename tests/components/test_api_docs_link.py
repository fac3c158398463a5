"""The settings page links to the API docs on the back end's address."""

from __future__ import annotations

from reflex.config import get_config

from llm_chat.components.settings import api_docs_url


def test_the_docs_link_points_at_the_back_end() -> None:
    # `make run` serves the pages on :3000 and the back end (and so the docs) on :8000: a
    # link relative to the page was a 404 there.
    backend = get_config().api_url.rstrip("/")
    assert backend.endswith(":8000")
    assert api_docs_url() == f"{backend}/api/docs"
