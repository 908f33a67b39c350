"""Invariants of normalizing and diffing, checked by Hypothesis on recorded traces."""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.compare import build_view, diff_views
from harness.normalize import load_spec, scrub_trace, scrub_value
from tests.unit.traces import scenario_names, trace

SPEC = load_spec()
VERSIONS = ("netflix-3.15.0", "oss-3.21.14", "oss-3.32.1")
recorded = st.tuples(st.sampled_from(VERSIONS), st.sampled_from(scenario_names()))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "createTime",
                    "endTime",
                    "startTime",
                    "queueWaitTime",
                    "failedTaskNames",
                    "x",
                    "workflowTask",
                    "y",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)


def _view(raw: dict[str, Any]):  # type: ignore[no-untyped-def]
    return build_view(scrub_trace(raw, SPEC).trace)


@settings(max_examples=25, deadline=None)
@given(recorded)
def test_normalizing_twice_changes_nothing(pick: tuple[str, str]) -> None:
    once = scrub_trace(trace(*pick), SPEC).trace
    assert scrub_trace(once, SPEC).trace == once


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_scrubbing_any_value_is_idempotent(value: Any) -> None:
    once = scrub_value(value, SPEC)
    assert scrub_value(once, SPEC) == once


@settings(max_examples=25, deadline=None)
@given(recorded)
def test_a_trace_compared_with_itself_has_no_differences(pick: tuple[str, str]) -> None:
    assert diff_views(_view(trace(*pick)), _view(trace(*pick))) == []


@settings(max_examples=25, deadline=None)
@given(recorded, st.integers(min_value=0, max_value=2**32))
def test_renaming_ids_never_creates_a_difference(pick: tuple[str, str], seed: int) -> None:
    raw = trace(*pick)
    text = json.dumps(raw)
    pattern = SPEC.of_kind("ids")[0].pattern
    assert pattern is not None
    rng = random.Random(seed)
    renamed = {
        old: str(uuid.UUID(int=rng.getrandbits(128), version=4))
        for old in dict.fromkeys(pattern.findall(text))
    }
    other = json.loads(pattern.sub(lambda m: renamed[m.group(0)], text))
    assert diff_views(_view(raw), _view(other)) == []


@settings(max_examples=15, deadline=None)
@given(st.sampled_from(scenario_names()), st.sampled_from(VERSIONS), st.sampled_from(VERSIONS))
def test_diff_is_symmetric_up_to_direction(name: str, left: str, right: str) -> None:
    a, b = _view(trace(left, name)), _view(trace(right, name))
    flip = {"added": "removed", "removed": "added"}
    forward = sorted(
        (d.level, d.shape, flip.get(d.kind, d.kind), repr(d.baseline), repr(d.candidate))
        for d in diff_views(a, b)
    )
    backward = sorted(
        (d.level, d.shape, d.kind, repr(d.candidate), repr(d.baseline)) for d in diff_views(b, a)
    )
    assert forward == backward
