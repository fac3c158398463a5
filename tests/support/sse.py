"""Reading Server-Sent Events as a browser's EventSource would."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    """One event: its name (``message`` when unnamed) and its data."""

    name: str
    data: str

    def json(self) -> Any:
        """The data, parsed."""
        return json.loads(self.data)


def _event_of(lines: list[str]) -> Event | None:
    name, data = "message", []
    for line in lines:
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
    return Event(name, "\n".join(data)) if data else None


def parse_events(text: str) -> list[Event]:
    """Every event in a whole stream's text."""
    return [e for block in text.split("\n\n") if (e := _event_of(block.splitlines()))]


async def iter_events(lines: AsyncIterator[str] | Iterable[str]) -> AsyncIterator[Event]:
    """Events as their lines arrive (``httpx.Response.aiter_lines()``)."""
    block: list[str] = []
    if not isinstance(lines, AsyncIterator):
        lines = _aiter(lines)
    async for line in lines:
        if line:
            block.append(line)
            continue
        event = _event_of(block)
        block = []
        if event is not None:
            yield event


async def _aiter(lines: Iterable[str]) -> AsyncIterator[str]:
    for line in lines:
        yield line
