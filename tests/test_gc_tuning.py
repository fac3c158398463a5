"""The app spares its start-up heap from the garbage collector."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from llm_chat import gc_tuning


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_the_startup_heap_is_frozen_and_young_passes_are_rarer(restored_gc: None) -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self

    garbage = Node()  # a reference cycle: only the collector frees it
    gone = weakref.ref(garbage)
    del garbage
    kept = [Node()]
    gc_tuning.spare_startup_heap()
    # The cycle was collected first, not frozen; what is alive now is frozen.
    assert gone() is None
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (
        gc_tuning.YOUNG_THRESHOLD,
        gc_tuning.MIDDLE_THRESHOLD,
        gc_tuning.OLD_THRESHOLD,
    )
    # Frozen objects are out of the generations the collector walks. By identity: `in` would
    # call every tracked object's __eq__, and some (SQLAlchemy's cache keys) raise on a Node.
    assert not any(o is kept[0] for o in gc.get_objects())
