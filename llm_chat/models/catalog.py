"""Providers (OpenAI-compatible endpoints) and the models they serve."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from llm_chat.models.base import LongText, timestamp_column, utcnow


class ProviderKind(StrEnum):
    """Known OpenAI-compatible services; ``custom`` covers any other."""

    OPENAI = "openai"
    DEEPSEEK = "deepseek"
    QWEN = "qwen"
    MOONSHOT = "moonshot"
    OLLAMA = "ollama"
    VLLM = "vllm"
    CUSTOM = "custom"


class Provider(SQLModel, table=True):
    """An OpenAI-compatible endpoint. The API key is stored encrypted."""

    __tablename__ = "provider"  # type: ignore[assignment]

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    kind: str = Field(default=ProviderKind.CUSTOM.value, max_length=32)
    base_url: str = Field(max_length=500)
    api_key_encrypted: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    enabled: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class ChatModel(SQLModel, table=True):
    """A model users can pick, served by a provider."""

    __tablename__ = "chat_model"  # type: ignore[assignment]

    id: int | None = Field(default=None, primary_key=True)
    provider_id: int = Field(foreign_key="provider.id", index=True, ondelete="CASCADE")
    display_name: str = Field(max_length=100)
    model_name: str = Field(max_length=200)
    system_prompt: str = Field(default="", sa_column=sa.Column(LongText, nullable=False))
    temperature: float | None = Field(default=None)
    max_tokens: int | None = Field(default=None)
    # Tokens the model accepts (prompt and reply); None: the usual size for its kind.
    context_window: int | None = Field(default=None)
    enabled: bool = Field(default=True)
    is_default: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
