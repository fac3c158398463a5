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


# Context windows (prompt and reply together, in tokens) of known models, by name prefix; the
# first match wins, so a longer prefix comes before a shorter one. Where a provider raised a
# model's window over time, the smaller figure stands: too small only drops history early,
# too large makes requests fail.
#   OpenAI: gpt-4o and gpt-4o-mini 128,000 (dated snapshots share their prefix);
#     gpt-4.1 1,047,576; gpt-4-turbo 128,000; gpt-4 8,192; gpt-3.5-turbo 16,385.
#   DeepSeek: deepseek-chat (V3) and deepseek-reasoner (R1) 64K as their API documents them
#     (V3.1 and later serve 128K under the same names).
#   Qwen (DashScope): qwen-plus 131,072; qwen-turbo 131,072 (its later versions take 1M).
#   Moonshot: moonshot-v1-8k, -32k and -128k, as their names say.
KNOWN_WINDOWS: tuple[tuple[str, int], ...] = (
    ("gpt-4o-mini", 128_000),
    ("gpt-4o", 128_000),
    ("gpt-4.1", 1_047_576),
    ("gpt-4-turbo", 128_000),
    ("gpt-4", 8_192),
    ("gpt-3.5-turbo", 16_385),
    ("deepseek-chat", 65_536),
    ("deepseek-reasoner", 65_536),
    ("qwen-plus", 131_072),
    ("qwen-turbo", 131_072),
    ("moonshot-v1-8k", 8_192),
    ("moonshot-v1-32k", 32_768),
    ("moonshot-v1-128k", 131_072),
)
# A self-hosted server sets the window itself, whatever the model's name: Ollama's default
# num_ctx is 4096 (2048 before 0.6), and its OpenAI-compatible API cannot raise it per
# request; vLLM's is its --max-model-len, unknown here.
SERVER_WINDOWS: dict[str, int] = {ProviderKind.OLLAMA.value: 4_096, ProviderKind.VLLM.value: 8_192}
# Any other model (custom endpoints, unlisted names): a window every current chat model has.
FALLBACK_WINDOW = 8_192


def default_context_window(kind: str, model_name: str) -> int:
    """The context window to assume for a model, in tokens, when the admin has not set one.

    Args:
        kind: The provider's :class:`~llm_chat.models.ProviderKind` value.
        model_name: The model's name at the provider (as sent in requests).
    """
    if kind in SERVER_WINDOWS:
        return SERVER_WINDOWS[kind]
    # Gateways name models after their vendor: "openai/gpt-4o".
    name = model_name.strip().lower().rpartition("/")[2]
    for prefix, window in KNOWN_WINDOWS:
        if name.startswith(prefix):
            return window
    return FALLBACK_WINDOW


# Model ids of known reasoning models (they stream their thinking as ``reasoning_content``):
# DeepSeek's reasoner and R1 (and distills), Qwen's QwQ and QvQ, Moonshot's Kimi thinking.
_REASONING_MARKERS = ("reasoner", "deepseek-r1", "qwq", "qvq", "thinking")


def looks_like_reasoning(model_name: str) -> bool:
    """Whether a model id names a known reasoning model (a guess an admin can correct)."""
    name = model_name.strip().lower()
    return any(marker in name for marker in _REASONING_MARKERS)
