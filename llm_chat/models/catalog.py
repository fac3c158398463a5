"""Providers (OpenAI-compatible endpoints) and the models they serve."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from llm_chat.models.base import LongText, timestamp_column, utcnow

# Prices per million tokens: exact decimals, up to 999,999.999999 (in the provider's currency).
PRICE_TYPE = sa.Numeric(12, 6)


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
    """An OpenAI-compatible endpoint. The API key and extra headers are stored encrypted."""

    __tablename__ = "provider"  # type: ignore[assignment]

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    kind: str = Field(default=ProviderKind.CUSTOM.value, max_length=32)
    base_url: str = Field(max_length=500)
    api_key_encrypted: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    # Headers sent with every request (a gateway's own key, an organization id), as encrypted
    # JSON: they may hold secrets as much as the key does.
    extra_headers_encrypted: str = Field(
        default="",
        # MySQL takes no literal default on a TEXT column; an expression works everywhere.
        sa_column=sa.Column(sa.Text, nullable=False, server_default=sa.text("('')")),
    )
    # Seconds to wait for this provider (None: LLM_CHAT_PROVIDER_TIMEOUT).
    timeout_seconds: float | None = Field(default=None)
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
    top_p: float | None = Field(default=None)
    # The most tokens a reply may have (None: the provider's own limit).
    max_tokens: int | None = Field(default=None)
    # Tokens the model accepts (prompt and reply); None: the usual size for its kind.
    context_window: int | None = Field(default=None)
    # What a million prompt (input) and reply (output) tokens cost; None: unknown.
    price_input: Decimal | None = Field(default=None, sa_column=sa.Column(PRICE_TYPE))
    price_output: Decimal | None = Field(default=None, sa_column=sa.Column(PRICE_TYPE))
    # The roles that may use it, comma-separated ("admin"); empty: every role.
    allowed_roles: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
    # A reasoning model streams its thinking (``reasoning_content``) before its answer.
    is_reasoning: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    enabled: bool = Field(default=True)
    is_default: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
