"""The runner: plays scenarios against one target and records traces."""

from harness.runner.engine import run_scenario
from harness.runner.session import (
    DEFAULT_JOBS,
    ScenarioFinished,
    ScenarioStarted,
    SessionEvent,
    SessionSummary,
    run_session,
)

__all__ = [
    "DEFAULT_JOBS",
    "ScenarioFinished",
    "ScenarioStarted",
    "SessionEvent",
    "SessionSummary",
    "run_scenario",
    "run_session",
]
