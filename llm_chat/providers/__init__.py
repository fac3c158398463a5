"""The LLM adapter layer: any OpenAI-compatible endpoint through ``openai.AsyncOpenAI``."""

from llm_chat.providers.client import (
    ChatMessage,
    ModelTarget,
    Piece,
    StreamStats,
    stream_pieces,
)
from llm_chat.providers.errors import ProviderError, classify_provider_error

__all__ = [
    "ChatMessage",
    "ModelTarget",
    "Piece",
    "ProviderError",
    "StreamStats",
    "classify_provider_error",
    "stream_pieces",
]
