"""What netflix 3.8.3 to 3.10.1 (the lock off) show against 3.15.0 in what the API answers
rather than in what the engine decides: an error's message that begins with its code
(Netflix/conductor#3003, 3.10.0), a dynamic fork's task definitions that carry their empty
collections (Netflix/conductor#3144, 3.10.3), an EVENT task's sink and asyncComplete left
in the workflow's copy of its definition (Netflix/conductor#3070, 3.10.5), a workflow
output that carries a JOIN's empty copies (Netflix/conductor#3055, 3.9.0), and an HTTP
task's failure text that brackets, then quotes, the response's body (Spring 5.3, 3.8.2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.classify import assess_run
from harness.traces import load_trace_set
from tests.unit import library
from tests.unit.traces import NETFLIX_LINE

LOCK_OFF = NETFLIX_LINE / "lock-off"
BASELINES = NETFLIX_LINE.parent / "baselines" / "netflix-3.15.0-lock-off"
# the scenarios whose error answers differ in their messages
ERRORS = (
    "api-rest-errors",
    "event-handler-crud",
    "pause-resume-edge-cases",
    "skip-task-errors",
    "task-update-statuses",
)


def _findings(candidate: Path, scenario: str) -> list[Any]:
    """One scenario's findings against 3.15.0's lock-off baselines, noise left out."""
    traces = load_trace_set(candidate)
    baseline = load_trace_set(BASELINES).restrict({scenario})
    result = assess_run(baseline, traces.restrict({scenario}), library.settings())
    (found,) = result.scenarios
    return [f for f in found.findings if f.disposition != "noise"]


def _by_path(findings: list[Any], start: str) -> dict[str, tuple[str, str | None]]:
    return {
        f.difference.path: (f.disposition, (f.change or {}).get("id"))
        for f in findings
        if f.difference.path.startswith(start)
    }


def _on_3_5_2(scenario: str) -> Any:
    """One scenario of netflix 3.5.2's gate (the profile's lock) against 3.15.0's baselines."""
    result = assess_run(
        load_trace_set(NETFLIX_LINE.parent / "baselines" / "netflix-3.15.0").restrict({scenario}),
        load_trace_set(NETFLIX_LINE / "lock" / "netflix-3.5.2").restrict({scenario}),
        library.settings(),
    )
    (found,) = result.scenarios
    return found


def test_an_error_message_lost_its_code_in_3_10() -> None:
    """Before 3.10.0 an answer made from any exception carried "INTERNAL_ERROR - " before
    the error's text; the text after it is the same (only that prefix is the change)."""
    messages = {
        (scenario, f.difference.candidate): (f.change or {}).get("id")
        for scenario in ERRORS
        for f in _findings(LOCK_OFF / "netflix-3.9.2", scenario)
        if f.difference.path.endswith(".body.message")
    }
    assert messages, "the 3.9.2 traces hold error messages that differ"
    prefixed = {k: v for k, v in messages.items() if str(k[1]).startswith("INTERNAL_ERROR - ")}
    assert len(prefixed) >= 5
    assert set(prefixed.values()) == {"error-message-without-code"}
    ended = [k for k in messages if str(k[1]).startswith("Workflow id ")]
    assert ended and {messages[k] for k in ended} == {"error-message-without-code"}


def test_a_message_changed_beyond_its_code_is_not_that_change() -> None:
    """The prefix is all the change explains: a text that differs after it is not its."""
    from harness.classify.catalog import _same_without, load_catalog

    (change,) = [c for c in load_catalog().changes if c.id == "error-message-without-code"]
    pattern = change.matchers[0].same_without
    assert pattern is not None
    old = "INTERNAL_ERROR - Content type 'text/plain;charset=UTF-8' not supported"
    assert _same_without(pattern, old, "Content type 'text/plain;charset=UTF-8' not supported")
    assert not _same_without(pattern, old, "Content-Type 'text/plain' is not supported")
    assert not _same_without(pattern, old, None)


def test_a_dynamic_fork_s_task_definitions_lose_their_empty_collections() -> None:
    """A FORK_JOIN_DYNAMIC's FORK task takes its branches' workflow tasks as input
    (forkedTaskDefs): before 3.10.3 each carried its six collections, empty."""
    found = _by_path(_findings(LOCK_OFF / "netflix-3.8.3", "fork-join-dynamic"), "wf1.")
    collections = (
        "decisionCases",
        "defaultCase",
        "defaultExclusiveJoinTask",
        "forkTasks",
        "joinOn",
        "loopOver",
    )
    forked = {
        p: v
        for p, v in found.items()
        if ".forkedTaskDefs" in p and p.rsplit(".", 1)[1].startswith(collections)
    }
    assert len(forked) == 6
    assert set(forked.values()) == {("catalogued", "workflow-task-empty-collections-omitted")}


def test_a_workflow_output_that_carries_a_join_s_empty_copies_follows_from_them() -> None:
    """oss-e2e.context_concurrency_issue: the workflow's output is its JOIN's output; on
    3.8.3 that JOIN kept an empty copy of each branch task that had not ended
    (join-output-no-empty-copy), so the output holds them too, one key each."""
    findings = _findings(LOCK_OFF / "netflix-3.8.3", "oss-e2e.context_concurrency_issue")
    output = _by_path(findings, "wf1.output.")
    assert len(output) == 8
    assert set(output.values()) == {("consequence", "join-output-no-empty-copy")}
    assert not [f for f in findings if f.disposition == "open"]


def test_from_3_10_0_an_error_message_is_its_own_text() -> None:
    """The same five scenarios on 3.10.0 (the version bisect found first): no message that
    differs from 3.15.0's begins with a code, and the change is not reached."""
    for scenario in ERRORS:
        findings = _findings(LOCK_OFF / "netflix-3.10.0", scenario)
        ids = {(f.change or {}).get("id") for f in findings}
        assert "error-message-without-code" not in ids, scenario
        assert not [f for f in findings if f.disposition == "open"], scenario


def test_an_event_task_s_sink_left_in_the_definition_copy_until_3_10_5() -> None:
    """event-task: the asyncComplete EVENT task, scheduled after a worker's update, shows
    its sink and asyncComplete among its inputParameters in the workflow's copy of its
    definition on 3.9.2 and 3.10.1 (the decision saved the workflow once it had mapped the
    task), not on 3.10.5 or 3.15.0 (the decision went on in memory and saved nothing
    more)."""
    for older in ("netflix-3.9.2", "netflix-3.10.1"):
        found = _by_path(_findings(LOCK_OFF / older, "event-task"), "wf1.workflowDefinition.")
        injected = {p.rsplit(".", 1)[1]: v for p, v in found.items() if ".inputParameters." in p}
        assert injected == {
            "sink": ("catalogued", "event-task-parameters-left-in-definition"),
            "asyncComplete": ("catalogued", "event-task-parameters-left-in-definition"),
        }, older
    later = _findings(LOCK_OFF / "netflix-3.10.5", "event-task")
    assert not [f for f in later if ".inputParameters." in f.difference.path]


def test_a_queue_s_size_has_an_endpoint_of_its_own_from_3_8_1() -> None:
    """api-queue-admin with the profile's lock, the probes of the bisect that found it:
    GET /api/tasks/queue/size answers 404 on 3.5.2 and 3.8.0 and the queue's size from
    3.8.1; the answer's body follows from its status."""
    lock = NETFLIX_LINE / "lock"
    for older, newer in (("netflix-3.8.0", "netflix-3.8.1"), ("netflix-3.5.2", "netflix-3.8.1")):
        result = assess_run(
            load_trace_set(lock / older).restrict({"api-queue-admin"}),
            load_trace_set(lock / newer),
            library.settings(),
        )
        (found,) = result.scenarios
        kept = [f for f in found.findings if f.disposition != "noise"]
        sizes = [f for f in kept if "GET /api/tasks/queue/size #" in f.difference.path]
        assert sizes, (older, newer)
        assert {(f.change or {}).get("id") for f in sizes} == {"task-queue-size-endpoint"}
        (root,) = [f for f in sizes if f.disposition == "catalogued"]
        assert (root.difference.baseline, root.difference.candidate) == (404, 200)
    same = assess_run(
        load_trace_set(lock / "netflix-3.5.2").restrict({"api-queue-admin"}),
        load_trace_set(lock / "netflix-3.8.0"),
        library.settings(),
    )
    assert not [
        f for s in same.scenarios for f in s.findings if "queue/size #" in f.difference.path
    ]


def test_a_running_workflow_is_rerun_before_3_8_1_and_refused_after() -> None:
    """rerun-whole-workflow-and-errors on netflix 3.5.2 with the profile's lock (the whole
    library's gate): the rerun of a running workflow answers 200 and replaces its running
    WAIT with a new one, where 3.15.0 answers 409; the replaced WAIT and the new one are
    what that rerun did, and the scenario keeps nothing unexplained."""
    name = "rerun-whole-workflow-and-errors"
    found = _on_3_5_2(name)
    kept = [f for f in found.findings if f.disposition != "noise"]
    (root,) = [f for f in kept if f.difference.path.endswith('/rerun #1"].status')]
    assert (root.difference.baseline, root.difference.candidate) == (409, 200)
    assert (root.change or {}).get("id") == "rerun-running-workflow-refused"
    replaced = {f.difference.path: f for f in kept if f.difference.level == "tasks"}
    assert set(replaced) == {"wf2.gate#0", "wf2.gate#0~2"}
    assert {(f.change or {}).get("id") for f in replaced.values()} == {
        "rerun-running-workflow-refused"
    }
    assert not [f for f in kept if f.disposition == "open"]
    assert found.verdict == "action_required", found.reason


def test_a_dynamic_fork_s_fork_task_names_its_workflow_type_from_3_7() -> None:
    """fork-join-dynamic on netflix 3.5.2 with the profile's lock (the whole library's
    gate): the FORK task its FORK_JOIN_DYNAMIC scheduled has no workflowType and no
    startTime; 3.15.0's has both."""
    name = "fork-join-dynamic"
    found = _on_3_5_2(name)
    fork = {
        f.difference.path.rsplit(".", 1)[1]: (f.change or {}).get("id")
        for f in found.findings
        if f.difference.path.startswith("wf1.fanout#0.") and f.difference.level == "attempts"
    }
    assert fork["workflowType"] == fork["startTime"] == "dynamic-fork-task-common-fields"


def test_an_event_task_polled_by_the_system_task_worker_before_3_5_3() -> None:
    """event-task on netflix 3.5.2 with the profile's lock (the whole library's gate): its
    EVENT task was queued and polled by the system-task worker (pollCount 1); 3.15.0 runs
    it in the decision that schedules it (0)."""
    name = "event-task"
    found = _on_3_5_2(name)
    polls = [f for f in found.findings if f.difference.path.endswith(".pollCount")]
    assert polls
    assert {(f.change or {}).get("id") for f in polls} == {"event-task-runs-in-its-decision"}
    assert not [f for f in found.findings if f.gates]


def test_from_3_8_2_an_http_task_s_failure_text_quotes_the_response_body() -> None:
    """retry-http-system-task on 3.8.1 and 3.8.3 (lock off): "...: [BODY]" then
    "...: \"BODY\"", in the task's reason and output, the workflow's reason and output; each
    way, every difference is the change's and nothing else differs."""
    older, newer = (load_trace_set(LOCK_OFF / f"netflix-{v}") for v in ("3.8.1", "3.8.3"))
    only = {"retry-http-system-task"}
    for baseline, candidate in ((older, newer), (newer, older)):
        result = assess_run(baseline.restrict(only), candidate.restrict(only), library.settings())
        (found,) = result.scenarios
        kept = [f for f in found.findings if f.disposition != "noise"]
        assert {f.difference.path for f in kept} == {
            "wf1.reasonForIncompletion",
            "wf1.call_unstable#0.reasonForIncompletion",
            "wf1.call_unstable#0.outputData.response",
            "wf1.output.response",
        }
        assert {(f.change or {}).get("id") for f in kept} == {"http-task-error-text-spring-5-3"}
        assert found.verdict == "compatible"  # cosmetic: nothing to act on
    (reason,) = [
        f
        for f in assess_run(older.restrict(only), newer.restrict(only), library.settings())
        .scenarios[0]
        .findings
        if f.difference.path == "wf1.call_unstable#0.outputData.response"
    ]
    assert str(reason.difference.baseline).endswith(': [{"error":"always down"}]')
    assert str(reason.difference.candidate).endswith(': "{"error":"always down"}"')
