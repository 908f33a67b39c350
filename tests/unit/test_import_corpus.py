"""Every file of the real-world corpus imports into valid scenarios, and the committed
corpus scenarios (scenarios/corpus/conductor-oss-e2e/) are what the importer makes today.

The corpus lives beside the repository, in ../shared/corpus/conductor-oss-e2e/ (the
workflow and task definitions of conductor-oss's e2e suite); without it these tests
are skipped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.cli import main
from harness.errors import ExitCode
from harness.scenarios import load_all
from harness.scenarios.definitions import iter_tasks

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus" / "conductor-oss-e2e"
COMMITTED = ROOT / "scenarios" / "corpus" / "conductor-oss-e2e"
PREFIX = "oss-e2e."  # the command in scenarios/README.md
FILES = sorted(CORPUS.glob("*.json")) if CORPUS.is_dir() else []
ABSENT = f"the corpus is not here: no *.json in {CORPUS} (../shared/corpus/)"


def _require_corpus() -> None:
    if not FILES:
        pytest.skip(ABSENT)


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=p.name) for p in FILES]
    or [pytest.param(None, id="no-corpus", marks=pytest.mark.skip(reason=ABSENT))],
)
def test_each_corpus_file_imports_and_validates(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["import", str(path), "--out", str(out)]) == ExitCode.OK
    written = sorted(out.glob("*.yaml")) if out.exists() else []
    loaded = load_all(written) if written else None
    assert loaded is None or loaded.problems == []
    if '"tasks"' in path.read_text():  # a workflow file: one scenario per workflow
        assert loaded is not None and loaded.scenarios


def test_the_committed_corpus_scenarios_are_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _require_corpus()
    monkeypatch.chdir(ROOT)  # the documented command runs from the repository's root
    out = tmp_path / "out"
    files = [str(Path("..") / "shared" / "corpus" / "conductor-oss-e2e" / p.name) for p in FILES]
    assert main(["import", *files, "--out", str(out), "--prefix", PREFIX]) == ExitCode.OK
    made = {p.name: p.read_text() for p in out.glob("*.yaml")}
    committed = {p.name: p.read_text() for p in COMMITTED.glob("*.yaml")}
    assert sorted(made) == sorted(committed), "regenerate: see scenarios/README.md"
    stale = [name for name in made if made[name] != committed[name]]
    assert not stale, f"regenerate (see scenarios/README.md); out of date: {stale}"
    loaded = load_all([COMMITTED])
    assert loaded.problems == [] and len(loaded.scenarios) == len(committed)


def test_skip_invalid_imports_the_rest_and_lists_what_it_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A batch with one file that holds no definition: without --skip-invalid nothing is
    written (exit 2, the file named); with it, every corpus workflow is imported and the
    file is listed."""
    _require_corpus()
    notes = tmp_path / "README.json"
    notes.write_text('{"title": "not a definition"}')
    files = [str(p) for p in FILES] + [str(notes)]
    refused = tmp_path / "refused"
    assert main(["import", *files, "--out", str(refused)]) == ExitCode.BAD_INPUT
    assert str(notes) in capsys.readouterr().err and not refused.exists()
    out = tmp_path / "out"
    assert main(["import", *files, "--out", str(out), "--skip-invalid"]) == ExitCode.OK
    told = capsys.readouterr().err
    assert f"skipped: {notes}: not a definition" in " ".join(told.split())
    assert len(list(out.glob("*.yaml"))) == len(list(COMMITTED.glob("*.yaml")))


def test_input_gives_the_start_input_per_workflow_or_for_all(tmp_path: Path) -> None:
    """--input FILE: a map of workflow name to input, or one input for every workflow; a
    value that names a workflow of the import, where a SUB_WORKFLOW takes its child's name
    from the input, becomes the run's name of that workflow."""
    _require_corpus()
    source = CORPUS / "sub_workflow_tests.json"
    wanted = {"integration_test_wf_with_sub_wf": {"subwf": "sub_workflow", "n": [1]}}
    given = tmp_path / "inputs.json"
    given.write_text(json.dumps(wanted))
    out = tmp_path / "out"
    assert main(["import", str(source), "--out", str(out), "--input", str(given)]) == 0
    start = _start(out, "integration_test_wf_with_sub_wf")
    assert start["input"] == {"subwf": "{{name.sub_workflow}}", "n": [1]}
    one = tmp_path / "one.json"
    one.write_text('{"anything": 7}')
    again = tmp_path / "again"
    assert main(["import", str(source), "--out", str(again), "--input", str(one)]) == 0
    for path in again.glob("*.yaml"):
        assert _start_of(path)["input"] == {"anything": 7}


def test_imported_http_tasks_get_timeouts_the_stub_meets(tmp_path: Path) -> None:
    """Every HTTP task of the corpus that set none gets 5 s to connect and to read; one that
    set its own keeps them."""
    _require_corpus()
    out = tmp_path / "out"
    assert main(["import", *map(str, FILES), "--out", str(out)]) == ExitCode.OK
    http = [
        task
        for path in out.glob("*.yaml")
        for workflow in yaml.safe_load(path.read_text())["definitions"]["workflows"]
        for task in iter_tasks(workflow.get("tasks"))
        if task.get("type") == "HTTP"
    ]
    assert len(http) >= 5
    for task in http:
        params = task["inputParameters"]
        request = params.get("http_request", params)
        assert int(request["connectionTimeOut"]) > 150 and int(request["readTimeOut"]) > 150, task


def _start_of(path: Path) -> dict[str, Any]:
    steps = yaml.safe_load(path.read_text())["steps"]
    start: dict[str, Any] = steps[0]["start"]
    return start


def _start(out: Path, workflow: str) -> dict[str, Any]:
    (path,) = [p for p in out.glob("*.yaml") if _start_of(p)["workflow"] == workflow]
    return _start_of(path)
