"""The scrub spec removes only what varies between runs of one version.

For each shipped rule, over the recorded pairs in fixtures/runs/ (two runs per version):
what turning the rule off adds to the differences between netflix:3.15.0 and a
conductor-oss version must also differ between two runs of one version (of any scenario:
whether a field varies on the server's own timing is the field's property). A rule
that erased a value one version writes deterministically and the other does not would
hide a version difference: it belongs in the catalog of changes instead.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import pytest

from harness.compare import View, build_view, diff_views
from harness.documents import load_document
from harness.normalize import ScrubSpec, load_spec, scrub_trace
from harness.normalize.spec import compile_spec, default_spec_path
from harness.traces import TraceSet, load_trace_set
from tests.unit.traces import RUNS

SPEC = load_spec()
# Ids are random UUIDs by construction: without the rule every view key differs in every
# run, so there is nothing version-specific to find and the check cannot be made.
RULES = [r.name for r in SPEC.rules if r.kind != "ids"]
VERSIONS = ("oss-3.21.14", "oss-3.32.1")


@functools.cache
def _runs(version: str) -> TraceSet:
    return load_trace_set(RUNS / version)


@functools.cache
def _without(rule: str) -> ScrubSpec:
    default = load_document(default_spec_path(), "scrub", "scrub spec").data
    off = {"scrub_format": 1, "rules": [{"name": rule, "enabled": False}]}
    return compile_spec([(str(default_spec_path()), default), ("off", off)])


_FULL: dict[int, tuple[View, dict[str, Any]]] = {}


def _full(trace: Mapping[str, Any]) -> tuple[View, dict[str, Any]]:
    """The trace's view under the whole spec, and what each rule changed (made once)."""
    if id(trace) not in _FULL:
        scrubbed = scrub_trace(trace, SPEC)
        _FULL[id(trace)] = (build_view(scrubbed.trace), scrubbed.summary())
    return _FULL[id(trace)]


def _view(trace: Mapping[str, Any], spec: ScrubSpec) -> View:
    return _full(trace)[0] if spec is SPEC else build_view(scrub_trace(trace, spec).trace)


def _keys(a: Mapping[str, Any], b: Mapping[str, Any], spec: ScrubSpec) -> set[tuple[str, str]]:
    return {(d.level, d.shape) for d in diff_views(_view(a, spec), _view(b, spec))}


def _touches(rule: str, traces: list[Mapping[str, Any]]) -> bool:
    return any(rule in _full(t)[1] for t in traces)


@pytest.mark.parametrize("rule", RULES)
def test_no_scrub_rule_erases_a_deterministic_difference_between_versions(rule: str) -> None:
    baseline = _runs("netflix-3.15.0-a")
    spec = _without(rule)
    added: list[tuple[str, str, str, str]] = []
    varies: set[tuple[str, str]] = set()
    for version in ("netflix-3.15.0-a", *VERSIONS):
        for runs in _runs(version).runs.values():
            if len(runs) >= 2 and _touches(rule, [t for _, t in runs[:2]]):
                varies |= _keys(runs[0][1], runs[1][1], spec)
    for version in VERSIONS:
        candidate = _runs(version)
        for name, base in baseline.runs.items():
            cand = candidate.runs.get(name, [])
            if not base or not cand or not _touches(rule, [base[0][1], cand[0][1]]):
                continue
            b1, c1 = base[0][1], cand[0][1]
            added += [(version, name, *k) for k in _keys(b1, c1, spec) - _keys(b1, c1, SPEC)]
    general = {(level, _general(shape)) for level, shape in varies}
    erased = [a for a in added if not _near((a[2], _general(a[3])), general)]
    assert erased == []


def _general(shape: str) -> str:
    """A shape with its workflow symbols generalized (wf1, wf2/... -> wf)."""
    return re.sub(r"\bwf\d+(/[^.\[\]]*)?", "wf", shape)


def _near(key: tuple[str, str], among: set[tuple[str, str]]) -> bool:
    level, shape = key
    return any(lv == level and (s.startswith(shape) or shape.startswith(s)) for lv, s in among)
