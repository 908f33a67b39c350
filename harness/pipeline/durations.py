"""How long each scenario took on each target, remembered in the cache so that the next
play on that target starts the longest first.

Scenarios run ``--jobs`` at a time. In the order they are given, the longest ones (an
event handler's 60 s refresh, a WAIT until a time) can start last and keep the play going
long after the others are done; started first, they run beside the short ones. A scenario
never seen on the target starts before every remembered one (it may be long). The file
is ``durations/<target>.json`` in the cache (``~/.cache/conductor-compat``): scenario name
-> the seconds of its latest run there. Order only: no result depends on it, and a file
that cannot be read or written is ignored.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from harness.targets.maven import cache_dir

__all__ = ["expected", "remember", "store"]


def store(target: str) -> Path:
    """The file that remembers ``target``'s durations."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", target).strip("-") or "target"
    return cache_dir() / "durations" / f"{name}.json"


def expected(target: str) -> dict[str, float]:
    """Seconds of each scenario's latest run on ``target`` (empty when none is known)."""
    try:
        data = json.loads(store(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(k): float(v)
        for k, v in data.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    }


def remember(target: str, seconds: Iterable[tuple[str, float]]) -> None:
    """Add these runs' seconds (scenario, seconds: the longest of a scenario's runs) to
    ``target``'s file, written whole."""
    update: dict[str, float] = {}
    for name, s in seconds:
        update[name] = max(update.get(name, 0.0), round(s, 2))
    if not update:
        return
    path = store(target)
    merged = {**expected(target), **update}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(dict(sorted(merged.items())), fh, indent=0)
        os.replace(temporary, path)
    except OSError:
        return
