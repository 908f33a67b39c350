"""Classify differences (severity, fingerprint, known/noise/flaky) and decide verdicts.

>>> settings = Settings(load_spec(), load_severity_rules(), load_allowlist(path))
>>> result = assess_run(load_trace_set(baseline_dir), load_trace_set(candidate_dir), settings)
>>> result.verdict              # compatible, incompatible or inconclusive
"""

from __future__ import annotations

from harness.classify.allowlist import Allowlist, Entry, known_differences_path, load_allowlist
from harness.classify.assess import Settings, assess_scenario
from harness.classify.model import (
    DISPOSITIONS,
    VERDICTS,
    EntryStatus,
    Finding,
    Run,
    RunResult,
    ScenarioResult,
)
from harness.classify.severity import SEVERITIES, fingerprint, load_severity_rules
from harness.classify.verdict import assess_run, combine

__all__ = [
    "DISPOSITIONS",
    "SEVERITIES",
    "VERDICTS",
    "Allowlist",
    "Entry",
    "EntryStatus",
    "Finding",
    "Run",
    "RunResult",
    "ScenarioResult",
    "Settings",
    "assess_run",
    "assess_scenario",
    "combine",
    "fingerprint",
    "known_differences_path",
    "load_allowlist",
    "load_severity_rules",
]
