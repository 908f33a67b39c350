"""What checking a run's traces and its report against their schemas costs, with
jsonschema alone and with the compiled validator that answers first
(``harness.schemas.schema_errors``).

A compare checks every trace when it writes it and again when it reads it back to
assess, and report.json once, at the end, after the runs. Measured on the library's
committed traces, recorded on real servers: netflix:3.15.0 (fixtures/baselines) and a
candidate (fixtures/library), and the report of their assessment. Reported: CPU seconds of
each check both ways (the median of --repeats), and their ratio.

    .venv/bin/python benchmarks/schema_check.py --candidate oss-3.32.1 --repeats 3
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from figures import publish  # noqa: E402

from harness.classify import assess_run, load_settings  # noqa: E402
from harness.report.document import build_report  # noqa: E402
from harness.schemas import schema_errors, validator  # noqa: E402
from harness.traces import load_trace_set  # noqa: E402
from tests.unit.traces import library_traces  # noqa: E402

BASELINE = ROOT / "fixtures" / "baselines" / "netflix-3.15.0"


def _documents(candidate: str) -> tuple[list[Any], dict[str, Any]]:
    folders = [BASELINE, Path(library_traces(candidate))]
    traces = [json.loads(p.read_text()) for f in folders for p in sorted(f.glob("*.trace.json"))]
    baseline, recorded = load_trace_set(folders[0]), load_trace_set(folders[1])
    names = sorted(set(baseline.runs) & set(recorded.runs))
    report = build_report(assess_run(baseline, recorded, load_settings(), names=names))
    return traces, report


def _cpu(check: Callable[[str, Any], object], name: str, documents: list[Any]) -> float:
    began = time.process_time()
    for document in documents:
        check(name, document)
    return time.process_time() - began


def _jsonschema(name: str, document: Any) -> object:
    return list(validator(name).iter_errors(document))


def measure(candidate: str, repeats: int) -> dict[str, Any]:
    traces, report = _documents(candidate)
    out: dict[str, Any] = {"trace_files": len(traces), "report_mb": len(json.dumps(report)) >> 20}
    for label, name, documents in (("traces", "trace", traces), ("report", "report", [report])):
        _cpu(schema_errors, name, documents[:1])  # warm: compile once
        slow = [_cpu(_jsonschema, name, documents) for _ in range(repeats)]
        fast = [_cpu(schema_errors, name, documents) for _ in range(repeats)]
        row = {
            "jsonschema_cpu_s": round(statistics.median(slow), 3),
            "compiled_first_cpu_s": round(statistics.median(fast), 3),
        }
        row["ratio"] = round(row["compiled_first_cpu_s"] / row["jsonschema_cpu_s"], 3)
        out[label] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidate", default="oss-3.32.1")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, help="write the figures here as JSON")
    args = parser.parse_args()
    figures = {
        "date": datetime.date.today().isoformat(),
        "candidate": args.candidate,
        "repeats": args.repeats,
        **measure(args.candidate, args.repeats),
    }
    publish(figures, args.out, indent=2)


if __name__ == "__main__":
    main()
