"""``GET /api/models``: the models the caller may chat with."""

from __future__ import annotations

from fastapi import APIRouter

from llm_chat.api.deps import CurrentUser
from llm_chat.api.schemas import ModelOut, error_responses
from llm_chat.services import catalog

router = APIRouter(prefix="/api", tags=["models"], responses=error_responses(401, 403))


@router.get("/models")
async def list_models(user: CurrentUser) -> list[ModelOut]:
    """Enabled models of enabled providers, the default first."""
    return [
        ModelOut(
            id=option.id,
            name=option.name,
            provider=option.provider,
            model_name=option.model_name,
            is_default=option.is_default,
        )
        for option in await catalog.list_enabled_models(role=user.role)
    ]
