"""The release matrix site, over the reports published from real runs (reports/published)."""

from __future__ import annotations

import json
import lzma
import re
import shutil
from pathlib import Path

from harness.cli import main
from harness.report.site import collect, latest_by_version, render_matrix, write_site

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "reports" / "published"
COMPARE = "2026-12-03-netflix-3.15.0-vs-oss-3.21.14-and-oss-3.32.1"


def _report(folder: str) -> dict:  # type: ignore[type-arg]
    with lzma.open(PUBLISHED / folder / "report.json.xz", "rt", encoding="utf-8") as stream:
        data: dict = json.load(stream)  # type: ignore[type-arg]
    return data


def test_every_published_folder_is_listed_newest_first() -> None:
    published = collect(PUBLISHED)
    folders = {p.name for p in PUBLISHED.iterdir() if p.is_dir()}
    assert {p.folder for p in published} == folders
    assert [p.created for p in published] == sorted((p.created for p in published), reverse=True)


def test_the_matrix_counts_what_each_change_explained_in_each_version() -> None:
    published = collect(PUBLISHED)
    chosen = latest_by_version(published, "netflix:3.15.0")
    assert {"oss:3.21.14", "oss:3.32.1"} <= set(chosen)
    assert not [v for v in chosen if "→" in v]  # upgrade and client runs are not columns
    assert {p.kind for p in published} >= {"compare", "upgrade", "clients"}
    page = render_matrix(published, "netflix:3.15.0")
    report = _report(COMPARE)
    for comparison in report["comparisons"]:
        target = comparison["candidate"]["target"]
        if chosen[target][0].folder != COMPARE:
            continue  # a newer comparison of this version is the one shown
        column = list(chosen).index(target)
        for change in comparison["changes"]:
            row = re.search(rf">{re.escape(change['id'])}</a>.*?</tr>", page)
            assert row, change["id"]
            cells = re.findall(r'<td class="c">([^<]*)</td>', row.group(0))
            assert cells[column] == (str(change["findings"]) if change["findings"] else "")


def test_the_pages_are_self_contained_and_escape_what_reports_say(tmp_path: Path) -> None:
    folder = tmp_path / "published"
    shutil.copytree(PUBLISHED / COMPARE, folder / COMPARE)
    report = _report(COMPARE)
    report["comparisons"][0]["scenarios"][0]["name"] = "<script>alert(1)</script>"
    (folder / COMPARE / "report.json.xz").unlink()
    (folder / COMPARE / "report.json").write_text(json.dumps(report))
    files = write_site(folder, "netflix:3.15.0")
    for path in files.values():
        page = path.read_text()
        assert "<script" not in page and " src=" not in page and "<link" not in page
        assert "default-src 'none'" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in files["matrix.html"].read_text()


def test_site_writes_both_pages(tmp_path: Path, capsys: object) -> None:
    assert main(["site", "--published", str(tmp_path / "none")]) == 2
    shutil.copytree(PUBLISHED / COMPARE, tmp_path / COMPARE)
    assert main(["site", "--published", str(tmp_path)]) == 0
    assert (tmp_path / "index.html").is_file() and (tmp_path / "matrix.html").is_file()


def test_a_version_run_with_other_server_settings_is_a_column_of_its_own(tmp_path: Path) -> None:
    """A gate of the same version with the team's own settings (--server-property) does
    not replace the version's column: it is shown beside it, its settings under its name."""
    gate = max(p for p in PUBLISHED.iterdir() if p.name.endswith("-vs-netflix-3.9.2"))
    folder = tmp_path / "published"
    shutil.copytree(gate, folder / gate.name)
    report = _report(gate.name)
    setting = "conductor.app.workflow-execution-lock-enabled=false"
    report["comparisons"][0]["candidate"]["profile"] = f"embedded + {setting}"
    report["created_at"] = "2099-01-01T00:00:00+00:00"
    settled = folder / f"{gate.name}-settings"
    settled.mkdir()
    (settled / "report.json").write_text(json.dumps(report))
    chosen = latest_by_version(collect(folder), "netflix:3.15.0")
    assert list(chosen) == ["netflix:3.9.2", f"netflix:3.9.2 + {setting}"]
    assert chosen["netflix:3.9.2"][0].folder == gate.name
    page = render_matrix(collect(folder), "netflix:3.15.0")
    assert f'netflix:3.9.2<br><span class="muted">{setting}</span>' in page
