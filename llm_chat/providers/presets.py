"""Known OpenAI-compatible services: their usual base URLs and models."""

from __future__ import annotations

from dataclasses import dataclass

from llm_chat.models import ProviderKind


@dataclass(frozen=True)
class ProviderPreset:
    """Defaults offered when an admin adds a provider of a known kind."""

    kind: ProviderKind
    label: str
    base_url: str
    models: tuple[str, ...]
    api_key_env: str = ""


PRESETS: dict[str, ProviderPreset] = {
    p.kind.value: p
    for p in (
        ProviderPreset(
            ProviderKind.OPENAI,
            "OpenAI",
            "https://api.openai.com/v1",
            ("gpt-4o-mini", "gpt-4o"),
            "OPENAI_API_KEY",
        ),
        ProviderPreset(
            ProviderKind.DEEPSEEK,
            "DeepSeek",
            "https://api.deepseek.com/v1",
            ("deepseek-chat", "deepseek-reasoner"),
            "DEEPSEEK_API_KEY",
        ),
        ProviderPreset(
            ProviderKind.QWEN,
            "Qwen (DashScope)",
            "https://dashscope.aliyuncs.com/compatible-mode/v1",
            ("qwen-plus", "qwen-turbo"),
        ),
        ProviderPreset(
            ProviderKind.MOONSHOT, "Moonshot", "https://api.moonshot.cn/v1", ("moonshot-v1-8k",)
        ),
        ProviderPreset(ProviderKind.OLLAMA, "Ollama", "http://localhost:11434/v1", ()),
        ProviderPreset(ProviderKind.VLLM, "vLLM", "http://localhost:8000/v1", ()),
        ProviderPreset(ProviderKind.CUSTOM, "Custom", "", ()),
    )
}
