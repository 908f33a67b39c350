"""Reports: report.json (the single source), and the writers for people built from it.

>>> write_report(out_dir, build_report(run_result))
"""

from __future__ import annotations

from harness.report.document import (
    REPORT_FILE,
    ReportInvalid,
    build_report,
    report_errors,
    write_report,
)

__all__ = ["REPORT_FILE", "ReportInvalid", "build_report", "report_errors", "write_report"]
