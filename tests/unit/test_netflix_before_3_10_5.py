"""Changes of the Netflix line up to 3.10.5, each between the two published versions either
side of it, on traces recorded from real servers with the workflow execution lock off
(fixtures/netflix-line/lock-off/)."""

from __future__ import annotations

import pytest

from harness.classify import assess_run
from harness.traces import load_trace_set
from tests.unit import library
from tests.unit.traces import NETFLIX_LINE

# (newer, older): scenario -> the change it shows (beside others between the two versions)
BETWEEN = {
    ("netflix-3.9.2", "netflix-3.8.3"): {
        "do-while": "do-while-task-input-data",
        "do-while-keep-last-n": "do-while-task-input-data",
        "variables-in-do-while": "do-while-task-input-data",
    },
    ("netflix-3.10.0", "netflix-3.9.2"): {
        "restart-latest-definitions-and-errors": "restart-non-restartable-not-found",
    },
    ("netflix-3.10.1", "netflix-3.10.0"): {
        "api-metadata-workflow-validation": "workflow-validate-endpoint",
        "inline-script-engines": "inline-script-failure-terminal",
    },
    ("netflix-3.10.5", "netflix-3.10.1"): {
        "fork-nested": "fork-join-scheduled-with-its-fork",
        "oss-e2e.populationminmax": "first-decision-variables-in-definition",
        "explore.sub-workflow-first-set-variable": "first-decision-variables-in-definition",
    },
}


@pytest.mark.parametrize("pair", sorted(BETWEEN))
def test_each_change_explains_what_its_scenarios_show_between_its_two_versions(
    pair: tuple[str, str],
) -> None:
    newer, older = (load_trace_set(NETFLIX_LINE / "lock-off" / v) for v in pair)
    result = assess_run(newer, older, library.settings())
    for scenario, change in BETWEEN[pair].items():
        (found,) = [s for s in result.scenarios if s.name == scenario]
        kept = [f for f in found.findings if f.disposition not in ("noise", "ignored")]
        assert change in {(f.change or {}).get("id") for f in kept}, scenario
        assert {f.disposition for f in kept} <= {"catalogued", "consequence"}, scenario


def test_a_refused_restart_is_told_apart_by_its_message() -> None:
    """Only the restart of a workflow whose definition is not restartable changed its code;
    the restart of one that has not ended answers 409 on both versions."""
    newer, older = (
        load_trace_set(NETFLIX_LINE / "lock-off" / v) for v in ("netflix-3.10.0", "netflix-3.9.2")
    )
    result = assess_run(newer, older, library.settings())
    (found,) = [s for s in result.scenarios if s.name == "restart-latest-definitions-and-errors"]
    (changed,) = [f for f in found.findings if f.disposition == "catalogued"]
    assert (changed.difference.baseline, changed.difference.candidate) == (404, 409)
    assert changed.difference.steps == (10,)
