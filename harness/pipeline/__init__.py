"""Every job, from a ``Plan`` to an ``Outcome``, with one stream of events on the way.

>>> plan = Plan("compare", "netflix:3.15.0", ("oss:3.32.1",), ("scenarios",))
>>> outcome = await run_plan(plan, on_event=print)
>>> outcome.verdict, outcome.reports["report.html"]

``play`` runs scenarios on a server the caller started and keeps:

>>> summary = await play(scenarios, server, Path("traces"), jobs=4, on_event=print)
"""

from __future__ import annotations

from harness.pipeline.execute import execute
from harness.pipeline.jobs import run_plan
from harness.pipeline.live import play
from harness.pipeline.outcome import Outcome, TargetCheck
from harness.pipeline.plan import KINDS, Plan, RunFolder, default_folder

__all__ = [
    "KINDS",
    "Outcome",
    "Plan",
    "RunFolder",
    "TargetCheck",
    "default_folder",
    "execute",
    "play",
    "run_plan",
]
