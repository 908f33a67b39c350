"""Levels and kinds of differences, on real traces.

Where two versions happen not to differ at a level, the candidate is the same real trace
with one step's snapshots taken from another step of that run: real server responses, at
another moment.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.compare import Difference, View, build_view, diff_views, standing_in
from harness.compare import diff as diff_module
from harness.normalize import load_spec, render, scrub_trace
from tests.unit.traces import NETFLIX_LINE, scenario_names, trace

SPEC = load_spec()


def _diff(a: dict[str, Any], b: dict[str, Any], ordered: bool = True) -> list[Difference]:
    return diff_views(
        build_view(scrub_trace(a, SPEC).trace, ordered=ordered),
        build_view(scrub_trace(b, SPEC).trace, ordered=ordered),
    )


def _moved(raw: dict[str, Any], step: int, source: int) -> dict[str, Any]:
    """``raw`` with the snapshots of ``step`` replaced by those of ``source``."""
    changed = copy.deepcopy(raw)
    changed["steps"][step]["snapshots"] = copy.deepcopy(raw["steps"][source]["snapshots"])
    return changed


@pytest.mark.parametrize("name", scenario_names())
def test_a_trace_compared_with_itself_has_no_differences(name: str) -> None:
    raw = trace("oss-3.21.14", name)
    assert _diff(raw, copy.deepcopy(raw)) == []


def test_status_and_task_set_levels() -> None:
    raw = trace("netflix-3.15.0", "retry-restart-rerun")
    # step 3 saw the retried workflow COMPLETED; show it step 4's (restarted, FAILED)
    found = _diff(raw, _moved(raw, 3, 4))
    status = {d.path: d for d in found if d.level == "status"}
    assert (status["wf1.status"].baseline, status["wf1.status"].candidate) == (
        "COMPLETED",
        "FAILED",
    )
    assert status["wf1.status"].kind == "changed" and status["wf1.status"].steps == (3,)
    tasks = [d for d in found if d.level == "tasks"]
    assert {d.kind for d in tasks} <= {"changed", "added", "removed"} and tasks


def test_order_level_only_when_the_scenario_is_sequential() -> None:
    raw = trace("oss-3.32.1", "retry-restart-rerun")
    other = copy.deepcopy(raw)
    tasks = other["steps"][-1]["snapshots"][0]["tasks"]
    seqs = [t["seq"] for t in tasks]
    for task, seq in zip(tasks, reversed(seqs), strict=True):
        task["seq"] = seq  # the server's own tasks, scheduled in the opposite order
    found = [d for d in _diff(raw, other) if d.level == "order"]
    assert found and found[0].kind == "order"
    assert found[0].baseline == list(reversed(found[0].candidate))
    assert [d for d in _diff(raw, other, ordered=False) if d.level == "order"] == []


def test_api_level_status_code_and_removed_body() -> None:
    found = _diff(
        trace("netflix-3.15.0", "worker-in-progress-callback-logs"),
        trace("oss-3.32.1", "worker-in-progress-callback-logs"),
    )
    api = {d.path.rsplit(".", 1)[1]: d for d in found if d.level == "api" and "log" in d.path}
    assert (api["status"].kind, api["status"].baseline, api["status"].candidate) == (
        "status_code",
        200,
        204,
    )
    assert (api["body"].kind, api["body"].missing, api["body"].baseline) == (
        "removed",
        "candidate",
        [],
    )


def test_added_fields_and_folding_across_tasks_and_steps() -> None:
    found = _diff(
        trace("netflix-3.15.0", "retry-restart-rerun"), trace("oss-3.32.1", "retry-restart-rerun")
    )
    added = [d for d in found if d.shape == "wf1.*.executionMetadata"]
    assert len(added) == 1, "one difference for every task and step it occurs in"
    assert added[0].kind == "added" and added[0].missing == "baseline"
    assert len(added[0].paths) > 1 and len(added[0].steps) > 1
    assert any(d.level == "data" and d.path == "wf1.rateLimited" for d in found)


def test_type_change_and_changed_value() -> None:
    found = _diff(
        trace("netflix-3.15.0", "terminate-skip-decide"),
        trace("oss-3.32.1", "terminate-skip-decide"),
    )
    changed = {d.path: d for d in found if d.kind == "changed"}
    skipped = changed["wf1.skipped#0.scheduledTime"]
    assert (skipped.baseline, skipped.candidate) == ("<unset>", "<time>")
    raw = trace("oss-3.32.1", "inline")
    other = copy.deepcopy(raw)
    other["steps"][-1]["snapshots"][0]["output"]["computed"]["sum"] = "7"
    typed = [d for d in _diff(raw, other) if d.kind == "type"]
    assert typed and typed[0].path == "wf1.output.computed.sum"


def test_differences_are_symmetric_up_to_direction() -> None:
    a = trace("netflix-3.15.0", "fork-join")
    b = trace("oss-3.32.1", "fork-join")
    forward, backward = _diff(a, b), _diff(b, a)
    flip = {"added": "removed", "removed": "added"}
    assert sorted(
        (d.level, d.shape, flip.get(d.kind, d.kind), repr(d.candidate)) for d in forward
    ) == sorted((d.level, d.shape, d.kind, repr(d.baseline)) for d in backward)


def _by_deepdiff_only(a: dict[str, Any], b: dict[str, Any]) -> list[Difference]:
    """The same diff with deepdiff matching every list, as it did for lists of objects."""
    keep = diff_module._scalars
    diff_module._scalars = lambda items: True
    try:
        return _diff(a, b)
    finally:
        diff_module._scalars = keep


@pytest.mark.parametrize("name", scenario_names())
def test_lists_of_objects_diff_as_deepdiff_does_on_real_traces(name: str) -> None:
    """Lists of objects are walked item by item, not by deepdiff: the differences are the
    same, on every scenario recorded on netflix:3.15.0 and on oss:3.32.1."""
    old, new = trace("netflix-3.15.0", name), trace("oss-3.32.1", name)
    assert _diff(old, new) == _by_deepdiff_only(old, new)


_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from([1.0, "a", "b"]))
_JSON = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from("xyz"), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(a=_JSON, b=_JSON)
def test_the_item_walk_and_deepdiff_agree(a: Any, b: Any) -> None:
    def raws(force: bool) -> list[Any]:
        keep = diff_module._scalars
        if force:
            diff_module._scalars = lambda items: True
        try:
            return diff_module._deep(("wf1",), [a], [b])
        finally:
            diff_module._scalars = keep

    key = repr
    assert sorted(raws(False), key=key) == sorted(raws(True), key=key)


# values that compare equal in Python and are written differently in JSON, and the reverse
_ALIKE = [1, 1.0, True, 1, "1", 0, False, 0.0, -0.0, [], {}, [0], {"a": 1}, {"a": 1.0}, None]


def _tasks_view(tasks: dict[str, dict[str, Any]]) -> View:
    view = View()
    view.levels["attempts"][1] = {"wf1": tasks}
    return view


def _grouped(found: list[Difference]) -> dict[tuple[str, str, str, str], list[str]]:
    return {
        (d.kind, d.shape, json.dumps(d.baseline), json.dumps(d.candidate)): list(d.paths)
        for d in found
    }


def test_the_fold_keeps_apart_values_json_writes_differently_wherever_they_repeat() -> None:
    """Each difference at a place joins the last one's group there when its values are
    plainly alike; 1, 1.0 and True, 0 and -0.0, [0] and [] still fold apart."""
    values = [_ALIKE[(i * 7) % len(_ALIKE)] for i in range(60)] + _ALIKE * 2
    keys = [f"t{i}#0" for i in range(len(values))]
    baseline = {k: {"x": v, "keep": 1} for k, v in zip(keys, values, strict=True)}
    candidate = {k: {"keep": 1, "y": v} for k, v in zip(keys, values, strict=True)}
    expected: dict[tuple[str, str, str, str], list[str]] = {}
    for key, value in zip(keys, values, strict=True):
        text = json.dumps(value)
        expected.setdefault(("removed", "wf1.*.x", text, "null"), []).append(f"wf1.{key}.x")
        expected.setdefault(("added", "wf1.*.y", "null", text), []).append(f"wf1.{key}.y")
    found = diff_views(_tasks_view(baseline), _tasks_view(candidate))
    assert _grouped(found) == expected
    assert all(d.steps == (1,) for d in found)

    scalars = [v for v in values if not isinstance(v, list | dict)]
    keys = keys[: len(scalars)]
    baseline = {k: {"x": v} for k, v in zip(keys, scalars, strict=True)}
    shifted = scalars[3:] + scalars[:3]
    candidate = {k: {"x": v} for k, v in zip(keys, shifted, strict=True)}
    expected = {}
    for key, a, b in zip(keys, scalars, shifted, strict=True):
        if a != b:  # tasks whose fields are equal (1 and 1.0) are not walked
            kind = "changed" if type(a) is type(b) else "type"
            group = (kind, "wf1.*.x", json.dumps(a), json.dumps(b))
            expected.setdefault(group, []).append(f"wf1.{key}.x")
    found = diff_views(_tasks_view(baseline), _tasks_view(candidate))
    assert _grouped(found) == expected
    assert all([render(p) for p in d.all_parts] == list(d.paths) for d in found)


def _recorded(folder: str, scenario: str) -> dict[str, Any]:
    path = NETFLIX_LINE / folder / f"{scenario}.trace.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return scrub_trace(loaded, SPEC).trace


def test_what_a_run_saw_when_its_wait_gave_up_stands_where_the_baseline_went_on() -> None:
    """explore.join-optional-failure-early on netflix 3.13.7 (the lock off): the wait of step
    1 gives up, and the trace keeps what the workflow was then. That stands at step 2, the
    first step 3.13.8's run (which completed) has snapshots of: where 3.13.8 went on, what
    3.13.7 was. A run whose last snapshot was not read when it stopped is left as it is."""
    scenario = "explore.join-optional-failure-early"
    stopped = _recorded("lock-off/netflix-3.13.7", scenario)
    assert stopped["outcome"]["seen_at_stop"] is True
    went_on = build_view(_recorded("lock-off/netflix-3.13.8", scenario))
    view = build_view(stopped)
    assert (view.stopped_at, 1 in view.levels["tasks"], 2 in view.levels["tasks"]) == (
        1,
        False,
        False,
    )
    stood = standing_in(view, went_on)
    assert stood is not view and 2 in stood.levels["tasks"]
    tasks = stood.levels["tasks"][2]["wf1"]
    assert tasks["opt#0"]["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert tasks["join#0"]["status"] == "IN_PROGRESS"
    found = {(d.level, d.path) for d in diff_views(went_on, stood)}
    assert {("status", "wf1.status"), ("tasks", "wf1.opt#0.status")} <= found
    old = copy.deepcopy(stopped)
    del old["outcome"]["seen_at_stop"]  # recorded before waits kept what they saw
    assert not standing_in(build_view(old), went_on).levels["tasks"]  # no snapshot of its own
