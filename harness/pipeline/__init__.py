"""The main job: scenario files to compatibility reports against live targets.

>>> plan = Plan("compare", "netflix:3.15.0", ("oss:3.32.1",), ("scenarios",))
>>> outcome = await execute(plan, default_folder(Path("reports"), plan), emit=print)
>>> outcome.verdict, outcome.reports["report.html"]
"""

from __future__ import annotations

from harness.pipeline.execute import Outcome, execute
from harness.pipeline.plan import Plan, RunFolder, default_folder

__all__ = ["Outcome", "Plan", "RunFolder", "default_folder", "execute"]
