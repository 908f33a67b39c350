"""The matrix of clients and servers (clients.json, clients.md from it) and MIGRATION.md's
section on client SDKs, from real driver runs (fixtures/clients: conductor-python 2.0.0
and the conductor-oss Java client 4.0.10 on netflix:3.15.0 and oss:3.32.1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.clients.known import parse_client
from harness.clients.trace import breakages
from harness.pipeline.matrix import matrix
from harness.report.client_matrix import render_matrix
from harness.report.migration_clients import render_clients
from tests.unit.test_client_trace import CLIENTS, SERVERS, _run

BASELINE, CANDIDATE = SERVERS


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    runs = {(s, c): _run(c, s) for c in CLIENTS for s in SERVERS}
    built = matrix(BASELINE, [CANDIDATE], [parse_client(c) for c in CLIENTS], runs, [])
    held: dict[str, Any] = json.loads(json.dumps(built))  # as clients.json holds it
    return held


def test_every_cell_holds_the_calls_the_sdk_failed_on(doc: dict[str, Any]) -> None:
    assert doc["targets"] == list(SERVERS)
    assert [c["client"] for c in doc["clients"]] == list(CLIENTS)
    for client in doc["clients"]:
        for cell in client["cells"]:
            run = _run(client["client"], cell["target"])
            expected = [b.call for b in breakages(run)]
            assert [f["call"] for f in cell["failed"]] == expected
            assert cell["made"] >= len(expected) > 0  # each client broke somewhere here
            for failed in cell["failed"]:
                assert failed["raised"] and failed["response"]


def test_clients_md_names_each_failure_with_the_answer_behind_it(doc: dict[str, Any]) -> None:
    text = render_matrix(doc)
    for client in doc["clients"]:
        assert f"| {client['client']} |" in text
        for cell in client["cells"]:
            for failed in cell["failed"]:
                line = f"- {client['client']} on {cell['target']}: `{failed['call']}` raised"
                assert line in text
                assert failed["response"] in text


def test_the_migration_section_says_what_breaks_in_each_order(doc: dict[str, Any]) -> None:
    text = render_clients(doc)
    assert text.startswith("## Client SDKs")
    assert f"| client | {BASELINE} | {CANDIDATE} |" in text
    # one client per line here: the advice is about moving the server under it
    assert "- **Java**: from java-oss:4.0.10 (the one client of its line here)." in text
    assert "- **Python**: from python:2.0.0 (the one client of its line here)." in text
    for client in doc["clients"]:
        cells = {c["target"]: c for c in client["cells"]}
        before = {f["call"] for f in cells[BASELINE]["failed"]}
        new = [f["call"] for f in cells[CANDIDATE]["failed"] if f["call"] not in before]
        block = text[text.index(f"from {client['client']} (the one") :]
        advice = next(line for line in block.splitlines() if line.startswith(f"  - {CANDIDATE}:"))
        if new:
            assert advice.startswith(f"  - {CANDIDATE}: upgrading the server breaks ")
            assert all(f"`{call}`" in advice for call in new)
        else:
            assert "server first" in advice


def test_migration_md_takes_the_published_matrix(
    doc: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "clients.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["changes", "--markdown", "--clients", str(path)]) == 0
    out = capsys.readouterr().out
    assert "## Client SDKs" in out
    assert out.index("## Upgrading in place") < out.index("## Client SDKs")
    bad = tmp_path / "bad.json"
    bad.write_text('{"clients": []}', encoding="utf-8")
    assert main(["changes", "--markdown", "--clients", str(bad)]) == 2
    assert "not a clients.json" in " ".join(capsys.readouterr().err.split())  # wrapped


def test_each_failed_call_names_its_own_answer(doc: dict[str, Any]) -> None:
    """An answer in the millisecond one call returns and the next begins is the next
    call's: the unknown workflow's 404 behind `get_unknown_workflow`, the unknown task's
    behind `get_unknown_task`, never the other way."""
    behind = {"get_unknown_workflow": "GET /api/workflow/", "get_unknown_task": "GET /api/tasks/"}
    seen = 0
    for client in doc["clients"]:
        for cell in client["cells"]:
            for failed in cell["failed"]:
                if failed["call"] in behind:
                    assert failed["response"].startswith(behind[failed["call"]]), failed
                    seen += 1
    assert seen >= 4


def test_a_worker_the_server_refuses_shows_though_no_call_raised(doc: dict[str, Any]) -> None:
    """conductor-python 2.0.0 updates tasks through /api/tasks/update-v2, which
    netflix:3.15.0 does not have: its workers' updates are refused (500), no call of the
    script raises for it, and the matrix and MIGRATION.md's advice both say so."""
    cells = {(c["client"], x["target"]): x for c in doc["clients"] for x in c["cells"]}
    refused = cells[("python:2.0.0", BASELINE)]["worker_errors"]
    assert refused and refused[0].startswith("POST /api/tasks/update-v2 -> 500")
    assert "Request method 'POST' not supported" in refused[0]
    assert cells[("python:2.0.0", CANDIDATE)]["worker_errors"] == []
    assert cells[("java-oss:4.0.10", BASELINE)]["worker_errors"] == []
    assert "**workers refused**" in render_matrix(doc)
    text = render_clients(doc)
    assert "its workers refused: `POST /api/tasks/update-v2 -> 500`" in text


def test_report_md_has_the_matrix_as_a_table(doc: dict[str, Any]) -> None:
    """One row per client, one column per server, in the report a clients run writes; the
    report with its matrix is a valid report document."""
    from harness.classify import assess_run, load_settings
    from harness.report import build_report, render_markdown, report_errors
    from tests.unit.test_client_trace import _traces

    result = assess_run(_traces(BASELINE), _traces(CANDIDATE), load_settings())
    report = json.loads(json.dumps(build_report(result)))
    report["clients"] = doc
    assert report_errors(report) == []
    text = render_markdown(report)
    assert f"| client | {BASELINE} | {CANDIDATE} |" in text
    rows = [line for line in text.splitlines() if "calls ok" in line]
    assert [r.split(" | ")[0] for r in rows] == [f"| {c['client']}" for c in doc["clients"]]
    assert all(r.count("calls ok") == len(SERVERS) for r in rows)


def test_a_client_whose_driver_was_not_built_says_why_in_every_cell() -> None:
    """A driver that cannot be built here (no JDK 21, say) makes that client's row, not the
    run's end; the others run."""
    runs = {(s, c): _run(c, s) for c in CLIENTS for s in SERVERS}
    specs = [parse_client(c) for c in (*CLIENTS, "java-oss:6.0.0")]
    why = "Building this client's driver needs a Java 21 JDK (with javac)"
    doc = matrix(BASELINE, [CANDIDATE], specs, runs, [], unbuilt={"java-oss:6.0.0": why})
    (row,) = [c for c in doc["clients"] if c["client"] == "java-oss:6.0.0"]
    assert [c["problem"] for c in row["cells"]] == [f"not built: {why}"] * len(SERVERS)
    assert not any(c["ran"] for c in row["cells"])
    assert all(c["ran"] for r in doc["clients"] if r is not row for c in r["cells"])
    line = next(ln for ln in render_matrix(doc).splitlines() if ln.startswith("| java-oss:6.0.0"))
    assert line.count(f"**not built: {why}**") == len(SERVERS)


def test_the_drivers_that_build_are_kept_when_one_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from harness.clients.build import BuiltDriver
    from harness.errors import HarnessError, MissingPrerequisiteError
    from harness.pipeline import clients as pipeline

    def build(spec: Any) -> BuiltDriver:
        if spec.name == "java-oss:6.0.0":
            raise MissingPrerequisiteError("No Java 21 JDK", "Install one")
        return BuiltDriver(spec, Path("/nowhere"), ("true",), 0.0, True)

    monkeypatch.setattr(pipeline, "build", build)
    seen: list[Any] = []
    specs = [parse_client(c) for c in ("python:2.0.0", "java-oss:6.0.0")]
    built, unbuilt = pipeline._build_all(specs, seen.append)
    assert [b.spec.name for b in built] == ["python:2.0.0"]
    assert unbuilt == {"java-oss:6.0.0": "No Java 21 JDK. Install one"}
    assert [type(e).__name__ for e in seen] == ["ClientNotBuilt"]
    with pytest.raises(HarnessError, match="no client's driver could be built"):
        pipeline._build_all(specs[1:], seen.append)
