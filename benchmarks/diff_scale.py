"""How normalizing and diffing grow with the size of a trace.

Builds, from two traces recorded on real servers (netflix:3.15.0 and oss:3.32.1, the
same scenario), a pair whose final snapshot holds N tasks: the recorded tasks repeated
with fresh ids, references and seq numbers, so that every field has real server values.
Each size runs in a fresh process; reported: seconds to scrub both traces, build the
views and diff them (median of --repeats), and the process's peak RSS.

    .venv/bin/python benchmarks/diff_scale.py --sizes 1000 2000 5000 10000 --repeats 3
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
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
    from harness.compare import build_view, diff_views
    from harness.normalize import load_spec, scrub_trace

    spec = load_spec()
    left, right = grown("netflix-3.15.0", size), grown("oss-3.32.1", size)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds, found = [], 0
    for _ in range(repeats):
        began = time.perf_counter()
        a = build_view(scrub_trace(left, spec).trace)
        b = build_view(scrub_trace(right, spec).trace)
        found = len(diff_views(a, b))
        seconds.append(time.perf_counter() - began)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "tasks": size,
        "seconds": round(statistics.median(seconds), 3),
        "peak_rss_mb": round(peak / 1024, 1),
        "rss_growth_mb": round((peak - before) / 1024, 1),
        "differences": found,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 5000, 10000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.repeats)))
        return 0
    rows = []
    for size in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(size), "--repeats", str(args.repeats)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout
        rows.append(json.loads(out))
        print(json.dumps(rows[-1]), flush=True)
    base = rows[0]
    for row in rows:
        row["time_ratio"] = round(row["seconds"] / base["seconds"], 2)
        row["size_ratio"] = round(row["tasks"] / base["tasks"], 2)
    stamp = datetime.date.today().isoformat()
    target = ROOT / "benchmarks" / f"diff_scale.{stamp}.json"
    target.write_text(json.dumps({"scenario": SCENARIO, "rows": rows}, indent=1) + "\n")
    print(f"written {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
