"""How normalizing and diffing grow with the size of a trace.

Builds, from two traces recorded on real servers (netflix:3.15.0 and oss:3.32.1, the
same scenario), a pair whose final snapshot holds N tasks: the recorded tasks repeated
with fresh ids, references and seq numbers, so that every field has real server values.
Each size runs in a fresh process; reported: seconds to scrub both traces, build the
views and diff them (median of --repeats; and of each of the three), and the process's
peak RSS.

    .venv/bin/python benchmarks/diff_scale.py --sizes 1000 2000 5000 10000 --repeats 3

With ``--against DIR`` (another checkout, e.g. ``git worktree add /tmp/diff-head HEAD``),
each size also runs with that checkout's code (this script, ``PYTHONPATH=DIR``),
alternating one process with this code and one with that (so that a busy machine slows
both alike); each row then has the other code's figures under ``before``, and
``speedup``: its seconds over these (wall clock, and CPU: ``cpu_speedup``).
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from harness.traces import read_trace, trace_path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "fixtures" / "traces"
SCENARIO = "retry-fail-twice-then-succeed"


def grown(version: str, size: int) -> dict[str, Any]:
    trace = read_trace(trace_path(SOURCE / version, SCENARIO))
    document = trace["steps"][-1]["snapshots"][0]
    recorded = document["tasks"]
    tasks = []
    for i in range(size):
        task = copy.deepcopy(recorded[i % len(recorded)])
        task["taskId"] = str(uuid.UUID(int=i + 1, version=4))
        task["referenceTaskName"] = f"t{i}"
        task["seq"] = i + 1
        tasks.append(task)
    document["tasks"] = tasks
    return trace


def measure(size: int, repeats: int) -> dict[str, Any]:
    import harness
    from harness.compare import build_view, diff_views
    from harness.normalize import load_spec, scrub_trace

    spec = load_spec()
    left, right = grown("netflix-3.15.0", size), grown("oss-3.32.1", size)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds, cpu, found = [], [], 0
    split: dict[str, list[float]] = {"scrub": [], "views": [], "diff": []}
    for _ in range(repeats):
        began, began_cpu = time.perf_counter(), time.process_time()
        scrubbed = scrub_trace(left, spec).trace, scrub_trace(right, spec).trace
        scrubbed_at = time.perf_counter()
        a, b = build_view(scrubbed[0]), build_view(scrubbed[1])
        viewed_at = time.perf_counter()
        found = len(diff_views(a, b))
        ended = time.perf_counter()
        seconds.append(ended - began)
        cpu.append(time.process_time() - began_cpu)
        split["scrub"].append(scrubbed_at - began)
        split["views"].append(viewed_at - scrubbed_at)
        split["diff"].append(ended - viewed_at)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "tasks": size,
        "seconds": round(statistics.median(seconds), 3),
        "cpu_seconds": round(statistics.median(cpu), 3),
        "split_seconds": {k: round(statistics.median(v), 3) for k, v in split.items()},
        "peak_rss_mb": round(peak / 1024, 1),
        "rss_growth_mb": round((peak - before) / 1024, 1),
        "differences": found,
        "code": str(Path(harness.__file__).parents[1]),  # the checkout measured
    }


def run_one(root: Path, size: int, repeats: int) -> dict[str, Any]:
    """One fresh process measuring ``size``: this script, with the code of checkout ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run(
        [sys.executable, __file__, "--one", str(size), "--repeats", str(repeats)],
        check=True,
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
    ).stdout
    row: dict[str, Any] = json.loads(out)
    return row


def side_by_side(against: Path, size: int, repeats: int) -> dict[str, Any]:
    """``size`` measured here and in ``against``, one run each in turn, ``repeats`` times."""
    here: list[dict[str, Any]] = []
    there: list[dict[str, Any]] = []
    for _ in range(repeats):
        there.append(run_one(against, size, 1))
        here.append(run_one(ROOT, size, 1))
    row, before = _merged(here), _merged(there)
    row["before"] = before
    row["speedup"] = round(before["seconds"] / row["seconds"], 2)
    row["cpu_speedup"] = round(before["cpu_seconds"] / row["cpu_seconds"], 2)
    return row


def _merged(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Runs of one size: the median time, the highest RSS."""
    return {
        "tasks": runs[0]["tasks"],
        "seconds": round(statistics.median(r["seconds"] for r in runs), 3),
        "cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in runs), 3),
        "runs": [r["seconds"] for r in runs],
        "split_runs": [r.get("split_seconds") for r in runs],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "rss_growth_mb": max(r["rss_growth_mb"] for r in runs),
        "differences": runs[0]["differences"],
        "code": runs[0]["code"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 5000, 10000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another checkout to time side by side")
    parser.add_argument(
        "--output", type=Path, help="where the figures go (default: diff_scale.DATE.json here)"
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.repeats)))
        return 0
    rows = []
    for size in args.sizes:
        if args.against:
            rows.append(side_by_side(args.against.resolve(), size, args.repeats))
        else:
            rows.append(run_one(ROOT, size, args.repeats))
        print(json.dumps(rows[-1]), flush=True)
    base = rows[0]
    for row in rows:
        row["time_ratio"] = round(row["seconds"] / base["seconds"], 2)
        row["size_ratio"] = round(row["tasks"] / base["tasks"], 2)
    stamp = datetime.date.today().isoformat()
    target = args.output or ROOT / "benchmarks" / f"diff_scale.{stamp}.json"
    document: dict[str, Any] = {"scenario": SCENARIO, "rows": rows}
    if args.against:
        document["note"] = (
            "seconds (wall), cpu_seconds: medians of --repeats fresh processes; before: "
            "the same with the code of --against, one process with each code in turn"
        )
    target.write_text(json.dumps(document, indent=1) + "\n")
    print(f"written {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
