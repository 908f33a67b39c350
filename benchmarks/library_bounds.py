"""What bounds a whole-library compare, read from the recorded library (no server).

For each recorded target (the netflix:3.15.0 baselines and the conductor-oss library
archives under fixtures/): how many scenarios, the sum of their median run times, that sum
spread over ``--jobs`` runs at once (the least wall time their waiting allows, each run
counted as often as compare plays it: twice on the baseline, once on a candidate), and
the longest scenarios, which no amount of parallelism shortens.

    .venv/bin/python benchmarks/library_bounds.py [--jobs 8] [--top 8]

The run times were recorded with 8 scenarios at a time on a 2-core machine, so they hold
the waiting on busy servers too; the servers' CPU is the other bound (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "fixtures" / "baselines" / "netflix-3.15.0"
LIBRARY = ROOT / "fixtures" / "library"


def _traces() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted(BASELINE.glob("*.json")):
        yield "netflix:3.15.0", json.loads(path.read_text(encoding="utf-8"))
    for archive in sorted(LIBRARY.glob("*.tar.xz")):
        target = archive.name.removesuffix(".tar.xz").replace("-", ":", 1)
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                handle = tar.extractfile(member) if member.name.endswith(".json") else None
                if handle is not None:
                    yield target, json.loads(handle.read())


def bounds(jobs: int, top: int) -> dict[str, Any]:
    times: dict[str, dict[str, list[float]]] = {}
    for target, trace in _traces():
        if "scenario" not in trace or "timings" not in trace:
            continue
        name = trace["scenario"]["name"]
        seconds = float(trace["timings"].get("total_s") or 0.0)
        times.setdefault(target, {}).setdefault(name, []).append(seconds)
    out: dict[str, Any] = {}
    for target, by_name in sorted(times.items()):
        medians = {name: statistics.median(v) for name, v in by_name.items()}
        total = sum(medians.values())
        plays = 2 if target == "netflix:3.15.0" else 1  # compare's default runs
        longest = sorted(medians.items(), key=lambda kv: -kv[1])[:top]
        out[target] = {
            "scenarios": len(medians),
            "sum_of_medians_s": round(total, 1),
            "plays": plays,
            "spread_over_jobs_s": round(total * plays / jobs, 1),
            "longest": [{"scenario": n, "median_s": round(s, 1)} for n, s in longest],
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=8, help="runs at once (compare's default)")
    parser.add_argument("--top", type=int, default=8, help="how many of the longest to list")
    args = parser.parse_args()
    result = bounds(args.jobs, args.top)
    for target, b in result.items():
        print(
            f"{target}: {b['scenarios']} scenarios, sum of medians {b['sum_of_medians_s']} s, "
            f"x{b['plays']} / {args.jobs} jobs = {b['spread_over_jobs_s']} s"
        )
        for entry in b["longest"]:
            print(f"  {entry['median_s']:6.1f} s  {entry['scenario']}")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
