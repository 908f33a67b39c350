"""Reports: report.json (the single source), and the writers for people and CI built from it.

>>> write_reports(out_dir, build_report([run_result]))   # report.json, .md, .html, junit.xml
"""

from __future__ import annotations

from harness.report.document import (
    REPORT_FILE,
    ReportInvalid,
    build_report,
    report_errors,
    write_report,
)
from harness.report.html import render_html
from harness.report.junit import render_junit
from harness.report.markdown import render_markdown
from harness.report.writers import write_reports

__all__ = [
    "REPORT_FILE",
    "ReportInvalid",
    "build_report",
    "render_html",
    "render_junit",
    "render_markdown",
    "report_errors",
    "write_report",
    "write_reports",
]
