"""Benchmark: the scenario library on one target, one scenario at a time versus several.

    .venv/bin/python benchmarks/run_concurrency.py [--repeats 3] [--jobs 1 4 8] [--out FILE.json]
        [--scenarios DIR]

Each version is started once (embedded profile); then the whole library under
scenarios/ runs with each --jobs value, ``repeats`` times, on that server. Times are
wall seconds for the library (server start excluded), medians over the repeats; the
speed-up divides the jobs=1 median by each median, which the machine's noise blurs
less than absolute seconds. Also reported: the median time from a worker task being
scheduled to the simulated worker receiving it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

from harness.runner import run_session
from harness.scenarios import require_valid
from harness.targets import get_profile, parse_target, provision
from harness.traces import read_trace, trace_files

VERSIONS = ["netflix:3.15.0", "oss:3.21.14", "oss:3.32.1"]
ROOT = Path(__file__).resolve().parents[1]


async def bench(version: str, jobs: list[int], repeats: int, folder: Path) -> dict[str, Any]:
    scenarios = require_valid([folder])
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        async with provision(
            [parse_target(version)], profile=get_profile("embedded"), workdir=work / "server"
        ) as (target,):
            times: dict[int, list[float]] = {j: [] for j in jobs}
            pickup: list[float] = []
            for r in range(repeats):
                for j in jobs:
                    out = work / f"{j}-{r}"
                    summary = await run_session(scenarios, target, out, jobs=j)
                    assert summary.count("completed") == len(scenarios), summary
                    times[j].append(summary.seconds)
                    for path in trace_files(out):
                        pickup += [
                            w["scheduled_to_poll_ms"]
                            for w in read_trace(path)["workers"]
                            if w["scheduled_to_poll_ms"] is not None
                        ]
    medians = {j: statistics.median(t) for j, t in times.items()}
    base = medians[jobs[0]]
    return {
        "version": version,
        "scenarios": len(scenarios),
        "seconds": times,
        "median_s": medians,
        "speedup": {j: round(base / m, 2) for j, m in medians.items()},
        "scheduled_to_poll_ms_median": round(statistics.median(pickup), 1) if pickup else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--scenarios", type=Path, default=ROOT / "scenarios")
    args = parser.parse_args()
    results = [asyncio.run(bench(v, args.jobs, args.repeats, args.scenarios)) for v in VERSIONS]
    for r in results:
        cells = "  ".join(
            f"jobs={j}: {m:.1f} s (x{r['speedup'][j]})" for j, m in r["median_s"].items()
        )
        print(
            f"{r['version']:16} {r['scenarios']} scenarios  {cells}  "
            f"pick-up {r['scheduled_to_poll_ms_median']} ms"
        )
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
