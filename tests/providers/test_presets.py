"""Known providers: the context window assumed for their models."""

from __future__ import annotations

import pytest

from llm_chat.models import ProviderKind
from llm_chat.providers.presets import KNOWN_WINDOWS, PRESETS, default_context_window


@pytest.mark.parametrize(
    ("kind", "model_name", "window"),
    [
        ("openai", "gpt-4o", 128_000),
        ("openai", "gpt-4o-mini", 128_000),
        ("openai", "gpt-4o-2024-08-06", 128_000),
        ("openai", "gpt-4", 8_192),
        ("deepseek", "deepseek-chat", 65_536),
        ("deepseek", "deepseek-reasoner", 65_536),
        ("qwen", "qwen-plus", 131_072),
        ("qwen", "qwen-turbo", 131_072),
        ("moonshot", "moonshot-v1-8k", 8_192),
        ("moonshot", "moonshot-v1-32k", 32_768),
        ("moonshot", "moonshot-v1-128k", 131_072),
        ("custom", "deepseek/deepseek-chat", 65_536),  # a gateway's vendor/name
        ("custom", " GPT-4o ", 128_000),
        ("custom", "my-finetune", 8_192),
        ("ollama", "llama3.1:8b", 4_096),
        ("ollama", "gpt-4o", 4_096),  # the server's num_ctx decides, not the name
        ("vllm", "Qwen/Qwen2.5-7B-Instruct", 8_192),
    ],
)
def test_default_context_window(kind: str, model_name: str, window: int) -> None:
    assert default_context_window(kind, model_name) == window


def test_every_preset_model_has_a_listed_window() -> None:
    offered = [model for preset in PRESETS.values() for model in preset.models]
    assert offered
    for model in offered:
        assert any(model.startswith(prefix) for prefix, _ in KNOWN_WINDOWS), model


def test_the_kind_may_be_given_as_the_enum() -> None:
    assert default_context_window(ProviderKind.OLLAMA, "qwen2.5") == 4_096
    assert default_context_window(ProviderKind.QWEN, "qwen-plus") == 131_072
