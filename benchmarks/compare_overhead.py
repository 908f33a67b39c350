"""Benchmark: the whole default compare against the slowest single-target run, and the
harness's own cost per task.

    .venv/bin/python benchmarks/compare_overhead.py [--repeats 3] [--out FILE.json]

Each repeat runs, as a user would (the real command, server start included):

- ``conductor-compat compare`` with no target options: netflix:3.15.0 (two runs of each
  scenario) against the recommended conductor-oss version, re-checks and reports included;
- ``conductor-compat run`` of the same scenarios on each target alone, with the runs that
  compare makes there (``--repeats 2`` on the baseline, 1 on the candidate).

The figure that matters is the ratio of compare's wall time to the slowest single-target
run (the issue's aim: at most 1.3). CPU seconds (the harness and its servers) are
recorded too: on a machine with few cores, compare is bound by the CPU its servers need.
Per task, from compare's traces: the time from a worker task being scheduled (the
server's scheduledTime) to the simulated worker receiving it, and from receiving it to
the server answering the worker's update.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from figures import publish

from harness.traces import read_trace, trace_files

ROOT = Path(__file__).resolve().parents[1]
BASELINE, CANDIDATE = "netflix:3.15.0", "oss:3.32.1"


CPU: dict[str, list[float]] = {}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(args: list[str], key: str) -> float:
    """Wall seconds of one command; its CPU seconds (harness and servers) go to CPU[key]."""
    began, cpu = time.monotonic(), _children_cpu()
    proc = subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{args[0]} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    CPU.setdefault(key, []).append(round(_children_cpu() - cpu, 1))
    return round(time.monotonic() - began, 2)


def per_task(folder: Path) -> dict[str, list[float]]:
    """Pick-up and receipt-to-update times (ms) of every worker task in a run's traces."""
    pickup: list[float] = []
    update: list[float] = []
    for path in trace_files(folder / "traces"):
        trace = read_trace(path)
        answered: dict[str, float] = {}
        for exchange in trace["exchanges"]:
            body = exchange.get("request_body")
            if (
                exchange.get("origin") == "worker"
                and exchange["method"] == "POST"
                and isinstance(body, dict)
                and "taskId" in body
            ):
                done = exchange["at_s"] * 1000 + (exchange.get("elapsed_ms") or 0)
                answered[body["taskId"]] = done
        for worker in trace["workers"]:
            if worker.get("scheduled_to_poll_ms") is not None:
                pickup.append(float(worker["scheduled_to_poll_ms"]))
            if worker["task_id"] in answered:
                update.append(answered[worker["task_id"]] - worker["at_s"] * 1000)
    return {"pickup_ms": pickup, "receipt_to_update_ms": update}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    library = str(ROOT / "scenarios")
    times: dict[str, list[float]] = {"compare": [], BASELINE: [], CANDIDATE: []}
    tasks: dict[str, list[float]] = {"pickup_ms": [], "receipt_to_update_ms": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            folder = Path(tmp) / f"compare-{r}"
            times["compare"].append(timed(["compare", "--quiet", "--out", str(folder)], "compare"))
            for key, values in per_task(folder).items():
                tasks[key] += values
            for target, repeats in ((BASELINE, 2), (CANDIDATE, 1)):
                out = Path(tmp) / f"{target.replace(':', '-')}-{r}"
                times[target].append(
                    timed(
                        [
                            "run",
                            "--target",
                            target,
                            "--repeats",
                            str(repeats),
                            "--out",
                            str(out),
                            library,
                        ],
                        target,
                    )
                )
            print(f"repeat {r + 1}: " + ", ".join(f"{k} {v[-1]} s" for k, v in times.items()))
    medians = {k: statistics.median(v) for k, v in times.items()}
    slowest = max(medians[BASELINE], medians[CANDIDATE])
    result: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "repeats": args.repeats,
        "seconds": times,
        "median_s": medians,
        "compare_over_slowest_single": round(medians["compare"] / slowest, 2),
        "compare_over_sum_of_singles": round(
            medians["compare"] / (medians[BASELINE] + medians[CANDIDATE]), 2
        ),
        "cpu_s": CPU,
        "median_cpu_s": {k: statistics.median(v) for k, v in CPU.items()},
        "per_task": {
            key: {
                "tasks": len(values),
                "median": round(statistics.median(values), 1),
                "p90": round(statistics.quantiles(values, n=10)[-1], 1),
            }
            for key, values in tasks.items()
            if len(values) > 1
        },
    }
    publish(result, args.out)


if __name__ == "__main__":
    main()
