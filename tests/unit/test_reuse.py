"""Scrubbed objects reused (harness/normalize/reuse.py), on traces recorded from real
servers: the same output and the same counts as a scrub that walks every object."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from harness.normalize import load_spec, reuse, scrub_trace
from harness.normalize.scrub import Scrubbed
from tests.unit.traces import scenario_names, trace

SPEC = load_spec()


def _walked(raw: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Scrubbed:
    """``raw`` scrubbed with no reuse: no node keeps a profile."""
    with monkeypatch.context() as patch:
        patch.setattr(reuse, "SHAPES", 0)
        return scrub_trace(raw, SPEC)


def _same(a: Scrubbed, b: Scrubbed) -> None:
    assert repr(a.trace) == repr(b.trace)  # types and key order too
    assert a.summary() == b.summary()
    assert a.symbols == b.symbols


def grown(version: str, scenario: str, size: int) -> dict[str, Any]:
    """A recorded trace whose last snapshot holds ``size`` tasks: the recorded ones
    repeated with fresh ids, references and seq numbers."""
    raw = trace(version, scenario)
    document = raw["steps"][-1]["snapshots"][0]
    recorded = document["tasks"]
    tasks = []
    for i in range(size):
        task = copy.deepcopy(recorded[i % len(recorded)])
        task["taskId"] = str(uuid.UUID(int=i + 1, version=4))
        task["referenceTaskName"] = f"t{i}"
        task["seq"] = i + 1
        tasks.append(task)
    document["tasks"] = tasks
    return raw


@pytest.mark.parametrize("version", ["netflix-3.15.0", "oss-3.32.1"])
def test_every_recorded_scenario_scrubs_as_when_every_object_is_walked(
    version: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in scenario_names():
        try:
            raw = trace(version, name)
        except FileNotFoundError:
            continue
        _same(scrub_trace(raw, SPEC), _walked(raw, monkeypatch))


def test_tasks_alike_share_their_scrubbed_definitions_and_count_as_many(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = grown("oss-3.32.1", "retry-fail-twice-then-succeed", 300)
    scrubbed = scrub_trace(raw, SPEC)
    walked = _walked(raw, monkeypatch)
    _same(scrubbed, walked)
    tasks = scrubbed.trace["steps"][-1]["snapshots"][0]["tasks"]
    kinds = len(
        trace("oss-3.32.1", "retry-fail-twice-then-succeed")["steps"][-1]["snapshots"][0]["tasks"]
    )
    # every copy of one recorded task holds the one scrubbed definition
    assert len({id(t["workflowTask"]) for t in tasks}) <= kinds
    assert len({id(t["taskDefinition"]) for t in tasks}) <= kinds
    # each task is its own object, with its own symbol and seq
    assert len({id(t) for t in tasks}) == 300
    assert [t["seq"] for t in tasks] == list(range(1, 301))
    assert len({t["taskId"] for t in tasks}) == 300
    walked_tasks = walked.trace["steps"][-1]["snapshots"][0]["tasks"]
    assert len({id(t["workflowTask"]) for t in walked_tasks}) == 300  # not shared there
    assert scrubbed.summary()["timestamps"]["count"] == walked.summary()["timestamps"]["count"]


def test_values_equal_but_of_another_type_or_order_are_not_taken_for_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """1, 1.0 and true are equal in Python and written apart in JSON; an object with its
    keys in another order is another object: each is scrubbed as itself."""
    raw = grown("netflix-3.15.0", "retry-fail-twice-then-succeed", 60)
    tasks = raw["steps"][-1]["snapshots"][0]["tasks"]
    tasks[20]["taskDefinition"]["retryCount"] = 2.0
    tasks[21]["workflowTask"]["optional"] = 0
    tasks[22]["pollCount"] = True
    tasks[23]["startDelayInSeconds"] = -0.0
    tasks[24]["workflowTask"] = dict(reversed(list(tasks[24]["workflowTask"].items())))
    tasks[25]["outputData"]["attempt"] = 0.0
    scrubbed = scrub_trace(raw, SPEC)
    _same(scrubbed, _walked(raw, monkeypatch))
    out = scrubbed.trace["steps"][-1]["snapshots"][0]["tasks"]
    assert repr(out[20]["taskDefinition"]["retryCount"]) == "2.0"
    assert out[21]["workflowTask"]["optional"] == 0
    assert out[21]["workflowTask"]["optional"] is not False
    assert out[22]["pollCount"] is True
    assert repr(out[23]["startDelayInSeconds"]) == "-0.0"
    assert list(out[24]["workflowTask"]) == list(reversed(list(out[27]["workflowTask"])))
    assert repr(out[25]["outputData"]["attempt"]) == "0.0"


def test_fields_new_on_every_task_are_learnt_and_siblings_still_decide(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ids and seq numbers differ on every task: after a few, they are scrubbed alone
    and the rest of each task comes from its template. A JOIN's poll count is decided by
    its taskType (a sibling): such tasks are scrubbed as they come, and still right."""
    raw = grown("oss-3.32.1", "fork-join", 120)
    scrubbed = scrub_trace(raw, SPEC)
    _same(scrubbed, _walked(raw, monkeypatch))
    out = scrubbed.trace["steps"][-1]["snapshots"][0]["tasks"]
    joins = [t for t in out if t["taskType"] == "JOIN"]
    assert joins
    assert {t["pollCount"] for t in joins} == {"<count>"}
    assert all(isinstance(t["pollCount"], int) for t in out if t["taskType"] != "JOIN")
    changed = raw["steps"][-1]["snapshots"][0]["tasks"]
    changed[100]["endTime"] = changed[100]["startTime"] - 5  # out of order, on one task
    again = scrub_trace(raw, SPEC)
    _same(again, _walked(raw, monkeypatch))
    assert again.trace["steps"][-1]["snapshots"][0]["tasks"][100]["endTime"] == (
        "<time:before startTime>"
    )
    assert again.summary()["timestamps"]["count"] == scrubbed.summary()["timestamps"]["count"]
