"""Write every report of a run: report.json first (validated), then the views built from it.

Each writer reads the report.json document and nothing else, so a report can be
rendered again later from the JSON alone (``write_reports(dir, json.load(...))``).
Every file is written atomically: a report on disk is always whole.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from harness.report.document import write_report
from harness.report.html import render_html
from harness.report.junit import render_junit
from harness.report.markdown import render_markdown

VIEWS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "report.md": render_markdown,
    "report.html": render_html,
    "junit.xml": render_junit,
}


def write_text(path: Path, text: str) -> Path:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return path


def write_reports(out_dir: Path, report: dict[str, Any]) -> dict[str, Path]:
    """report.json, report.md, report.html and junit.xml in ``out_dir``; name -> path."""
    written = {"report.json": write_report(out_dir, report)}
    for name, render in VIEWS.items():
        written[name] = write_text(out_dir / name, render(report))
    return written
