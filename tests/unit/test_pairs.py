"""Pairs of objects diffed once (harness/compare/pairs.py), on traces recorded from real
servers: replayed differences are those a walk finds."""

from __future__ import annotations

from typing import Any

import pytest

from harness.compare import Difference, build_view, diff_views, pairs
from harness.compare.views import View
from harness.normalize import load_spec, scrub_trace
from tests.unit.test_reuse import grown
from tests.unit.traces import scenario_names, trace

SPEC = load_spec()


def _view(raw: dict[str, Any]) -> View:
    return build_view(scrub_trace(raw, SPEC).trace)


def _walked(a: View, b: View, monkeypatch: pytest.MonkeyPatch) -> list[Difference]:
    """The diff with no pair recorded, so none replayed."""
    with monkeypatch.context() as patch:
        patch.setattr(pairs, "TRIES", 0)
        return diff_views(a, b)


def _replays(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the pairs replayed from here on."""
    seen = [0]
    replay = pairs.Walked.replay

    def counted(self: pairs.Walked, at: Any, a: Any, b: Any) -> bool:
        done = replay(self, at, a, b)
        seen[0] += done
        return done

    monkeypatch.setattr(pairs.Walked, "replay", counted)
    return seen


def test_every_recorded_scenario_diffs_as_when_every_pair_is_walked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    replayed = _replays(monkeypatch)
    for name in scenario_names():
        views = {}
        for version in ("netflix-3.15.0", "oss-3.21.14", "oss-3.32.1"):
            try:
                views[version] = _view(trace(version, name))
            except FileNotFoundError:
                continue
        for a in views.values():
            for b in views.values():
                found = diff_views(a, b)
                assert repr(found) == repr(_walked(a, b, monkeypatch))
    assert replayed[0] > 0  # the same task in several snapshots: pairs came back


def test_tasks_alike_are_diffed_once_and_every_place_is_listed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scenario = "retry-fail-twice-then-succeed"
    left = _view(grown("netflix-3.15.0", scenario, 200))
    right = _view(grown("oss-3.32.1", scenario, 200))
    replayed = _replays(monkeypatch)
    found = diff_views(left, right)
    assert replayed[0] >= 190  # each task's definitions, after the first of each kind
    assert repr(found) == repr(_walked(left, right, monkeypatch))
    per_task = [d for d in found if d.level == "attempts" and len(d.paths) >= 200]
    assert per_task  # a difference of the definitions, in every task, one group each
    for d in per_task:
        assert len(set(d.paths)) == len(d.paths)
        grown_keys = {parts[1] for parts in d.all_parts if str(parts[1]).startswith("t")}
        assert len(grown_keys) == 200  # every grown task, besides the recorded ones
        assert d.all_parts[0][:2] == ("wf1", "flaky#0")  # the first step's, first


def test_a_pair_replayed_in_another_step_adds_that_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same task in two snapshots: its differences list both steps."""
    scenario = "retry-fail-twice-then-succeed"
    raw = [grown(v, scenario, 30) for v in ("netflix-3.15.0", "oss-3.32.1")]
    for r in raw:  # the grown snapshot in an earlier step too
        r["steps"][0]["snapshots"] = [dict(r["steps"][-1]["snapshots"][0])]
    left, right = _view(raw[0]), _view(raw[1])
    found = diff_views(left, right)
    assert repr(found) == repr(_walked(left, right, monkeypatch))
    steps = {d.steps for d in found if d.level == "attempts"}
    assert (raw[0]["steps"][0]["index"], raw[0]["steps"][-1]["index"]) in steps
