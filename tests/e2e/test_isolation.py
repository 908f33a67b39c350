"""Network isolation that the kernel enforces (docs/safety.md): a server reaches the
harness's stub and the HOST:PORT a scenario declares under --allow-outbound, nothing else.

One run per version line (netflix:3.15.0, oss:3.32.1; under docker, oss:3.32.1), one
server start: three workflows call four listeners the test made itself
(``isolation_world``), through HTTP tasks of a definition registered by a ``register``
step, of a dynamic fork whose tasks come from the start input, and with a URI computed
by an INLINE task. The scenario sets ``allow_outbound`` and the run passes
``--allow-outbound``, so the static check lets every URI through: only the kernel stands
between the workflows and the listeners. Only the declared listener (the positive
control, so the test is not vacuous) hears anything; every other call fails with the
server's own error, and the run reports the calls the namespace refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import require
from tests.e2e.conftest import SUPPORTED, cli, containers_labelled
from tests.e2e.isolation_world import World, outside_world

pytestmark = [pytest.mark.e2e]

NAMES = ("declared", "undeclared", "loopback", "gateway")
BLOCKED = ("undeclared", "loopback", "gateway")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    from harness.targets.netns import unavailable

    why = unavailable()
    require(why is None, f"isolation cannot be tested here: {why}")
    with outside_world(tmp_path) as made:
        yield made


def _http(ref: str, uri: str) -> dict[str, Any]:
    request = {"uri": uri, "method": "GET", "connectionTimeOut": 2000, "readTimeOut": 2000}
    return {
        "name": f"call_{ref}",
        "taskReferenceName": ref,
        "type": "HTTP",
        "optional": True,
        "inputParameters": {"http_request": request},
    }


def scenario(world: World) -> dict[str, Any]:
    urls = world.urls()
    done = ["COMPLETED", "FAILED"]
    steps: list[dict[str, Any]] = [
        {
            "name": "a definition registered by a step calls out",
            "register": {
                "workflows": [
                    {
                        "name": "iso_registered_wf",
                        "version": 1,
                        "schemaVersion": 2,
                        "ownerEmail": "compat@example.org",
                        "tasks": [_http(f"reg_{n}", urls[n]) for n in NAMES],
                    }
                ]
            },
        },
        # registered by the step above, not in definitions: the status is said explicitly
        {
            "start": {"workflow": "iso_registered_wf", "as": "registered"},
            "expect_status": 200,
            "settle": False,
        },
        {
            "name": "a dynamic fork's tasks, from the start input, call out",
            "settle": False,
            "start": {
                "workflow": "iso_dynamic_wf",
                "as": "dynamic",
                "input": {
                    "tasks": [{**_http(f"dyn_{n}", urls[n]), "inputParameters": {}} for n in NAMES],
                    "inputs": {
                        f"dyn_{n}": {
                            "http_request": {
                                "uri": urls[n],
                                "method": "GET",
                                "connectionTimeOut": 2000,
                                "readTimeOut": 2000,
                            }
                        }
                        for n in NAMES
                    },
                },
            },
        },
    ]
    steps += [
        {
            "name": f"an INLINE task computes the URI of {n}",
            "start": {"workflow": "iso_inline_wf", "as": f"inline_{n}", "input": {"url": urls[n]}},
            "settle": False,
        }
        for n in NAMES
    ]
    # every workflow runs at once; then each is waited for
    steps += [
        {"wait": {"workflow": alias, "status": done}}
        for alias in ("registered", "dynamic", *(f"inline_{n}" for n in NAMES))
    ]
    host = urls["declared"].removeprefix("http://").rstrip("/")
    return {
        "name": "isolation",
        "description": "HTTP tasks call listeners outside the stub; only the declared one hears.",
        "allow_outbound": [host],
        "definitions": {
            "workflows": [
                {
                    "name": "iso_dynamic_wf",
                    "tasks": [
                        {
                            "name": "fan",
                            "taskReferenceName": "fan",
                            "type": "FORK_JOIN_DYNAMIC",
                            "dynamicForkTasksParam": "dynamicTasks",
                            "dynamicForkTasksInputParamName": "dynamicTasksInput",
                            "inputParameters": {
                                "dynamicTasks": "${workflow.input.tasks}",
                                "dynamicTasksInput": "${workflow.input.inputs}",
                            },
                        },
                        {"name": "fan_join", "taskReferenceName": "fan_join", "type": "JOIN"},
                    ],
                },
                {
                    "name": "iso_inline_wf",
                    "tasks": [
                        {
                            "name": "compute",
                            "taskReferenceName": "compute",
                            "type": "INLINE",
                            "inputParameters": {
                                "evaluatorType": "javascript",
                                "expression": "function f() { return '' + $.url; } f();",
                                "url": "${workflow.input.url}",
                            },
                        },
                        _http("inline", "${compute.output.result}"),
                    ],
                },
            ]
        },
        "steps": steps,
    }


def http_tasks(trace: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The last snapshot of every HTTP task in the trace, by the URI it called."""
    last: dict[tuple[str, str], dict[str, Any]] = {}
    for step in trace["steps"]:
        for snapshot in step.get("snapshots") or []:
            for task in snapshot.get("tasks") or []:
                if task.get("taskType") == "HTTP":
                    last[(snapshot["workflowId"], task["referenceTaskName"])] = task
    by_uri: dict[str, dict[str, Any]] = {}
    for (_, ref), task in last.items():
        uri = str(((task.get("inputData") or {}).get("http_request") or {}).get("uri"))
        by_uri[f"{ref} {uri}"] = task
    return by_uri


def run_isolated(
    world: World, tmp_path: Path, target: str, *extra: str
) -> tuple[dict[str, Any], str]:
    path = tmp_path / "isolation.yaml"
    path.write_text(yaml.safe_dump(scenario(world), sort_keys=False))
    out = tmp_path / "traces"
    before = world.received()
    run = cli(
        "run",
        "--target",
        target,
        "--allow-outbound",
        "--out",
        str(out),
        "--workdir",
        str(tmp_path / "work"),
        *extra,
        str(path),
    )
    assert run.code == 0, run.text
    received = {n: world.received()[n] - before[n] for n in NAMES}
    trace = json.loads(next(out.glob("*.trace.json")).read_text())
    tasks = http_tasks(trace)
    print(f"{target}: received {received}\n{run.err}")
    for name, task in sorted(tasks.items()):
        print(f"  {name}: {task['status']} {str(task.get('reasonForIncompletion'))[:120]}")
    # Three calls for each listener: registered, dynamic fork, INLINE.
    assert len(tasks) == 3 * len(NAMES), sorted(tasks)
    assert received == {"declared": 3, "undeclared": 0, "loopback": 0, "gateway": 0}, received
    for name, task in tasks.items():
        if world.urls()["declared"] in name:
            assert task["status"] == "COMPLETED", (name, task)
            assert task["outputData"]["response"]["body"] == "reached"
        else:
            assert task["status"] in ("FAILED", "COMPLETED_WITH_ERRORS"), (name, task)
            assert task.get("reasonForIncompletion"), (name, task)
    assert trace["target"]["isolation"].startswith("enforced"), trace["target"]
    blocked = re.search(r"(\d+) outbound connection attempts blocked", run.err)
    # undeclared and gateway have no route from the namespace: 3 calls each at least
    assert blocked and int(blocked.group(1)) >= 6, run.err
    return trace, run.err


@pytest.mark.parametrize("target", [SUPPORTED[0], SUPPORTED[-1]])  # each line's newest HTTP task
def test_a_server_reaches_the_declared_host_and_nothing_else(
    world: World, tmp_path: Path, target: str
) -> None:
    run_isolated(world, tmp_path, target)


@pytest.mark.usefixtures("docker_engine")
def test_a_container_reaches_the_declared_host_and_nothing_else(
    world: World, tmp_path: Path
) -> None:
    """The docker runtime's default network (none): the same guarantee. The container has
    no network whatever it runs, so one version (the newest, on Java 21) proves it; each
    version's own HTTP task is met by the test above."""
    try:
        trace, _ = run_isolated(world, tmp_path, SUPPORTED[-1], "--runtime", "docker")
        assert trace["target"]["runtime"] == "docker"
    finally:
        assert not containers_labelled()


def test_no_isolation_is_said_in_the_trace(tmp_path: Path) -> None:
    """--no-isolation runs the server as before, and the trace says so."""
    out = tmp_path / "traces"
    run = cli(
        "run",
        "--target",
        "netflix:3.15.0",
        "--no-isolation",
        "--out",
        str(out),
        "--workdir",
        str(tmp_path / "work"),
        str(Path(__file__).resolve().parents[2] / "scenarios" / "tasks" / "http.yaml"),
    )
    assert run.code == 0, run.text
    trace = json.loads(next(out.glob("*.trace.json")).read_text())
    assert trace["target"]["isolation"] == "not enforced (--no-isolation)"
    assert "isolation: not enforced" in run.err
