"""The event-stream decoder: events come out whole however the bytes are cut."""

from __future__ import annotations

import json

import pytest

from llm_chat.providers.sse import Event, SSEDecoder

STREAM = (
    b": keep-alive comment\n"
    b'data: {"text": "Gr\xc3\xbc\xc3\x9fe \xe4\xbd\xa0\xe5\xa5\xbd"}\n\n'
    b"event: error\r\n"
    b"data: first line\r\n"
    b"data: second line\r\n\r\n"
    b"data\n\n"
    b"id: 7\nretry: 100\ndata:no-space\n\n"
    b"data: [DONE]\n\n"
)
EXPECTED = [
    Event("", json.dumps({"text": "Grüße 你好"}, ensure_ascii=False)),
    Event("error", "first line\nsecond line"),
    Event("", ""),
    Event("", "no-space"),
    Event("", "[DONE]"),
]


def feed_all(chunks: list[bytes]) -> list[Event]:
    decoder = SSEDecoder()
    return [event for chunk in chunks for event in decoder.feed(chunk)]


def test_one_read_holding_every_event() -> None:
    assert feed_all([STREAM]) == EXPECTED


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64])
def test_any_cut_gives_the_same_events(size: int) -> None:
    chunks = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]
    assert feed_all(chunks) == EXPECTED


def test_every_single_cut_point() -> None:
    for cut in range(1, len(STREAM)):
        assert feed_all([STREAM[:cut], STREAM[cut:]]) == EXPECTED, cut


def test_an_event_without_its_blank_line_is_not_dispatched() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: half") == []
    assert decoder.feed(b" an event\n") == []
    assert decoder.feed(b"\n") == [Event("", "half an event")]


def test_a_bare_carriage_return_ends_lines() -> None:
    assert feed_all([b"data: a\rdata: b\r\r", b"data: c\r\r", b"\n"]) == [
        Event("", "a\nb"),
        Event("", "c"),
    ]
