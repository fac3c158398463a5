"""Small statistics helpers."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile by linear interpolation (``nan`` for no values)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ws_frame_bytes(payload: int, *, masked: bool = False) -> int:
    """A websocket frame on the wire: payload plus its 2-10 byte header (and the 4-byte mask
    of a client-to-server frame)."""
    mask = 4 if masked else 0
    if payload < 126:
        return payload + 2 + mask
    if payload < 65536:
        return payload + 4 + mask
    return payload + 10 + mask
