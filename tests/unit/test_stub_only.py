"""HTTP tasks call only the local stub: wherever a URI can come from, it is checked at
validation (exit 2, file:line), and what passes the check is what the runner rewrites."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.cli.app import main
from harness.errors import ExitCode
from harness.runner.namespace import Namespace
from harness.scenarios import ScenarioError, load_scenario

BASE = """\
name: stub_only
definitions:
  workflows:
    - name: wf
      tasks:
        - {name: cc_work, taskReferenceName: work}
steps:
  - start: {workflow: wf, as: main}
"""

REGISTERED = (
    BASE
    + """\
  - register:
      workflows:
        - name: late_wf
          tasks:
            - name: call
              taskReferenceName: call
              type: HTTP
              inputParameters:
                http_request: {uri: "URI", method: GET}
"""
)

DYNAMIC_FORK_INPUT = (
    BASE
    + """\
  - start:
      workflow: wf
      input:
        forks:
          - name: call
            taskReferenceName: call
            type: HTTP
            inputParameters:
              http_request: {uri: "URI"}
"""
)


def _messages(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(text))
    try:
        load_scenario(path, tmp_path)
    except ScenarioError as exc:
        return [p.render().replace(f"{path}:", "") for p in exc.problems]
    return []


def test_an_http_task_registered_by_a_step_is_refused_at_validation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(REGISTERED.replace("URI", "https://api.example.com/x"))
    assert main(["validate", str(path)]) == ExitCode.BAD_INPUT
    out = capsys.readouterr().out
    assert f"{path}:17:37: the HTTP task calls 'api.example.com', not the local stub" in out
    assert "(at steps[1].register.workflows[0].tasks[0].inputParameters.http_request.uri)" in out
    assert _messages(tmp_path, REGISTERED.replace("URI", "http://stub/x")) == []


def test_a_dynamic_fork_given_in_the_start_input_is_checked(tmp_path: Path) -> None:
    (message,) = _messages(tmp_path, DYNAMIC_FORK_INPUT.replace("URI", "http://10.0.0.1/x"))
    assert message.startswith("17:35: the HTTP task calls '10.0.0.1', not the local stub")
    (message,) = _messages(tmp_path, DYNAMIC_FORK_INPUT.replace("URI", "${workflow.input.u}"))
    assert "computed at run time" in message
    assert _messages(tmp_path, DYNAMIC_FORK_INPUT.replace("URI", "http://stub/x")) == []


@pytest.mark.parametrize(
    "where",
    [
        "  - start: {workflow: wf, input: {target: URL}}\n",
        "  - call: {method: POST, path: /api/workflow/wf, body: {callback: URL}}\n",
        "  - rerun: {workflow: main, workflow_input: {target: URL}}\n",
    ],
)
def test_a_url_given_as_run_time_data_must_be_the_stub(tmp_path: Path, where: str) -> None:
    (message,) = _messages(tmp_path, BASE + where.replace("URL", "HTTPS://evil.example"))
    assert message.startswith("9:")
    assert "'HTTPS://evil.example' is a URL of a host other than the local stub" in message
    assert _messages(tmp_path, BASE + where.replace("URL", "http://stub/cb")) == []


def test_a_worker_output_is_run_time_data_too(tmp_path: Path) -> None:
    text = BASE + "workers:\n  cc_work:\n    script:\n      - do: complete\n        output: URL\n"
    (message,) = _messages(tmp_path, text.replace("URL", "{next: 'http://169.254.169.254/'}"))
    assert message.startswith("13:24: 'http://169.254.169.254/' is a URL of a host other")


def test_an_http_task_in_a_call_body_is_checked(tmp_path: Path) -> None:
    call = (
        "  - call:\n      method: POST\n      path: /api/metadata/workflow\n      body:\n"
        "        name: posted\n        tasks:\n"
        "          - {name: h, taskReferenceName: h, type: HTTP,"
        " inputParameters: {uri: '${workflow.input.u}'}}\n"
    )
    (message,) = _messages(tmp_path, BASE + call)
    assert message.startswith("15:80: the HTTP task's uri '${workflow.input.u}' is computed")


@pytest.mark.parametrize("uri", ["HTTP://STUB/x", "Http://Stub:8080/x", "http://stub?q=1"])
def test_the_stub_is_matched_in_any_case_by_the_check_and_the_rewrite(
    tmp_path: Path, uri: str
) -> None:
    assert _messages(tmp_path, REGISTERED.replace("URI", uri)) == []
    workflow = {
        "name": "wf",
        "tasks": [
            {
                "name": "h",
                "taskReferenceName": "h",
                "type": "HTTP",
                "inputParameters": {"http_request": {"uri": uri}},
            }
        ],
    }
    names = Namespace("cc0a1b2c_", frozenset({"wf"}), stub_url="http://127.0.0.1:4321")
    sent = names.workflow(workflow)["tasks"][0]["inputParameters"]["http_request"]["uri"]
    assert sent.startswith("http://127.0.0.1:4321") and sent.lower().endswith(uri[-2:].lower())


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("https://stub/x", "does not reach the stub"),
        ("http://user@stub/x", "does not reach the stub"),
        ("http://stubby.example/x", "calls 'stubby.example'"),
        ("http://[::1/x", "calls 'http://[::1/x'"),
        (" http://stub/x", "does not reach the stub"),
    ],
)
def test_what_the_rewrite_would_miss_is_refused(tmp_path: Path, uri: str, fragment: str) -> None:
    (message,) = _messages(tmp_path, REGISTERED.replace("URI", uri))
    assert fragment in message


def test_text_that_merely_mentions_the_stub_is_not_rewritten() -> None:
    names = Namespace("cc0a1b2c_", frozenset(), stub_url="http://127.0.0.1:4321")
    assert names._stub("see http://stub/x") == "see http://stub/x"
