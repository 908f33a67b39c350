"""The stream of events a compare or gate run emits, in order of occurrence.

The CLI's live display and its plain-line log are consumers of this stream; the run
itself never prints. Every event names the target it concerns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class TargetPlanned:
    target: str
    role: str  # baseline or candidate
    runs: int  # scenario runs this execution will make
    done: int  # runs already on disk (a resumed run), or recorded (gate baselines)
    recorded: bool = False  # gate: baselines read from a directory, nothing to start


@dataclass(frozen=True, slots=True)
class RunPlanned:
    folder: Path
    scenarios: int
    targets: tuple[TargetPlanned, ...]
    resumed: bool


@dataclass(frozen=True, slots=True)
class TargetsStarting:
    targets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TargetReady:
    target: str
    url: str
    seconds: float


@dataclass(frozen=True, slots=True)
class ScenarioStarted:
    target: str
    scenario: str
    repeat: int


@dataclass(frozen=True, slots=True)
class ScenarioFinished:
    target: str
    scenario: str
    repeat: int
    status: str  # completed, failed_expectation, error, not_applicable
    reason: str | None
    seconds: float


@dataclass(frozen=True, slots=True)
class RecheckPlanned:
    """Scenarios that gate: fresh candidate runs tell a consistent difference from an
    intermittent one."""

    target: str
    scenarios: tuple[str, ...]
    runs: int


@dataclass(frozen=True, slots=True)
class TargetDone:
    target: str


@dataclass(frozen=True, slots=True)
class TargetDied:
    """The server exited while scenarios ran on it: nothing more runs there."""

    target: str
    summary: str  # '<target> died mid-run: it was killed by signal 9 (SIGKILL)'
    log: Path | None
    log_tail: tuple[str, ...]
    not_run: int  # scenario runs that will not be made


@dataclass(frozen=True, slots=True)
class Comparing:
    candidates: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CandidateSummary:
    candidate: str
    verdict: str
    by_verdict: dict[str, int]
    gating: int  # open differences at or above the threshold
    other: int  # every other difference (catalogued, below fail-on, noise, intermittent)


@dataclass(frozen=True, slots=True)
class RunFinished:
    verdict: str
    reason: str
    complete: bool
    reports: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0
    candidates: tuple[CandidateSummary, ...] = ()
    pending: int = 0


Event = (
    RunPlanned
    | TargetsStarting
    | TargetReady
    | ScenarioStarted
    | ScenarioFinished
    | RecheckPlanned
    | TargetDone
    | TargetDied
    | Comparing
    | RunFinished
)
Emit = Callable[[Event], None]
