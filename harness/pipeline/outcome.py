"""What a job ended with: the value every job returns, whatever its kind."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.classify import RunResult
from harness.errors import CompatError, ExitCode
from harness.runner import SessionSummary
from harness.targets.check import CheckResult
from harness.targets.model import RunningTarget

# A comparison's verdict, as an exit code (compare, gate, diff).
VERDICT_EXIT = {
    "compatible": ExitCode.OK,
    "action_required": ExitCode.ACTION_REQUIRED,
    "incompatible": ExitCode.FINDING,
    "inconclusive": ExitCode.INCONCLUSIVE,
}


@dataclass(frozen=True, slots=True)
class TargetCheck:
    """targets check: one target's result, or why it did not start."""

    target: str
    exit_code: int  # 0: passed
    server: RunningTarget | None = None  # None: it did not start
    result: CheckResult | None = None
    error: CompatError | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """``verdict``: compare, gate, diff: the report's (compatible, action_required,
    incompatible, inconclusive); run: completed, failed_expectation or error (the worst
    scenario run); check: passed or failed. ``exit_code``: the command's."""

    verdict: str
    reason: str
    complete: bool
    reports: dict[str, Path]
    folder: Path  # compare, gate: the run folder; run: the traces; diff: the reports
    exit_code: int = 0
    results: tuple[RunResult, ...] = ()  # compare, gate, diff: one per candidate
    sessions: tuple[SessionSummary, ...] = ()  # run: one per target
    checks: tuple[TargetCheck, ...] = ()  # check: one per target
