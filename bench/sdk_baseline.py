"""The limit: the openai SDK alone reading a streamed reply from the loopback provider.

Run in a process of its own (``python -m bench.sdk_baseline --base-url URL``), so that its CPU
time (``time.process_time``) holds nothing else; prints one JSON line. The provider must run in
another process (``bench.provider``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import openai

__all__ = ["SdkBaseline", "measure", "run_in_subprocess"]

TIMEOUT_S = 120.0


@dataclass(frozen=True)
class SdkBaseline:
    """Median over the runs of tokens per second and CPU per token of the SDK's reader."""

    tokens: int
    runs: int
    tokens_per_s: float
    cpu_ms_per_token: float
    all_tokens_per_s: list[float]
    all_cpu_ms_per_token: list[float]

    @property
    def cpu_ms_per_1000(self) -> float:
        """CPU milliseconds per 1000 tokens."""
        return self.cpu_ms_per_token * 1000


async def _one_stream(client: openai.AsyncOpenAI, model: str) -> tuple[int, float, float]:
    cpu0, wall0 = time.process_time(), time.perf_counter()
    stream = await client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "baseline"}], stream=True
    )
    count = 0
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            count += 1
    return count, time.perf_counter() - wall0, time.process_time() - cpu0


async def measure(base_url: str, tokens: int = 1000, runs: int = 7) -> SdkBaseline:
    """Stream ``runs`` replies of ``tokens`` tokens at full speed after one warm-up."""
    model = f"fake?tokens={tokens}"
    speeds: list[float] = []
    cpus: list[float] = []
    async with openai.AsyncOpenAI(base_url=base_url, api_key="sk-bench", max_retries=0) as client:
        await _one_stream(client, model)  # connection, imports, caches
        for _ in range(runs):
            count, wall, cpu = await _one_stream(client, model)
            if count != tokens:
                raise RuntimeError(f"the SDK read {count} tokens, expected {tokens}")
            speeds.append(count / wall)
            cpus.append(cpu * 1000 / count)
    return SdkBaseline(
        tokens=tokens,
        runs=runs,
        tokens_per_s=statistics.median(speeds),
        cpu_ms_per_token=statistics.median(cpus),
        all_tokens_per_s=speeds,
        all_cpu_ms_per_token=cpus,
    )


def run_in_subprocess(base_url: str, tokens: int, runs: int) -> SdkBaseline:
    """Measure in a fresh Python process (nothing else on its CPU clock)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.sdk_baseline",
            "--base-url",
            base_url,
            "--tokens",
            str(tokens),
            "--runs",
            str(runs),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the SDK baseline failed:\n{done.stderr[-2000:]}")
    return SdkBaseline(**json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: measure against ``--base-url`` (start one with ``python -m bench.provider``)."""
    parser = argparse.ArgumentParser(prog="python -m bench.sdk_baseline")
    parser.add_argument("--base-url", required=True, help="the provider's /v1 URL (loopback)")
    parser.add_argument("--tokens", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args(argv)
    result = asyncio.run(measure(args.base_url, args.tokens, args.runs))
    if args.json:
        print(json.dumps(asdict(result)))
    else:
        print(
            f"openai SDK alone: {result.tokens_per_s:,.0f} tokens/s, "
            f"{result.cpu_ms_per_token:.3f} ms CPU per token (median of {result.runs})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
