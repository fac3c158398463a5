"""Checking a provider from the admin page: its model list and a one-token completion."""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass

import aiohttp
import httpx2
import openai

from llm_chat.providers.client import ModelTarget, client_for
from llm_chat.providers.errors import UNKNOWN, UNREACHABLE, classify_provider_error

logger = logging.getLogger(__name__)

# A check waits this long at most for each request: an admin is watching, and a provider
# that needs longer to list its models is better reported as slow.
PROBE_TIMEOUT_SECONDS = 15.0
# At most this many model ids are kept from a provider's list (gateways list hundreds).
MAX_LISTED_MODELS = 500


@dataclass(frozen=True)
class ProbeResult:
    """How one request to a provider went: never its body, never the key.

    ``code`` is empty on success, else a ``provider.*`` translation key.
    """

    code: str
    latency_ms: int
    models: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the request succeeded."""
        return not self.code


# What a request to a provider may raise: the SDK's errors, the transport's, a body that is
# not the JSON it should be.
_FAILURES = (openai.OpenAIError, httpx2.RequestError, aiohttp.ClientError, OSError, ValueError)


def _client(target: ModelTarget) -> openai.AsyncOpenAI:
    """A client that waits at most PROBE_TIMEOUT_SECONDS and does not retry."""
    timeout = min(target.timeout or PROBE_TIMEOUT_SECONDS, PROBE_TIMEOUT_SECONDS)
    return client_for(dataclasses.replace(target, timeout=timeout)).with_options(max_retries=0)


def _failure(exc: BaseException, started: float, what: str) -> ProbeResult:
    if isinstance(exc, openai.OpenAIError):
        code = classify_provider_error(exc)
    elif isinstance(exc, httpx2.RequestError | aiohttp.ClientError | OSError):
        code = UNREACHABLE
    else:
        code = UNKNOWN
    status = getattr(exc, "status_code", None)
    # The class and status only: an error's text may quote the provider's body.
    logger.info("Provider check (%s) failed: %s %s", what, type(exc).__name__, status or "")
    return ProbeResult(code, _elapsed_ms(started))


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


async def list_models(target: ModelTarget) -> ProbeResult:
    """``GET {base_url}/models``: the model ids the provider offers, sorted."""
    client = _client(target)
    started = time.perf_counter()
    try:
        page = await client.models.list()
        ids = sorted({m.id for m in page.data or () if isinstance(m.id, str) and m.id})
    except _FAILURES as exc:
        return _failure(exc, started, "models")
    return ProbeResult("", _elapsed_ms(started), tuple(ids[:MAX_LISTED_MODELS]))


async def complete_one_token(target: ModelTarget) -> ProbeResult:
    """A chat completion of at most one token from ``target.model_name``."""
    client = _client(target)
    started = time.perf_counter()
    try:
        await client.chat.completions.create(
            model=target.model_name,
            messages=[{"role": "user", "content": "Say OK."}],
            max_tokens=1,
        )
    except _FAILURES as exc:
        return _failure(exc, started, "completion")
    return ProbeResult("", _elapsed_ms(started))
