"""Compare two scrubbed traces level by level.

>>> differences = diff_views(build_view(baseline), build_view(candidate))
"""

from __future__ import annotations

from harness.compare.diff import KINDS, Difference, diff_views
from harness.compare.views import LEVELS, View, build_view, standing_in

__all__ = ["KINDS", "LEVELS", "Difference", "View", "build_view", "diff_views", "standing_in"]
