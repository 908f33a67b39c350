"""Trace documents: the recorded fixtures match trace.schema.json, and it catches breakage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.runner.trace import trace_errors, write_trace

TRACES = Path(__file__).resolve().parents[2] / "fixtures" / "traces"
FILES = sorted(TRACES.glob("*/*.trace.json"))


def test_fixtures_exist_for_three_versions() -> None:
    assert {p.parent.name for p in FILES} == {"netflix-3.15.0", "oss-3.21.14", "oss-3.32.1"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_recorded_traces_are_schema_valid_and_unmapped(path: Path) -> None:
    text = path.read_text()
    trace = json.loads(text)
    assert trace_errors(trace) == []
    assert trace["outcome"]["status"] == "completed"
    prefix = trace["namespace"]["prefix"]
    assert prefix not in text.replace(f'"prefix": "{prefix}"', "")  # mapped back everywhere
    assert trace["target"]["target"].replace(":", "-") == path.parent.name


def test_a_broken_trace_is_rejected() -> None:
    trace = json.loads(FILES[0].read_text())
    trace["outcome"]["status"] = "fine"
    del trace["exchanges"][0]["method"]
    errors = trace_errors(trace)
    assert any(e.startswith("outcome/status:") for e in errors)
    assert any(e.startswith("exchanges/0:") and "'method'" in e for e in errors)


def test_write_is_atomic_and_named_after_the_scenario(tmp_path: Path) -> None:
    trace = json.loads(FILES[0].read_text())
    path = write_trace(tmp_path / "out", trace)
    assert path.name == f"{trace['scenario']['name']}.trace.json"
    assert json.loads(path.read_text()) == trace
    assert [p.name for p in path.parent.iterdir()] == [path.name]
