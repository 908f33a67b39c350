"""A server thread that never stops is found, and the runs that ended beside it say so:
on samples of real servers' threads (fixtures/threads/) and traces recorded from a real
netflix:3.10.7 whose DO_WHILE decision never ended."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.classify import assess_run, load_settings
from harness.classify.runaways import runaway_notices
from harness.compare.views import build_view
from harness.runner.liveness import mark_runaways
from harness.runner.runaway import Runaway, ThreadWatch
from harness.targets.threads import container_threads, parse_stat, process_threads
from harness.traces import load_trace_set

ROOT = Path(__file__).resolve().parents[2]
THREADS = ROOT / "fixtures" / "threads"
ENDLESS = "oss-e2e.do-while-set-variable-fix"


def _watch(name: str) -> ThreadWatch:
    watch = ThreadWatch()
    for sample in json.loads((THREADS / name).read_text())["samples"]:
        threads = {int(tid): (n, float(cpu)) for tid, (n, cpu) in sample["threads"].items()}
        watch.add(sample["at_s"], sample["wall"], threads)
    return watch


def test_the_threads_of_an_endless_decision_are_found_from_about_when_they_began() -> None:
    # netflix:3.11.3, the lock off: the first start call (23:58:37) never answered; the
    # sweeper met its workflow 30 s later (the decider queue's offset)
    found = _watch("netflix-3.11.3-lock-off-endless-do-while.json").runaways()
    assert [(r.thread, r.since) for r in found[:2]] == [
        ("http-nio-127.0.0.1-34983-exec-4", "2026-12-06T23:58:37Z"),
        ("sweeper-thread-1", "2026-12-06T23:59:06Z"),
    ]
    assert all(r.cpu_s > 40 for r in found)
    assert not [r for r in found if r.thread.startswith(("C1 ", "VM ", "DestroyJavaVM"))]


def test_a_server_under_the_whole_library_has_no_runaway() -> None:
    # netflix:3.15.0 running all 171 scenarios 8 at a time: its busiest thread of its own
    # used 3% of a CPU over 20 s, the JIT's more, and neither is one
    assert _watch("netflix-3.15.0-whole-library.json").runaways() == []


def test_a_thread_found_stays_found_with_the_cpu_it_used_since() -> None:
    watch = ThreadWatch(window_s=4.0, share=0.5)
    for second in range(0, 11, 2):
        watch.add(float(second), f"t{second:02d}", {7: ("sweeper-thread-", 0.9 * second)})
    (found,) = watch.runaways()
    assert found == Runaway("sweeper-thread-", "t00", 9.0, found="t04")  # the first full window
    watch.add(12.0, "t12", {})  # the server stopped: what it used stays
    assert watch.runaways() == [found]


def test_a_stat_line_of_the_kernel_gives_the_name_and_the_cpu_seconds() -> None:
    line = json.loads((THREADS / "netflix-3.15.0-whole-library.json").read_text())["stat_line"]
    name, cpu = parse_stat(line) or ("", -1.0)
    assert name == "java" and cpu >= 0
    assert parse_stat("12 (a) b) S 1 2 3 4 5 6 7 8 9 10 300 200 0 0") == ("a) b", 5.0)
    assert parse_stat("garbage") is None
    assert parse_stat("12 (a) S 1 2 3 4 5 6 7 8 9 10 x y 0 0") is None


def test_the_probe_of_a_process_reads_its_threads_and_nothing_once_it_is_gone() -> None:
    import os

    mine = process_threads(os.getpid())()
    assert mine and all(cpu >= 0 for _, cpu in mine.values())
    assert process_threads(2**22 + 1)() == {}


def test_a_container_is_probed_only_when_its_process_is_in_its_cgroup(tmp_path: Path) -> None:
    """The id an engine gives for a container's main process names it here only when the
    engine runs on this machine: its cgroup must name the container, else no probe."""
    container = "4f" * 32
    pid = tmp_path / "4242"
    (pid / "task" / "4242").mkdir(parents=True)
    (pid / "task" / "4242" / "stat").write_text("4242 (java) S 1 2 3 4 5 6 7 8 9 10 300 200 0 0")
    (pid / "task" / "4250").mkdir()
    (pid / "task" / "4250" / "stat").write_text(
        "4250 (sweeper-thread-) R 1 2 3 4 5 6 7 8 9 10 700 100 0 0"
    )
    (pid / "cgroup").write_text(f"0::/system.slice/docker-{container}.scope\n")
    probe = container_threads(4242, container, proc=tmp_path)
    assert probe is not None
    assert probe() == {4242: ("java", 5.0), 4250: ("sweeper-thread-", 8.0)}
    (pid / "cgroup").write_text("0::/user.slice/user-0.slice/session-1.scope\n")
    assert container_threads(4242, container, proc=tmp_path) is None  # another process
    assert container_threads(4243, container, proc=tmp_path) is None  # none here
    assert container_threads(0, container, proc=tmp_path) is None  # the engine gave none


def _traces() -> Any:
    return load_trace_set(THREADS / "traces-netflix-3.10.7-lock-off")


def test_the_runs_that_ended_beside_a_runaway_are_named_in_one_notice() -> None:
    (notice,) = runaway_notices(_traces(), "netflix:3.10.7")
    assert notice.startswith("on netflix:3.10.7, server threads ran without pause")
    assert "'http-nio-127.0.' from 2026-12-07T00:02:53Z" in notice
    assert f"3 runs of 1 scenario ended after that was found ({ENDLESS})" in notice


def test_the_report_carries_it_for_the_side_that_had_it() -> None:
    traces = _traces()
    result = assess_run(traces, traces, load_settings(), names=[ENDLESS, "sub-workflow"])
    sides = [n.split(",")[0] for n in result.notices if "without pause" in n]
    assert sides == ["on the baseline", "on netflix:3.10.7"]


def test_a_run_with_no_runaway_keeps_its_outcome_as_it_was() -> None:
    trace: dict[str, Any] = {"outcome": {"status": "completed", "reason": None}}
    mark_runaways(trace, [])
    assert trace == {"outcome": {"status": "completed", "reason": None}}
    mark_runaways(trace, [Runaway("sweeper-thread-", "t", 1.04)])
    assert trace["outcome"]["runaway_threads"] == [
        {"thread": "sweeper-thread-", "since": "t", "cpu_s": 1.0}
    ]


def test_a_run_that_spun_a_thread_alone_is_named_as_the_cause() -> None:
    traces = load_trace_set(THREADS / "traces-netflix-3.10.7-lock-off-restarted")
    (notice,) = runaway_notices(traces, "netflix:3.10.7")
    assert notice.startswith(f"on netflix:3.10.7, {ENDLESS}, played alone on a server")
    assert "('http-nio-127.0.'): a decision that never ends, this scenario's own" in notice
    assert "fork-join" not in notice


def test_a_run_that_kept_a_thread_running_alone_says_so_to_the_catalog() -> None:
    """The view the catalog's clauses read (`scenario.runaway`): true for a run of the
    endless DO_WHILE played alone on netflix 3.10.7 (the thread it started ran without
    pause), false for netflix 3.15.0's run of it, which completed."""
    line = ROOT / "fixtures" / "netflix-line" / "lock" / "netflix-3.10.7"
    alone = json.loads((line / f"{ENDLESS}.trace.json").read_text())
    assert build_view(alone).runaway is True
    baseline = ROOT / "fixtures" / "baselines" / "netflix-3.15.0" / f"{ENDLESS}.trace.json"
    assert build_view(json.loads(baseline.read_text())).runaway is False
