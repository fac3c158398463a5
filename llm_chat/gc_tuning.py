"""The garbage collector of a long-running app server: spared the start-up heap.

The app's heap after start-up (Reflex's compiled pages, the imported libraries: ~200 MiB)
lives as long as the process. Left to the defaults, every full collection walked all of it
again: 19-69 ms pauses of the event loop in a 100-user burst, with a young-generation pass
(2-4 ms) every few dozen milliseconds while a burst of turns started (``make bench``).
"""

from __future__ import annotations

import gc

# Allocations (net of frees) between two young-generation passes; Python's default is 700.
# A turn allocates thousands of short-lived objects, most gone (by reference counting)
# before a pass this far apart, so fewer survive to be walked again by the older passes.
YOUNG_THRESHOLD = 10_000
# Young passes per middle pass, middle passes per full pass (Python's defaults: 10, 10).
MIDDLE_THRESHOLD = 20
OLD_THRESHOLD = 10


def spare_startup_heap() -> None:
    """Collect once, then move every object alive now out of the collector's way.

    Call it when start-up is done (from the app's lifespan). Later collections only walk
    what was allocated afterwards; the frozen objects are still freed by reference counting.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)
