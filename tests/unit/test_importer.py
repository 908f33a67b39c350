"""`conductor-compat import`: input shapes, errors, and each transformation it makes.

The definitions here are inputs written for the test (what a user would hand the
importer), not imitations of server behaviour; what servers do with the results is
checked by tests/e2e/test_import.py on real ones.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.errors import ExitCode
from harness.importer import DefinitionError, build, read_files, render
from harness.importer.network import stub_uri
from harness.scenarios import load_all, load_scenario


def _task(ref: str, kind: str = "SIMPLE", **fields: Any) -> dict[str, Any]:
    return {"name": fields.pop("name", ref), "taskReferenceName": ref, "type": kind, **fields}


def _workflow(name: str, *tasks: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": name, "version": 1, "tasks": list(tasks), **fields}


def _write(tmp_path: Path, name: str, document: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def _import(tmp_path: Path, *documents: Any, **options: Any) -> list[dict[str, Any]]:
    """Import ``documents`` (one file each), check every result validates, return them."""
    files = [_write(tmp_path, f"in{i}.json", d) for i, d in enumerate(documents)]
    scenarios = build(read_files(files), **options)
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    for scenario in scenarios:
        (out / scenario.file_name).write_text(render(scenario))
    loaded = load_all([out])
    assert loaded.problems == [], [p.render() for p in loaded.problems]
    return [s.document for s in scenarios]


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    return " ".join((captured.out + captured.err).split())


# --- input shapes -------------------------------------------------------------------


def test_a_single_definition_a_list_and_an_export_all_import(tmp_path: Path) -> None:
    one = _workflow("one", _task("a", name="cc_a"))
    two = _workflow("two", _task("b", name="cc_b"))
    export = {"workflowDefs": [two], "taskDefs": [{"name": "cc_b", "retryCount": 2}]}
    docs = _import(tmp_path, one, [two, {"name": "cc_a", "retryCount": 1}], export)
    assert [d["name"] for d in docs] == ["one", "in1.two", "in2.two"]  # two files define two
    by_name = {d["name"]: d for d in docs}
    assert by_name["one"]["definitions"]["task_defs"] == [{"name": "cc_a", "retryCount": 1}]
    assert by_name["in2.two"]["definitions"]["task_defs"] == [{"name": "cc_b", "retryCount": 2}]


def test_task_definitions_alone_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "defs.json", [{"name": "cc_a"}, {"name": "cc_b"}])
    assert main(["import", str(path), "--out", str(tmp_path / "out")]) == ExitCode.OK
    assert "2 task definitions and no workflow: nothing to write" in _err(capsys)
    assert not (tmp_path / "out").exists()


# --- errors -------------------------------------------------------------------------


def test_bad_files_are_named_with_what_is_wrong_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"name": "x",\n  "tasks": [')
    odd = _write(tmp_path, "odd.json", {"hello": 1})
    mixed = _write(tmp_path, "mixed.json", [_workflow("ok", _task("a")), 3])
    no_ref = _write(tmp_path, "noref.json", _workflow("w", {"name": "a", "type": "SIMPLE"}))
    out = tmp_path / "out"
    files = [str(p) for p in (broken, odd, mixed, no_ref, tmp_path / "missing.json")]
    assert main(["import", *files, "--out", str(out)]) == ExitCode.BAD_INPUT
    err = _err(capsys)
    assert f"{broken}:2:13: not JSON" in err
    assert f"{odd}: not a definition" in err and "found keys: hello" in err
    assert f"{mixed}[1]: not a definition (int)" in err
    assert f"{no_ref} (workflow 'w'): tasks[0] has no taskReferenceName" in err
    assert f"{tmp_path / 'missing.json'}: no such file" in err
    assert "5 problems" in err and "nothing was written" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_an_http_task_without_uri_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "w.json", _workflow("w", _task("h", "HTTP", inputParameters={})))
    with pytest.raises(DefinitionError) as caught:
        build(read_files([path]))
    assert "HTTP task 'h' of workflow 'w' has no inputParameters.http_request.uri" in str(
        caught.value.details
    )


def test_existing_files_are_refused_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "w.json", _workflow("w", _task("a", name="cc_a")))
    out = tmp_path / "out"
    assert main(["import", str(path), "--out", str(out)]) == ExitCode.OK
    (out / "w.yaml").write_text("edited by hand\n")
    capsys.readouterr()
    assert main(["import", str(path), "--out", str(out)]) == ExitCode.BAD_INPUT
    assert "1 of the scenario files already exists" in _err(capsys)
    assert (out / "w.yaml").read_text() == "edited by hand\n"
    assert main(["import", str(path), "--out", str(out), "--force"]) == ExitCode.OK
    assert load_scenario(out / "w.yaml").name == "w"


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "out")
    assert main(["import", "--out", out]) == ExitCode.BAD_INPUT
    assert "nothing to import" in _err(capsys)
    assert main(["import", "--from", "oss:3.32.1", "--out", out]) == ExitCode.BAD_INPUT
    assert "--from takes remote:URL" in _err(capsys)
    path = _write(tmp_path, "w.json", _workflow("w", _task("a")))
    assert main(["import", str(path), "--name", "nope*", "--out", out]) == ExitCode.BAD_INPUT
    assert "no workflow named like nope*" in _err(capsys)


def test_help_explains_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--from remote:URL" in out and "CONDUCTOR_COMPAT_TOKEN" in out
    assert "local stub" in out and "--force" in out and "applies_to" in out


# --- HTTP -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "stub"),
    [
        ("https://api.example.com/v1/orders?x=1", "http://stub/v1/orders?x=1"),
        ("http://10.0.0.5:8081/api/hello", "http://stub/api/hello"),
        ("https://api.example.com", "http://stub/"),
        ("https://api.example.com/users/${workflow.input.id}", "http://stub/users/_"),
        ("${workflow.input.base}/orders", "http://stub/orders"),
        ("${workflow.input.url}", "http://stub/dynamic"),
    ],
)
def test_uris_are_pointed_at_the_stub(uri: str, stub: str) -> None:
    assert stub_uri(uri)[0] == stub


def test_http_tasks_call_the_stub_and_the_file_keeps_the_originals(tmp_path: Path) -> None:
    wrapped = _task("a", "HTTP", inputParameters={"http_request": {"uri": "https://x.io/a"}})
    flat = _task("b", "HTTP", inputParameters={"uri": "http://y.io/b?q=1", "method": "GET"})
    path = _write(tmp_path, "w.json", _workflow("w", wrapped, flat))
    (scenario,) = build(read_files([path]))
    tasks = scenario.document["definitions"]["workflows"][0]["tasks"]
    assert tasks[0]["inputParameters"]["http_request"]["uri"] == "http://stub/a"
    assert tasks[1]["inputParameters"]["uri"] == "http://stub/b?q=1"
    assert scenario.document["http_stub"]["routes"] == [
        {"path": "/a", "echo": True},
        {"path": "/b", "echo": True},
    ]
    text = render(scenario)
    assert "# HTTP tasks now call the local stub instead of:" in text
    assert "#   a (w, http_request.uri): https://x.io/a -> http://stub/a" in text
    assert "#   b (w, uri): http://y.io/b?q=1 -> http://stub/b?q=1" in text


def test_http_inside_an_inline_sub_workflow_is_rewritten_too(tmp_path: Path) -> None:
    inner = _workflow("inner", _task("h", "HTTP", inputParameters={"uri": "https://x.io/z"}))
    sub = _task(
        "s", "SUB_WORKFLOW", subWorkflowParam={"name": "inner", "workflowDefinition": inner}
    )
    (doc,) = _import(tmp_path, _workflow("w", sub))
    param = doc["definitions"]["workflows"][0]["tasks"][0]["subWorkflowParam"]
    assert param["workflowDefinition"]["tasks"][0]["inputParameters"]["uri"] == "http://stub/z"


# --- applies_to -------------------------------------------------------------------------


def _inline(ref: str, evaluator: str, expression: str = "1") -> dict[str, Any]:
    params = {"evaluatorType": evaluator, "expression": expression}
    return _task(ref, "INLINE", inputParameters=params)


@pytest.mark.parametrize(
    ("task", "netflix", "oss", "words"),
    [
        (_inline("i", "javascript"), None, None, ""),
        (_inline("i", "graaljs"), "none", ">=3.32", "evaluatorType graaljs"),
        (_inline("i", "python"), "none", ">=3.21", "evaluatorType python"),
        (_inline("i", "javascript", "(() => 1)()"), "none", ">=3.32", "beyond ES5"),
        (_inline("i", "js"), "none", "none", "evaluatorType 'js'"),
        (_task("h", "HTTP", inputParameters={"uri": "http://x/y"}), "none", ">=3.32", "http_req"),
        (_task("k", "KAFKA_PUBLISH"), "none", "none", "external service"),
        (_task("e", "EVENT", sink="sqs:queue"), "none", "none", "sink 'sqs:queue'"),
        (_task("e", "EVENT", sink="conductor:q"), None, None, ""),
        (_task("u", "USER_TASK"), "none", "none", "task type USER_TASK"),
        (  # 3.15.0 and 3.21.14 ignore a loop's evaluatorType: Nashorn runs ES5 anyway
            _task("l", "DO_WHILE", evaluatorType="graaljs", loopCondition="$.l['iteration'] < 2",
                  loopOver=[_inline("i", "javascript")]),
            None, None, "",
        ),
        (
            _task("l", "DO_WHILE", evaluatorType="graaljs", loopCondition="const a = 1; false",
                  loopOver=[_inline("i", "javascript")]),
            "none", ">=3.32", "beyond ES5",
        ),
        (
            _task("l", "DO_WHILE", loopCondition="false", inputParameters={"keepLastN": 2},
                  loopOver=[_inline("i", "javascript")]),
            "none", ">=3.32", "keepLastN",
        ),
    ],
)  # fmt: skip
def test_applies_to_follows_the_features_used(
    tmp_path: Path, task: dict[str, Any], netflix: str | None, oss: str | None, words: str
) -> None:
    (doc,) = _import(tmp_path, _workflow("w", task))
    applies = doc.get("applies_to", {})
    assert applies.get("netflix", {}).get("versions") == netflix
    assert applies.get("oss", {}).get("versions") == oss
    reasons = " ".join(rule["reason"] for rule in applies.values())
    assert words in reasons
    if applies:
        assert task["taskReferenceName"] in reasons  # the reason names the task


def test_a_child_s_features_count_for_the_parent(tmp_path: Path) -> None:
    child = _workflow("child", _inline("i", "graaljs"))
    parent = _workflow("parent", _task("s", "SUB_WORKFLOW", subWorkflowParam={"name": "child"}))
    docs = _import(tmp_path, [parent, child])
    assert docs[0]["applies_to"]["oss"]["versions"] == ">=3.32"
    assert [w["name"] for w in docs[0]["definitions"]["workflows"]] == ["parent", "child"]


@pytest.mark.parametrize(
    ("policy", "seconds", "made"),
    [("TIME_OUT_WF", 5, 30), ("TIME_OUT_WF", 29, 30), ("TIME_OUT_WF", 30, 30),
     ("TIME_OUT_WF", 0, 0), ("ALERT_ONLY", 5, 5)],
)  # fmt: skip
def test_a_workflow_that_would_time_itself_out_within_a_loaded_run_gets_30_s(
    tmp_path: Path, policy: str, seconds: int, made: int
) -> None:
    """A run of simulated workers takes seconds, more on a loaded machine: a shorter
    TIME_OUT_WF would make the scenario's outcome the machine's, not the version's."""
    flow = _workflow("short", _task("a"), timeoutPolicy=policy, timeoutSeconds=seconds)
    (doc,) = _import(tmp_path, flow)
    assert doc["definitions"]["workflows"][0]["timeoutSeconds"] == made
    (scenario,) = build(read_files([_write(tmp_path, "again.json", flow)]))
    said = [line for line in scenario.header if "is 30 here" in line]
    assert len(said) == (made != seconds)


def test_inputs_a_task_needs_as_a_list_a_map_or_a_request_get_that_type(tmp_path: Path) -> None:
    """A dynamic fork's task list and inputs, a START_WORKFLOW's request and a list an
    INLINE script iterates, read from the workflow's input, get a value of that type, so
    that the workflow does not fail on its placeholder input."""
    fork = _task(
        "fork",
        "FORK_JOIN_DYNAMIC",
        dynamicForkTasksParam="dynamicTasks",
        dynamicForkTasksInputParamName="dynamicTasksInput",
        inputParameters={
            "dynamicTasks": "${workflow.input.forked}",
            "dynamicTasksInput": "${workflow.input.forked_inputs}",
        },
    )
    start = _task(
        "start", "START_WORKFLOW", inputParameters={"startWorkflow": "${workflow.input.request}"}
    )
    script = _task(
        "count",
        "INLINE",
        inputParameters={
            "evaluatorType": "graaljs",
            "expression": "(function () { return $.items.length; })();",
            "items": "${workflow.input.orders}",
            "name": "${workflow.input.customer}",
        },
    )
    (document,) = _import(tmp_path, _workflow("typed", fork, _task("join", "JOIN"), start, script))
    given = document["steps"][0]["start"]["input"]
    assert given["forked"] == [] and given["forked_inputs"] == {}
    assert isinstance(given["request"], dict) and "name" in given["request"]
    assert given["orders"] == ["sample orders"]
    assert given["customer"] == "sample customer"  # read as text: a text placeholder
