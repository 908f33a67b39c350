"""Classify differences (severity, fingerprint, the change that explains each, acceptances,
noise, intermittent) and decide verdicts.

>>> settings = Settings(load_spec(), load_severity_rules(), load_catalog())
>>> result = assess_run(load_trace_set(baseline_dir), load_trace_set(candidate_dir), settings)
>>> result.verdict   # compatible, action_required, incompatible or inconclusive
"""

from __future__ import annotations

from harness.classify.accept import Acceptance, Acceptances, load_acceptances
from harness.classify.assess import assess_scenario
from harness.classify.catalog import Catalog, Change, load_catalog, shipped_catalog_path
from harness.classify.model import (
    DISPOSITIONS,
    VERDICTS,
    AcceptanceStatus,
    ChangeStatus,
    Finding,
    Run,
    RunResult,
    ScenarioResult,
)
from harness.classify.settings import Settings, load_settings
from harness.classify.severity import SEVERITIES, fingerprint, load_severity_rules
from harness.classify.verdict import PRECEDENCE, assess_run, combine

__all__ = [
    "DISPOSITIONS",
    "PRECEDENCE",
    "SEVERITIES",
    "VERDICTS",
    "Acceptance",
    "AcceptanceStatus",
    "Acceptances",
    "Catalog",
    "Change",
    "ChangeStatus",
    "Finding",
    "Run",
    "RunResult",
    "ScenarioResult",
    "Settings",
    "assess_run",
    "assess_scenario",
    "combine",
    "fingerprint",
    "load_acceptances",
    "load_catalog",
    "load_settings",
    "load_severity_rules",
    "shipped_catalog_path",
]
