"""The one stream of events every job emits (compare, gate, run, diff, targets check), in
order of occurrence.

The CLI's live display and its plain-line log are consumers of this stream, and so is any
other front end; the jobs themselves never print. The first event, ``RunPlanned``, carries
the plan; every later event names the target it concerns. ``ScenarioStarted`` and
``ScenarioFinished`` are the runner's own (``runner/session.py``), passed through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.pipeline.plan import Plan
from harness.runner.runaway import Runaway
from harness.runner.session import ScenarioFinished, ScenarioStarted

__all__ = [
    "BisectProbed",
    "CandidateSummary",
    "Comparing",
    "Emit",
    "Event",
    "RecheckPlanned",
    "RoundPlanned",
    "RunFinished",
    "RunPlanned",
    "ScenarioAssessed",
    "ScenarioFinished",
    "ScenarioStarted",
    "ServerRestarted",
    "TargetChecked",
    "TargetDied",
    "TargetDone",
    "TargetPlanned",
    "TargetReady",
    "TargetRuns",
    "TargetsStarting",
]


@dataclass(frozen=True, slots=True)
class TargetPlanned:
    target: str
    role: str  # baseline or candidate; run and targets check: target
    runs: int  # scenario runs this execution will make
    done: int  # runs already on disk (a resumed run), or recorded (gate baselines, diff)
    recorded: bool = False  # gate, diff: traces read from a directory, nothing to start
    scenarios: int = 0  # diff: the scenarios recorded


@dataclass(frozen=True, slots=True)
class RunPlanned:
    folder: Path
    scenarios: int
    targets: tuple[TargetPlanned, ...]
    resumed: bool
    plan: Plan | None = None  # its kind says what the later events mean


@dataclass(frozen=True, slots=True)
class TargetsStarting:
    targets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TargetReady:
    target: str
    url: str
    seconds: float


@dataclass(frozen=True, slots=True)
class RoundPlanned:
    """upgrade: a later round, at switch point ``point``, of the upgrade ``target``: its
    scenarios (those with that many points) are played once more across a switch."""

    target: str
    point: int
    runs: int


@dataclass(frozen=True, slots=True)
class RecheckPlanned:
    """Scenarios to run again: on a candidate, those that gate (fresh runs tell a
    consistent difference from an intermittent one); on the baseline, those that failed
    there (fresh runs tell a failure that comes and goes from one that stays)."""

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
class ServerRestarted:
    """A server thread ran without pause (a decision that never ends): the server was
    stopped and started afresh; the runs that ended beside the thread are played again
    with the runs never made, those under way when it was found last, each alone
    (``pipeline/isolate.py``)."""

    target: str
    threads: tuple[Runaway, ...]
    played_again: int  # the runs set aside and the runs cut short
    alone: int
    not_run: int
    cut: int = 0


@dataclass(frozen=True, slots=True)
class TargetChecked:
    """targets check: the target ran the check workflow (or did not start), and stopped."""

    target: str
    passed: bool
    detail: str  # what failed, or how it did not start
    seconds: float


@dataclass(frozen=True, slots=True)
class Comparing:
    candidates: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScenarioAssessed:
    """diff: one scenario of the candidate judged against the baseline."""

    candidate: str
    scenario: str
    verdict: str  # compatible, action_required, incompatible, inconclusive, not_applicable
    reason: str
    dispositions: dict[str, int]  # its differences by disposition (open, catalogued, ...)


@dataclass(frozen=True, slots=True)
class CandidateSummary:
    candidate: str
    verdict: str
    by_verdict: dict[str, int]
    gating: int  # open differences at or above the threshold
    other: int  # every other difference (catalogued, below fail-on, noise, intermittent)

    @classmethod
    def of(cls, comparison: dict[str, Any]) -> CandidateSummary:
        """From one of report.json's ``comparisons``."""
        summary = comparison["summary"]
        return cls(
            comparison["candidate"]["target"],
            comparison["verdict"]["status"],
            summary["by_verdict"],
            summary["gating"],
            summary["total"] - summary["gating"] + summary["noise"],
        )


@dataclass(frozen=True, slots=True)
class TargetRuns:
    """run: what one target's scenario runs ended with."""

    target: str
    counts: dict[str, int]  # by status: completed, not_applicable, failed_expectation, error
    seconds: float
    traces: Path
    isolation: str
    blocked: int | None  # outbound connection attempts the kernel refused


@dataclass(frozen=True, slots=True)
class RunFinished:
    verdict: str
    reason: str
    complete: bool
    reports: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0
    candidates: tuple[CandidateSummary, ...] = ()
    pending: int = 0
    runs: tuple[TargetRuns, ...] = ()  # run: one per target


@dataclass(frozen=True, slots=True)
class BisectProbed:
    """bisect: one version recorded and compared with the first of the range."""

    target: str
    shows: bool | None  # None: its runs did not finish, or the reference varies in it
    differences: int
    left: int  # probes still to make, at most
    runs_showing: int = 0  # its runs that show it (the reference: that differ from its first)
    runs: int = 1  # its runs compared (the reference: those after its first)
    reference: bool = False


@dataclass(frozen=True, slots=True)
class ExploreExample:
    """explore: one generated scenario played on both targets."""

    phase: str  # search | shrink
    examples: int  # played so far
    found: int  # findings so far
    new: int  # unexplained differences it showed that no finding has yet


@dataclass(frozen=True, slots=True)
class ExploreConfirmed:
    """explore: a finding played again before it is written; ``race``: the difference is
    the targets' own variation after all, judged over every run (``why``)."""

    signature: str
    runs: int  # runs on each target, in all
    race: bool
    why: str


@dataclass(frozen=True, slots=True)
class ExploreFound:
    """explore: a finding written as a scenario file."""

    signature: str
    file: Path
    shrinking: str  # complete | partial | none
    size: int


@dataclass(frozen=True, slots=True)
class ClientNotBuilt:
    """clients: a client's driver could not be built here; it runs on no target."""

    client: str
    why: str


Event = (
    RunPlanned
    | ClientNotBuilt
    | TargetsStarting
    | TargetReady
    | ScenarioStarted
    | ScenarioFinished
    | RecheckPlanned
    | RoundPlanned
    | TargetDone
    | TargetDied
    | ServerRestarted
    | TargetChecked
    | Comparing
    | ScenarioAssessed
    | RunFinished
    | BisectProbed
    | ExploreExample
    | ExploreConfirmed
    | ExploreFound
)
Emit = Callable[[Event], None]
