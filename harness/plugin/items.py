"""Scenario files as test items: one per live target and scenario.

A baseline item passes when the scenario runs through on the baseline. A candidate item
passes when its comparison with the baseline does not gate under the configured
verdict (``fail_on``, ``fail_on_known``, acceptances); otherwise it fails with the
verdict's reason and the differences that gate, each with its explanation.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.errors import BadInputError
from harness.plugin.session import ComparisonFailed
from harness.plugin.state import session_of, settings_of
from harness.scenarios import ScenarioError, load_scenario

RUNS_THROUGH = ("completed", "not_applicable")
FAILING = ("incompatible", "action_required", "inconclusive")
SHOWN = 8  # gating differences spelled out in one failure; the report has them all


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        try:
            scenario = load_scenario(self.path)
        except ScenarioError as exc:  # each problem with its file, line and field
            raise self.CollectError("\n".join(p.render() for p in exc.problems)) from None
        settings = settings_of(self.config)
        for target in settings.targets:
            role = "baseline" if target == settings.baseline else "candidate"
            item = ScenarioItem.from_parent(
                self, name=f"{scenario.name}[{target}]", scenario=scenario.name, target=target
            )
            item.role = role
            item.add_marker("conductor_compat")
            for marker in settings.markers:
                item.add_marker(marker)
            yield item


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: str, target: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.target = target
        self.role = "candidate"

    def runtest(self) -> None:
        session = session_of(self.config)
        try:
            report = session.report()
        except ComparisonFailed as exc:
            raise ScenarioFailed(f"the comparison did not finish: {exc}") from None
        folder = Path(report["run"]["directory"])
        self.user_properties.append(("report", str(folder / "report.html")))
        if self.role == "baseline":
            self._check_baseline(report)
        else:
            self._check_candidate(report)

    def _check_baseline(self, report: dict[str, Any]) -> None:
        runs = [r for c in report["comparisons"] for r in _entry(c, self.scenario)["baseline_runs"]]
        runs = list({r["file"]: r for r in runs}.values())
        if runs and all(r["outcome"] == "not_applicable" for r in runs):
            pytest.skip(f"not applicable to {self.target}: {runs[0]['reason']}")
        failed = [r for r in runs if r["outcome"] not in RUNS_THROUGH]
        if runs and len(failed) == len(runs):
            raise ScenarioFailed(
                f"{self.scenario} did not run through on {self.target}: "
                + "; ".join(f"run {r['repeat']}: {r['outcome']}: {r['reason']}" for r in failed)
            )
        for run in failed:  # one run of several: flaky on the baseline, said, not hidden
            self.warn(
                pytest.PytestWarning(
                    f"{self.scenario} is flaky on {self.target}: run {run['repeat']} "
                    f"{run['outcome']}: {run['reason']}"
                )
            )

    def _check_candidate(self, report: dict[str, Any]) -> None:
        comparisons = report["comparisons"]
        (comparison,) = [c for c in comparisons if c["candidate"]["target"] == self.target]
        entry = _entry(comparison, self.scenario)
        self.user_properties.append(("verdict", entry["verdict"]))
        if entry["verdict"] == "not_applicable":
            pytest.skip(entry.get("reason") or f"not applicable to {self.target}")
        if entry["verdict"] == "inconclusive" and settings_of(self.config).skip_inconclusive:
            pytest.skip(f"inconclusive: {entry['reason']}")
        if entry["verdict"] in FAILING:
            lines = [f"{entry['verdict'].replace('_', ' ')}: {entry['reason']}"]
            gating = [f for f in entry["findings"] if f["gates"] or f.get("requires_action")]
            lines += [_finding(f) for f in gating[:SHOWN]]
            if len(gating) > SHOWN:
                lines.append(f"... and {len(gating) - SHOWN} more")
            lines.append(f"report: {Path(report['run']['directory']) / 'report.html'}")
            raise ScenarioFailed("\n".join(lines))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioFailed | BadInputError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, 0, f"scenario {self.scenario} on {self.target}"


class ScenarioFailed(Exception):
    """What a failing item shows: the verdict and the differences behind it."""


def _entry(comparison: dict[str, Any], scenario: str) -> dict[str, Any]:
    for entry in comparison["scenarios"]:
        if entry["name"] == scenario:
            return dict(entry)
    raise ScenarioFailed(f"the comparison has no result for {scenario}")


def _finding(finding: dict[str, Any]) -> str:
    change = finding.get("change") or {}
    why = f"change {change['id']}" if change else finding["disposition"]
    return (
        f"  - {finding['severity']} {finding['level']} {finding['kind']} at {finding['path']}: "
        f"{_short(finding.get('baseline'))} -> {_short(finding.get('candidate'))} ({why})"
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
