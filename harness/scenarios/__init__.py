"""Scenario files: find, validate and load them (the first arrow of the data flow)."""

from harness.documents.source import Problem
from harness.scenarios.load import ScenarioError, discover, load_all, load_scenario, require_valid
from harness.scenarios.model import Applicability, Scenario, Step, WorkerRule, WorkerSpec

__all__ = [
    "Applicability",
    "Problem",
    "Scenario",
    "ScenarioError",
    "Step",
    "WorkerRule",
    "WorkerSpec",
    "discover",
    "load_all",
    "load_scenario",
    "require_valid",
]
