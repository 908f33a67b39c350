"""The compiled validator that checks traces and reports first passes nothing that
jsonschema fails: on real documents, mutated a hundred ways, both find the same documents
valid (harness/schemas/__init__.py).

The documents: traces recorded from real servers (fixtures/baselines/netflix-3.15.0,
fixtures/join-race.tar.xz) and the report assessed from the latter.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import fastjsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.classify import assess_run
from harness.report.document import build_report
from harness.schemas import compiled, schema_errors, validator
from harness.traces import load_trace_set
from tests.unit import library
from tests.unit.traces import FIXTURES, archived

BASELINE = FIXTURES / "baselines" / "netflix-3.15.0"
TRACES = ("api-metadata-crud.trace.json", "retry-restart-rerun.trace.json")
JUNK: list[Any] = [None, 0, -1, 1.5, True, "", "x", "COMPLETED", [], {}, [None], {"x": 1}]


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    where = archived(FIXTURES / "join-race.tar.xz")
    result = assess_run(
        load_trace_set(where / "netflix-3.15.0"),
        load_trace_set(where / "oss-3.32.1"),
        library.settings(),
    )
    return build_report(result)


def _paths(node: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node[:3]):  # the first few items of a long list
            yield from _paths(value, (*at, index))


def _mutated(document: Any, data: st.DataObject) -> Any:
    out = copy.deepcopy(document)
    paths = list(_paths(out))
    path = data.draw(st.sampled_from(paths))
    how = data.draw(st.sampled_from(["replace", "delete", "add", "append"]))
    holder, key = (None, None) if not path else (_at(out, path[:-1]), path[-1])
    target = _at(out, path)
    if how == "add" and isinstance(target, dict):
        target[data.draw(st.sampled_from(["extra", "status", "zz"]))] = data.draw(
            st.sampled_from(JUNK)
        )
    elif how == "append" and isinstance(target, list):
        target.append(data.draw(st.sampled_from(JUNK)))
    elif how == "delete" and holder is not None:
        del holder[key]
    elif holder is not None:
        holder[key] = data.draw(st.sampled_from(JUNK))
    return out


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        document = document[part]
    return document


def _fast_passes(name: str, document: Any) -> bool:
    try:
        compiled(name)(document)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def _agree(name: str, document: Any) -> None:
    slow = list(validator(name).iter_errors(document))
    assert _fast_passes(name, document) == (not slow), [e.message for e in slow[:3]]


@pytest.mark.parametrize("file", TRACES)
def test_recorded_traces_pass_both(file: str) -> None:
    trace = json.loads((BASELINE / file).read_text())
    assert _fast_passes("trace", trace)
    assert schema_errors("trace", trace) == []


@pytest.mark.parametrize("file", TRACES)
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_mutated_trace_is_judged_alike(file: str, data: st.DataObject) -> None:
    _agree("trace", _mutated(json.loads((BASELINE / file).read_text()), data))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_mutated_report_is_judged_alike(report: dict[str, Any], data: st.DataObject) -> None:
    _agree("report", _mutated(report, data))


def test_a_document_the_compiled_validator_fails_gets_jsonschema_messages(
    report: dict[str, Any],
) -> None:
    broken = copy.deepcopy(report)
    broken["verdict"]["status"] = "green"
    assert not _fast_passes("report", broken)
    (error,) = schema_errors("report", broken)
    assert error.startswith("verdict/status: 'green' is not one of")


def test_the_report_passes_both(report: dict[str, Any]) -> None:
    assert _fast_passes("report", report)
    assert schema_errors("report", report) == []
