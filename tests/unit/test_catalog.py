"""The catalog of changes, on the whole library as recorded on real servers.

Every change is precise: no matcher names no key, no recorded difference is explained by
two changes, each change explains a recorded difference (or says which scenario would
show one), a catalogued change never hides a regression (a swapped final status stays
unexplained), and what each change explains is a committed snapshot that review sees.
"""

from __future__ import annotations

import copy
import json
import os
import re
import textwrap
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.classify import RunResult, assess_run, load_catalog, shipped_catalog_path
from harness.classify.assess import Context, assess_scenario
from harness.classify.catalog import is_catch_all
from harness.documents import DocumentError
from harness.traces import load_trace_set
from tests.unit import library
from tests.unit.traces import FIXTURES, NETFLIX_LINE, rollback_delay_traces, stall_traces

SNAPSHOTS = Path(__file__).parent / "snapshots"
SWAP = {"COMPLETED": "FAILED", "FAILED": "COMPLETED"}
ROLLED_BACK = ("oss-3.32.1", "oss-3.32.1-netflix-3.15.0")  # PostgreSQL: wholly, and across


def test_the_shipped_catalog_is_valid_and_links_every_change_upstream() -> None:
    catalog = load_catalog()
    raw = yaml.safe_load(shipped_catalog_path().read_text())["changes"]
    assert len(catalog.changes) == len(raw) >= 20
    for change in catalog.changes:
        assert change.link.startswith(
            ("https://github.com/conductor-oss/conductor/", "https://github.com/Netflix/")
        ), change.id
        assert change.action and change.what and change.affects, change.id


def _pinned(predicate: Any) -> bool:
    """A value test beyond "absent"."""
    return predicate is not None and bool(set(predicate.spec) - {"absent"})


def test_no_matcher_covers_a_whole_level_or_object() -> None:
    """Every matcher names a key; one whose path ends in a wildcard (any key of an object:
    user data, a task's outputs) pins the values it explains, or the place (three named
    parts: the workflow, which task attempts, which object; or a ``where`` test of the
    object that holds them, such as its task type)."""
    for change in load_catalog().changes:
        for matcher in change.matchers:
            where = (change.id, matcher.level, matcher.path.text)
            assert not is_catch_all(matcher.path), where
            if matcher.path.parts[-1] in ("*", "**"):
                named = [p for p in matcher.path.parts if re.sub(r"[*?\[\]!0-9-]", "", p)]
                held = any(_pinned(clause.test) for clause in matcher.where)
                assert _pinned(matcher.old) or _pinned(matcher.new) or len(named) >= 3 or held, (
                    where
                )
            if matcher.level == "status":  # a workflow's outcome: both values pinned
                sides = {"added": ("new",), "removed": ("old",)}.get(matcher.kind, ("old", "new"))
                assert all(_pinned(getattr(matcher, side)) for side in sides), where


def _catalog_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text("catalog_format: 1\nchanges:\n" + textwrap.indent(body, "  "))
    return path


CHANGE = """\
- id: mine
  title: t
  what: w
  versions: ">=3.16"
  severity: {severity}
  affects: [workers]
  action: a
  link: https://github.com/conductor-oss/conductor/pull/1
  match:
    - {{level: api, kind: changed, path: "{path}"}}
"""


def test_a_catch_all_matcher_is_refused_with_its_file_and_line(tmp_path: Path) -> None:
    path = _catalog_file(tmp_path, CHANGE.format(severity="cosmetic", path="**"))
    with pytest.raises(DocumentError) as caught:
        load_catalog([path])
    text = "\n".join(caught.value.details)
    assert f"{path}:12:" in text and "names no key" in text


def test_a_mistake_in_a_catalog_names_file_line_and_field(tmp_path: Path) -> None:
    path = _catalog_file(tmp_path, CHANGE.format(severity="breakin", path="**.status"))
    with pytest.raises(DocumentError) as caught:
        load_catalog([path])
    text = "\n".join(caught.value.details)
    assert f"{path}:7:" in text and "severity" in text


def _findings(result: RunResult) -> list[tuple[str, Any]]:
    return [(s.name, f) for s in result.scenarios for f in s.findings]


@pytest.mark.parametrize("candidate", library.CANDIDATES)
def test_no_recorded_difference_is_explained_by_two_changes(candidate: str) -> None:
    for result in (library.upgrade(candidate), library.rollback(candidate)):
        ambiguous = [
            (name, f.difference.path, f.change["id"] if f.change else None, f.ambiguous)
            for name, f in _findings(result)
            if f.ambiguous
        ]
        assert ambiguous == []
        assert not [n for n in result.notices if "catalog defect" in n]


NETFLIX_PAIRS = (
    ("netflix-3.11.3", "netflix-3.12.0"),
    ("netflix-3.13.8", "netflix-3.14.0"),
    ("netflix-3.10.7", "netflix-3.14.0"),  # across 3.12.0 and 3.14.0: a WAIT workflow's updateTime
    ("netflix-3.10.5", "netflix-3.10.7"),  # failedTaskNames
    ("netflix-3.10.1", "netflix-3.10.5"),  # a workflow task's empty lists left out
    ("netflix-3.13.3", "netflix-3.13.5"),  # POST /api/workflow/test
    ("lock-off/netflix-3.13.6", "lock-off/netflix-3.13.7"),  # a failed task in the reason
    ("netflix-3.13.5", "netflix-3.13.6"),  # a SWITCH's inputs and selectedCase
    ("lock-off/netflix-3.10.1", "lock-off/netflix-3.10.5"),  # SET_VARIABLE not saved, from
    ("lock-off/netflix-3.11.3", "lock-off/netflix-3.12.0"),  # ... and to; DO_WHILE's inputs
    ("netflix-3.13.2", "netflix-3.13.3"),  # DO_WHILE waits for its SWITCH; remove dequeues
    ("netflix-3.12.0", "netflix-3.13.0"),  # a skipped task's endTime
    ("lease/netflix-3.10.5-lock-off", "lease/netflix-3.10.7-lock-off"),  # extendLease
    ("lock-off/netflix-3.12.0", "lock-off/netflix-3.13.0"),  # the JOIN made async
    ("lock-off/netflix-3.13.7", "lock-off/netflix-3.13.8"),  # a failed branch decides at once
    ("lock/netflix-3.13.3", "lock/netflix-3.13.5"),  # the lock made reentrant
    ("lock/netflix-3.10.1", "lock/netflix-3.10.5"),  # a decision no longer asks for it again
    ("lock-off/netflix-3.8.3", "lock-off/netflix-3.9.2"),  # a DO_WHILE's inputData
    ("lock-off/netflix-3.9.2", "lock-off/netflix-3.10.0"),  # a refused restart's 404
    ("lock-off/netflix-3.10.0", "lock-off/netflix-3.10.1"),  # INLINE failure, validate endpoint
    ("lock/netflix-3.8.0", "lock/netflix-3.8.1"),  # a queue's size endpoint
    ("lock-off/netflix-3.8.1", "lock-off/netflix-3.8.3"),  # a JOIN done at an optional failure
)


@pytest.mark.parametrize("pair", NETFLIX_PAIRS)
def test_no_difference_on_the_netflix_line_is_explained_by_two_changes(
    pair: tuple[str, str],
) -> None:
    older, newer = (load_trace_set(NETFLIX_LINE / v) for v in pair)
    for result in (
        assess_run(older, newer, library.settings()),
        assess_run(newer, older, library.settings()),
    ):
        assert [(n, f.difference.path) for n, f in _findings(result) if f.ambiguous] == []
        assert not [n for n in result.notices if "catalog defect" in n]


NETFLIX_3_14_PROBES = {
    # (scenario, path) on 3.13.8 -> 3.14.0: the change that explains it
    ("noop-probe", "wf1.status"): "noop-task-type",
    ("noop-probe", "wf1.reasonForIncompletion"): "noop-task-type",
    ("noop-probe", "wf1.before_noop#0.executed"): "noop-task-type",
    ("event-then-wait-probe", "wf1.workflowDefinition.tasks[0].inputParameters.sink"): (
        "wait-task-async"
    ),
    ("event-then-wait-probe", "wf1.workflowDefinition.tasks[0].inputParameters.asyncComplete"): (
        "wait-task-async"
    ),
    (
        "upgrade-terminated-and-removed",
        '["step GET /api/workflow/{{workflow.stopped}} #1"].body.tasks[0].callbackAfterSeconds',
    ): "wait-task-async",
}


@pytest.mark.parametrize(
    "pair", [("netflix-3.13.8", "netflix-3.14.0"), ("netflix-3.14.0", "netflix-3.13.8")]
)
def test_the_netflix_3_14_probes_are_explained_by_their_own_changes(pair: tuple[str, str]) -> None:
    """A NOOP fails its workflow before 3.14.0; an EVENT's sink and asyncComplete stay in the
    definition of a workflow with a WAIT from 3.14.0, not in one with a worker task after the
    EVENT (wf2); a WAIT read back through the API has its callbackAfterSeconds."""
    older, newer = (load_trace_set(NETFLIX_LINE / v) for v in pair)
    result = assess_run(older, newer, library.settings())
    probes = {name for name, _ in NETFLIX_3_14_PROBES}
    found = {
        (name, f.difference.path): f
        for name, f in _findings(result)
        if name in probes and f.disposition != "noise"
    }
    assert {
        k: f.change["id"] if f.change else None
        for k, f in found.items()
        if k in NETFLIX_3_14_PROBES
    } == (NETFLIX_3_14_PROBES)
    assert [k for k, f in found.items() if f.disposition not in ("catalogued", "consequence")] == []
    assert [k for k in found if k[0] == "event-then-wait-probe" and k[1].startswith("wf2.")] == []


STOPPED_AT_A_WAIT = ("wait-until", "upgrade-stuck-workflow-decide")


def test_a_run_that_stopped_at_a_wait_is_compared_where_it_stopped() -> None:
    """netflix 3.13.8 leaves a WAIT whose "until" cannot be parsed IN_PROGRESS, and a
    decision does not end its workflow: both scenarios stop at their last wait, which gave
    up. That step's snapshots are what the run's workflows were then (unsettled), compared
    with 3.14.0's settled ones: wait-task-async explains the task's status, and the rest
    (the workflow's status, the run's end, what it never recorded) follows from it."""
    older, newer = (load_trace_set(NETFLIX_LINE / v) for v in ("netflix-3.13.8", "netflix-3.14.0"))
    result = assess_run(newer, older, library.settings())
    for scenario in (s for s in result.scenarios if s.name in STOPPED_AT_A_WAIT):
        assert scenario.verdict == "action_required", scenario.reason
        kept = [f for f in scenario.findings if f.disposition != "noise"]
        assert {f.disposition for f in kept} == {"catalogued", "consequence"}
        assert {f.change["id"] for f in kept if f.change} == {"wait-task-async"}
        (root,) = (f for f in kept if f.difference.path.endswith("hold#0.status"))
        assert (root.difference.baseline, root.difference.candidate) == (
            "FAILED_WITH_TERMINAL_ERROR",
            "IN_PROGRESS",
        )
        trace = older.runs[scenario.name][0][1]
        last = trace["steps"][-1]
        assert trace["outcome"]["step"] == last["index"] and last["action"] == "wait"
        assert last["settle"]["settled"] is False
        assert last["settle"]["pending"][0] == "the wait gave up"
        (stuck,) = (d for d in last["snapshots"] if d["status"] == "RUNNING")
        assert [t["status"] for t in stuck["tasks"]] == ["IN_PROGRESS"]
    # the other way, 3.13.8's runs cannot judge: the scenario's own expectation fails there
    back = assess_run(older, newer, library.settings())
    for scenario in (s for s in back.scenarios if s.name in STOPPED_AT_A_WAIT):
        assert scenario.verdict == "inconclusive"
        assert "expectations fail on the baseline" in scenario.reason


BASELINE_PAIRS = (
    # a JOIN left to the sweep (3.10.3 to 3.12), seen in the whole library's gate
    (
        FIXTURES / "baselines" / "netflix-3.15.0-lock-off",
        NETFLIX_LINE / "lock-off" / "netflix-3.10.7",
    ),
    # a call that fails a workflow, held by a lock that is not reentrant (before 3.13.5)
    (FIXTURES / "baselines" / "netflix-3.15.0", NETFLIX_LINE / "lock" / "netflix-3.13.3"),
    (FIXTURES / "baselines" / "netflix-3.15.0", NETFLIX_LINE / "lock" / "netflix-3.10.1"),
    # ... stopping a loop, a parent, a WAIT (before 3.10.5)
    (FIXTURES / "baselines" / "netflix-3.15.0", NETFLIX_LINE / "lock" / "netflix-3.8.3"),
    # a running workflow rerun (before 3.8.1)
    (FIXTURES / "baselines" / "netflix-3.15.0", NETFLIX_LINE / "lock" / "netflix-3.5.2"),
)


def test_every_change_explains_a_recorded_difference_or_says_which_scenario_would() -> None:
    credited = {
        c.change["id"]
        for candidate in library.CANDIDATES
        for c in library.upgrade(candidate).changes
    }
    for pair in NETFLIX_PAIRS:  # each way: an older side whose run stopped gives no verdict
        older, newer = (load_trace_set(NETFLIX_LINE / v) for v in pair)
        for baseline, candidate in ((older, newer), (newer, older)):
            result = assess_run(baseline, candidate, library.settings())
            credited |= {c.change["id"] for c in result.changes}
    for base, cand in BASELINE_PAIRS:  # a Netflix version against the recorded baselines
        result = assess_run(load_trace_set(base), load_trace_set(cand), library.settings())
        credited |= {c.change["id"] for c in result.changes}
    wholly, across = (load_trace_set(rollback_delay_traces(t)) for t in ROLLED_BACK)
    credited |= {c.change["id"] for c in assess_run(wholly, across, library.settings()).changes}
    silent = [c.id for c in load_catalog().changes if c.id not in credited and not c.unrecorded]
    assert silent == []


def _attribution(result: RunResult) -> dict[str, Any]:
    explained: dict[str, list[str]] = defaultdict(list)
    unexplained = []
    for name, f in _findings(result):
        if f.change is not None and f.disposition in ("catalogued", "accepted"):
            explained[f.change["id"]].append(f"{f.fingerprint} {name} {f.difference.shape}")
        elif f.disposition == "open":
            unexplained.append(f"{f.fingerprint} {name} {f.difference.kind} {f.difference.shape}")
    return {
        "verdict": result.verdict,
        "explained": {k: sorted(v) for k, v in sorted(explained.items())},
        "unexplained": sorted(unexplained),
    }


@pytest.mark.parametrize("candidate", library.CANDIDATES)
def test_what_each_change_explains_is_a_reviewed_snapshot(candidate: str) -> None:
    """A change that starts explaining differences outside its cause shows in review:
    regenerate with UPDATE_SNAPSHOTS=1 and read the diff."""
    got = _attribution(library.upgrade(candidate))
    path = SNAPSHOTS / f"attribution-netflix-3.15.0-vs-{candidate}.json"
    text = json.dumps(got, indent=1, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.write_text(text)
    assert path.exists(), f"no snapshot yet: run with UPDATE_SNAPSHOTS=1 ({path})"
    assert json.loads(path.read_text()) == got


@pytest.mark.parametrize("candidate", library.CANDIDATES)
def test_the_library_upgrade_is_never_called_compatible(candidate: str) -> None:
    """With today's knowledge the upgrade asks for action (or finds worse): catalogued
    breaking changes are reached and nobody has accepted them."""
    result = library.upgrade(candidate)
    assert result.verdict in ("action_required", "incompatible")
    assert [c for c in result.changes if c.requires_action and c.change["severity"] == "breaking"]
    gating = [f for _, f in _findings(result) if f.gates]
    assert (result.verdict == "incompatible") == bool(gating)


@pytest.mark.parametrize("candidate", library.CANDIDATES)
def test_a_rollback_meets_the_same_changes_turned_round(candidate: str) -> None:
    """Save where the newer version's own runs differ: seen from it, that is noise."""
    forward = {c.change["id"] for c in library.upgrade(candidate).changes}
    back = library.rollback(candidate).changes
    assert {c.change["direction"] for c in back} == {"backward"}
    met = {c.change["id"] for c in back}
    assert met <= forward
    noise = {
        (name, f.difference.level, f.difference.shape)
        for name, f in _findings(library.rollback(candidate))
        if f.disposition == "noise"
    }
    for name, f in _findings(library.upgrade(candidate)):
        if f.change is not None and f.change["id"] not in met:
            assert (name, f.difference.level, f.difference.shape) in noise, (name, f.change["id"])


STALLS = {"oss-e2e.load_test_perf_sync_workflow"}  # kept in fixtures/stalls.tar.xz


@pytest.mark.parametrize(
    ("baseline", "candidate", "scenario"),
    [
        ("netflix-3.15.0", "oss-3.21.14", "retry-sub-workflow"),
        ("oss-3.21.14", "oss-3.32.1", "oss-e2e.load_test_perf_sync_workflow"),
    ],
)
def test_an_intermittent_candidate_hang_gates(baseline: str, candidate: str, scenario: str) -> None:
    """Recorded: one of the candidate's two runs stalled and failed to settle (3.21.14: a
    parent not decided again for 40 s after its child ended; 3.32.1: a JOIN left
    IN_PROGRESS with its branches done), where the baseline's runs completed."""
    if scenario in STALLS:
        base, cand = (load_trace_set(stall_traces(t)) for t in (baseline, candidate))
    else:
        base, cand = library.traces(baseline), library.traces(candidate)
    context = Context(library.settings(), base.target, cand.target, library.VIEWS)
    result = assess_scenario(scenario, base.runs[scenario], cand.runs[scenario], context)
    assert {r.outcome for r in result.baseline} == {"completed"}
    assert sorted(r.outcome for r in result.candidate) == ["completed", "failed_expectation"]
    hung = [f for f in result.findings if f.rule == "intermittent-failure"]
    assert hung and all(f.gates and f.rate == (1, 2) for f in hung)
    assert all(f.severity == "breaking" and f.disposition == "intermittent" for f in hung)
    assert result.verdict == "incompatible"


def _swappable(candidate: str = "oss-3.21.14") -> list[str]:
    result = library.upgrade(candidate)
    names = []
    for scenario in result.scenarios:
        if scenario.verdict in ("inconclusive", "not_applicable"):
            continue
        if any(r.outcome != "completed" for r in scenario.candidate):
            continue
        runs = library.traces(candidate).runs[scenario.name]
        if all(_final_statuses(t) for _, t in runs):
            names.append(scenario.name)
    return names


def _final_statuses(trace: dict[str, Any]) -> list[dict[str, Any]]:
    steps = [s for s in trace.get("steps") or [] if s.get("snapshots")]
    if not steps:
        return []
    return [d for d in steps[-1]["snapshots"] if d.get("status") in SWAP]


def _swapped(name: str, candidate: str) -> tuple[Any, int]:
    """The scenario assessed with the final status of every candidate run swapped, and
    the step whose snapshots hold that status."""
    cand = library.traces(candidate)
    runs = []
    last = max(s["index"] for s in cand.runs[name][0][1]["steps"] if s.get("snapshots"))
    for path, trace in cand.runs[name]:
        swapped = copy.deepcopy(trace)
        for document in _final_statuses(swapped):
            document["status"] = SWAP[document["status"]]
        runs.append((path, swapped))
    baseline = library.traces("netflix-3.15.0")
    context = Context(library.settings(), baseline.target, cand.target, library.VIEWS)
    return assess_scenario(name, baseline.runs[name], runs, context), last


def _stays_unexplained(swapped: tuple[Any, int]) -> None:
    """The swapped status (at the last step that took snapshots) is open and gates."""
    result, last = swapped
    final = [
        f
        for f in result.findings
        if f.difference.level == "status"
        and f.difference.shape.endswith(".status")
        and last in f.difference.steps
        and f.difference.candidate in SWAP  # a status the swap made
    ]
    assert final and all(f.disposition == "open" and f.gates for f in final), final
    assert result.verdict == "incompatible"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_swapped_final_status_is_never_explained_by_the_catalog(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(_swappable()), label="scenario")
    _stays_unexplained(_swapped(name, "oss-3.21.14"))


@pytest.mark.parametrize("candidate", library.CANDIDATES)
def test_a_swapped_final_status_stays_unexplained_where_changes_touch_workflow_state(
    candidate: str,
) -> None:
    """Every scenario where a change explains a status or task-set difference: the place
    where a broad matcher would swallow a regression."""
    touched = {
        name
        for name, f in _findings(library.upgrade(candidate))
        if f.change is not None and f.difference.level in ("status", "tasks")
    }
    names = sorted(touched & set(_swappable(candidate)))
    assert names
    for name in names:
        _stays_unexplained(_swapped(name, candidate))


def test_a_selected_case_new_on_one_side_is_not_another_case() -> None:
    """netflix 3.12.0's SWITCH has no selectedCase (new in 3.13.6): that is
    switch-inputs-and-selected-case, and the loop's tasks present on one side only (3.12.0
    runs the loop on past the WAIT) do not follow from it as from a SWITCH that took
    another case."""
    name = "do-while-switch-wait"
    baseline = load_trace_set(FIXTURES / "baselines" / "netflix-3.15.0").restrict({name})
    candidate = load_trace_set(FIXTURES / "netflix-line" / "switch-added" / "netflix-3.12.0")
    (scenario,) = assess_run(baseline, candidate, library.settings()).scenarios
    selected = [f for f in scenario.findings if f.difference.path.endswith(".selectedCase")]
    assert selected
    # the workflow's output carries the loop's (a copy of the same difference)
    assert {(f.disposition, (f.change or {}).get("id")) for f in selected} == {
        ("catalogued", "switch-inputs-and-selected-case"),
        ("consequence", "switch-inputs-and-selected-case"),
    }
    assert {f.difference.level for f in selected if f.disposition == "consequence"} == {"data"}
    marks = {f.fingerprint for f in selected}
    one_side = [
        f
        for f in scenario.findings
        if f.difference.level == "tasks" and f.difference.kind in ("added", "removed")
    ]
    assert one_side and not [f for f in one_side if f.consequence_of in marks]
