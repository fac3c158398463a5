"""Benchmarks of llm-chat: a real app, a headless Chromium and protocol-level users, all on
127.0.0.1 against a loopback OpenAI-compatible provider. Run ``make bench`` (``QUICK=1``)."""
