"""The runner: plays scenarios against one target and records traces."""

from harness.runner.engine import run_scenario
from harness.runner.session import (
    DEFAULT_JOBS,
    ScenarioFinished,
    ScenarioStarted,
    SessionSummary,
    run_session,
)
from harness.runner.trace import read_trace, trace_errors, write_trace

__all__ = [
    "DEFAULT_JOBS",
    "ScenarioFinished",
    "ScenarioStarted",
    "SessionSummary",
    "read_trace",
    "run_scenario",
    "run_session",
    "trace_errors",
    "write_trace",
]
