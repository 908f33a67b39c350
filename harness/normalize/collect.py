"""Garbage collection paused while a trace is scrubbed, cut into views or diffed.

A scrub or a diff of a large trace makes hundreds of thousands of dicts, lists and tuples,
none of them in a reference cycle. Each allocation counts toward the collector's next
pass, and its full passes rescan every object alive (both traces, both views): for a
10,000-task trace that was a third of the time. Paused, the collector would catch up once
the walk is over, scanning every new object as young, and again as it ages. What a walk
makes is its result, kept: so at the end every object alive is moved to the oldest
generation at once (``gc.freeze`` then ``gc.unfreeze``, which also starts the count of new
allocations afresh), where only a full collection looks at it, as it would after two
passes. A cycle left behind is still collected, at the next full collection.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collection_paused() -> Iterator[None]:
    """No garbage collection inside the block (unless the caller had it off already); what
    is alive at its end is moved to the oldest generation, unless objects are frozen
    (``gc.unfreeze`` would release them too)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if not gc.get_freeze_count():
            gc.freeze()
            gc.unfreeze()
        gc.enable()
