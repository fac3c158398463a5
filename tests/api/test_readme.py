"""The README's API examples, run as written (curl, bash and the OpenAI SDK) against a live
server; only the address is changed."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import Engine

from llm_chat.config import PROJECT_ROOT
from llm_chat.db import session_scope
from llm_chat.services import api_keys, conversations, users
from tests.fake_provider import FakeProvider
from tests.support.factories import make_model
from tests.support.reflex_server import ReflexServer

README_ADDRESS = "http://localhost:8000"
README_EMAIL, README_PASSWORD = "you@example.com", "correct horse battery"


def api_examples() -> list[tuple[str, str]]:
    """``(language, code)`` of each fenced block in the README's API section, in order."""
    readme = Path(PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## API\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(bash|python)\n(.*?)```", section, flags=re.DOTALL)


async def _run(args: list[str], env: dict[str, str]) -> str:
    done = await asyncio.to_thread(
        subprocess.run, args, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_the_readme_examples_work(
    live: ReflexServer, provider: FakeProvider, app_db: Engine
) -> None:
    with session_scope() as session:
        user = users.register_user.within(session, email=README_EMAIL, password=README_PASSWORD)
        key = api_keys.create_api_key.within(session, user_id=user.id, name="readme").secret
    make_model(provider.base_url, "gpt-4o-mini")
    env = {**os.environ, "LLM_CHAT_API_KEY": key, "BASE": live.url}
    (_, shell), (_, python), (_, gateway) = api_examples()

    output = await _run(
        ["bash", "-euo", "pipefail", "-c", shell.replace(README_ADDRESS, live.url)], env
    )
    assert '"name":"gpt-4o-mini"' in output
    assert output.count("data: [DONE]") == 2
    assert "# Name three green teas\n" in output  # the Markdown export
    streamed = "".join(
        json.loads(line.removeprefix("data: "))["text"]
        for line in output.splitlines()
        if line.startswith('data: {"text"')
    )
    assert streamed == "Echo: Name three green teasEcho: And which one has the most caffeine?"

    printed = await _run([sys.executable, "-c", python.replace(README_ADDRESS, live.url)], env)
    assert printed == "Echo: Name three green teas\n"

    completion = json.loads(await _run(["bash", "-euo", "pipefail", "-c", gateway], env))
    assert completion["choices"][0]["message"]["content"] == "Echo: Hi"
    with session_scope() as session:
        titles = [
            c.title for c in conversations.list_conversations.within(session, user_id=user.id)
        ]
    assert titles == ["Name three green teas", "Name three green teas"]  # "store": false kept out
