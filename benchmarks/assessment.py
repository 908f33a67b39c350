"""What a run's second assessment costs when it shares the first one's scrubbed views.

A compare or gate assesses a candidate twice: once to choose the scenarios to re-check
(``recheck_candidates``) and once at the end (``assess_all``), when only the re-checked
scenarios have new runs. Both read their traces from disk again; with ``Views(by_file=True)``
(what ``Roles`` holds) the second finds every unchanged trace already scrubbed.

Measured on the library's committed traces, recorded on real servers: netflix:3.15.0
(fixtures/baselines, two runs each) against a candidate (fixtures/library, two runs each),
each trace set read from disk for each assessment, as the pipeline does. Reported: CPU
seconds of the first assessment, of a second one sharing its views, and of a second one
with views of its own (the median of --repeats each), and their ratio.

    .venv/bin/python benchmarks/assessment.py --candidate oss-3.32.1 --repeats 3
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from figures import publish  # noqa: E402

from harness.classify import assess_run, load_settings  # noqa: E402
from harness.classify.assess import Views  # noqa: E402
from harness.traces import load_trace_set  # noqa: E402
from tests.unit.traces import library_traces  # noqa: E402

BASELINE = ROOT / "fixtures" / "baselines" / "netflix-3.15.0"


def _assess(candidate: Path, views: Views) -> float:
    baseline, recorded = load_trace_set(BASELINE), load_trace_set(candidate)
    names = sorted(set(baseline.runs) & set(recorded.runs))
    began = time.process_time()
    assess_run(baseline, recorded, load_settings(), names=names, views=views)
    return time.process_time() - began


def measure(candidate: str, repeats: int) -> dict[str, Any]:
    folder = Path(library_traces(candidate))
    _assess(folder, Views())  # warm: imports, schema checks of every file
    first, shared, alone = [], [], []
    for _ in range(repeats):
        views = Views(by_file=True)
        first.append(_assess(folder, views))
        shared.append(_assess(folder, views))
        alone.append(_assess(folder, Views(by_file=True)))
    row = {
        "first_cpu_s": round(statistics.median(first), 2),
        "second_shared_cpu_s": round(statistics.median(shared), 2),
        "second_alone_cpu_s": round(statistics.median(alone), 2),
    }
    row["shared_over_alone"] = round(row["second_shared_cpu_s"] / row["second_alone_cpu_s"], 2)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidate", default="oss-3.32.1", help="fixtures/library's target")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, help="also write the figures here (JSON)")
    args = parser.parse_args()
    result = {
        "benchmark": "assessment",
        "date": datetime.date.today().isoformat(),
        "candidate": args.candidate,
        "repeats": args.repeats,
        **measure(args.candidate, args.repeats),
    }
    publish(result, args.out)


if __name__ == "__main__":
    main()
