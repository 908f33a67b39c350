"""Trace documents: the recorded fixtures match trace.schema.json, and it catches breakage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import BadInputError
from harness.traces import (
    SUFFIX,
    finished_runs,
    load_trace_set,
    read_trace,
    trace_errors,
    trace_files,
    trace_path,
    write_trace,
)
from tests.unit.traces import RUNS

TRACES = Path(__file__).resolve().parents[2] / "fixtures" / "traces"
FILES = trace_files(TRACES)


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


def test_a_trace_read_and_written_again_is_the_same_bytes(tmp_path: Path) -> None:
    for path in [*FILES[:5], *trace_files(RUNS / "netflix-3.15.0-a")]:
        written = write_trace(tmp_path / path.parent.name, read_trace(path))
        assert written.name == path.name
        assert written.read_bytes() == path.read_bytes(), path


def test_a_trace_set_is_one_target_by_scenario_in_repeat_order() -> None:
    traces = load_trace_set(RUNS / "netflix-3.15.0-a")
    assert traces.target["target"] == "netflix:3.15.0"
    runs = traces.runs["api-metadata-crud"]
    names = [p.name for p, _ in runs]
    assert names == ["api-metadata-crud.trace.json", "api-metadata-crud.run2.trace.json"]
    assert [t.get("repeat", 1) for _, t in runs] == [1, 2]
    assert trace_path(RUNS, "x", 3) == RUNS / f"x.run3{SUFFIX}"


def test_what_is_not_a_trace_is_refused_with_its_place(tmp_path: Path) -> None:
    (tmp_path / f"broken{SUFFIX}").write_text('{"trace_format": 1,\n  oops}')
    with pytest.raises(BadInputError, match=r"broken\.trace\.json:2:3: not a JSON trace"):
        read_trace(tmp_path / f"broken{SUFFIX}")
    with pytest.raises(BadInputError, match="broken"):
        load_trace_set(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match="no traces"):
        load_trace_set(tmp_path / "empty")
    assert load_trace_set(tmp_path / "empty", expected={"target": "oss:3.32.1"}).runs == {}


def test_finished_runs_skip_partial_foreign_and_outdated_traces(tmp_path: Path) -> None:
    trace = json.loads(FILES[0].read_text())
    name, digest = trace["scenario"]["name"], trace["scenario"]["digest"]
    write_trace(tmp_path, trace)
    write_trace(tmp_path, {**trace, "repeat": 2})
    (tmp_path / f"partial{SUFFIX}").write_text(FILES[0].read_text()[:100])
    (tmp_path / f"foreign{SUFFIX}").write_text('{"scenario": {"name": "x"}}')
    assert finished_runs(tmp_path, {name: digest}) == {(name, 1), (name, 2)}
    assert finished_runs(tmp_path, {name: "0" * 64}) == set()
    assert finished_runs(tmp_path / "missing", {name: digest}) == set()


def test_a_trace_checked_once_is_checked_again_when_its_file_changes(tmp_path: Path) -> None:
    trace = json.loads(FILES[0].read_text())
    path = write_trace(tmp_path, trace, checked=True)
    assert read_trace(path) == trace  # written after a check: read without one
    assert read_trace(path) == trace
    broken = {**trace, "outcome": {"status": "exploded"}}
    # the same path, other content: a new file put in its place, then one changed in place
    write_trace(tmp_path, broken)
    with pytest.raises(BadInputError, match="not a valid trace"):
        read_trace(path)
    path.write_text(json.dumps(trace), encoding="utf-8")
    assert read_trace(path) == trace
    with path.open("r+", encoding="utf-8") as fh:  # same inode and size, another time
        fh.write(json.dumps(broken)[: len(json.dumps(trace))].ljust(len(json.dumps(trace))))
    with pytest.raises(BadInputError):
        read_trace(path)
