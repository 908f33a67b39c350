"""report.html: self-contained, every report string escaped, and its script works in a browser.

The reports are built from the traces recorded on real servers (fixtures/runs); the browser
checks run Debian's headless chromium on the written page.
"""

from __future__ import annotations

import contextlib
import copy
import html
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from harness.classify import assess_run, load_settings
from harness.report import build_report
from harness.report.html import content_policy, render_html
from harness.traces import load_trace_set
from tests.conftest import require_tool
from tests.unit.traces import RUNS

SCRIPT = "<script>document.title='pwned'</script>"
IMG = '"><img src=x onerror="document.title=\'pwned\'">'
PAYLOAD = SCRIPT + IMG
VOID = {"meta", "input", "br", "img", "link", "hr", "wbr", "source", "area", "col", "base"}
URL_ATTRS = {"src", "href", "srcset", "action", "formaction", "poster", "data", "xlink:href"}
HTTP_LINK = "https://github.com/conductor-oss/conductor/issues/1"


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def find(self, tag: str, **attrs: str) -> list[Node]:
        return [
            n
            for n in self.iter()
            if n.tag == tag and all(n.attrs.get(k) == v for k, v in attrs.items())
        ]


class _Tree(HTMLParser):
    """A DOM-ish tree, and every place where an element was not closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]
        self.misnested: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if self.stack[-1].tag != tag:
            self.misnested.append(f"</{tag}> closes <{self.stack[-1].tag}>")
        while len(self.stack) > 1:
            if self.stack.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(page: str) -> tuple[Node, list[str]]:
    tree = _Tree()
    tree.feed(page)
    tree.close()
    unclosed = [n.tag for n in tree.stack[1:]]
    return tree.root, tree.misnested + [f"<{t}> never closed" for t in unclosed]


@pytest.fixture(scope="module")
def reports() -> dict[str, dict[str, Any]]:
    settings = load_settings()
    baseline = load_trace_set(RUNS / "netflix-3.15.0-a")
    new = assess_run(baseline, load_trace_set(RUNS / "oss-3.32.1"), settings)
    old = assess_run(baseline, load_trace_set(RUNS / "oss-3.21.14"), settings)
    return {
        "single": build_report([new], command=["compare"], run=None),
        "matrix": build_report([old, new], command=["compare"], run=None),
    }


def gating(report: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for comparison in report["comparisons"]:
        for scenario in comparison["scenarios"]:
            for finding in scenario["findings"]:
                if finding["gates"]:
                    yield scenario, finding


def shown(value: Any, absent: bool) -> str:
    """How the page shows one side of a finding, escaped."""
    return "(absent)" if absent else html.escape(json.dumps(value, indent=2, ensure_ascii=False))


def injected(report: dict[str, Any]) -> dict[str, Any]:
    """The report with hostile text where servers and scenario files put strings."""
    report = copy.deepcopy(report)
    scenario, finding = next(gating(report))
    finding["candidate"] = PAYLOAD
    finding["step"] = {**(finding["step"] or {"index": 0, "action": "start"}), "name": PAYLOAD}
    scenario["description"] = f"Starts a workflow {PAYLOAD}"
    scenario["name"] = f"named{IMG}"
    accepted = next(f for _, f in gating(report) if f is not finding)
    accepted.update(disposition="accepted", gates=False)
    acceptance = {
        "change": None,
        "fingerprint": accepted["fingerprint"],
        "owner": f"qa{IMG}",
        "reason": f"accepted {SCRIPT}",
        "expires": "2027-01-01",
    }
    accepted["accepted"] = acceptance
    comparison = report["comparisons"][0]
    change = comparison["changes"][0]
    change.update(title=f"K-1{IMG}", what=f"changed {SCRIPT}")
    change["link"] = "javascript:document.title='pwned'"
    comparison["changes"][1]["link"] = HTTP_LINK
    comparison["acceptances"] = {
        "file": "accept.yaml",
        "entries": [
            {**acceptance, "matched": 1, "expired": False},
            {**acceptance, "fingerprint": "0123456789abcdef", "matched": 0, "expired": True},
        ],
    }
    comparison["notices"] = [f"acceptance of 0123456789abcdef expired {SCRIPT}"]
    return report


def addresses(root: Node) -> list[tuple[str, str, str | None]]:
    """Every URL-valued attribute that is not a link inside the page or to an upstream
    change (the catalog's links all point to github.com/conductor-oss or Netflix)."""
    upstream = ("#", "https://github.com/conductor-oss/", "https://github.com/Netflix/")
    return [
        (node.tag, name, value)
        for node in root.iter()
        for name, value in node.attrs.items()
        if name in URL_ATTRS and not (node.tag == "a" and (value or "").startswith(upstream))
    ]


def test_page_is_self_contained_and_shows_every_scenario_and_gating_finding(
    reports: dict[str, dict[str, Any]],
) -> None:
    report = reports["single"]
    page = render_html(report)
    root, problems = parse(page)
    assert not problems
    policy = content_policy()
    assert f'<meta http-equiv="Content-Security-Policy" content="{policy}">' in page
    assert "default-src 'none'" in policy and "script-src 'sha256-" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert not addresses(root)
    hostile = parse(render_html(injected(report)))[0]
    assert not addresses(hostile)  # the javascript: link stays text
    assert hostile.find("a", href=HTTP_LINK)
    assert not root.find("link") and not root.find("img") and not root.find("iframe")
    assert all("src" not in s.attrs for s in root.find("script"))
    assert "url(" not in page and "@import" not in page
    (controls,) = root.find("div", id="controls")
    assert "hidden" in controls.attrs  # useless without the script, which shows them
    text = root.text()
    for scenario in report["comparisons"][0]["scenarios"]:
        assert scenario["name"] in text
    found = list(gating(report))
    assert found
    for _, finding in found:
        assert finding["fingerprint"] in text
        assert shown(finding["baseline"], finding["missing"] == "baseline") in page
        assert shown(finding["candidate"], finding["missing"] == "candidate") in page


def test_rendering_is_a_pure_function_of_the_report(reports: dict[str, dict[str, Any]]) -> None:
    report = copy.deepcopy(reports["single"])
    page = render_html(report)
    assert report == reports["single"]
    assert render_html(report) == page
    assert len(page.encode()) < 3_000_000


def test_every_report_string_is_escaped(reports: dict[str, dict[str, Any]]) -> None:
    page = render_html(injected(reports["single"]))
    assert not parse(page)[1]
    assert SCRIPT not in page and IMG not in page and "<img" not in page
    assert 'href="javascript:' not in page
    assert html.escape(json.dumps(PAYLOAD)) in page
    assert html.escape(f"Starts a workflow {PAYLOAD}") in page
    assert html.escape(f"named{IMG}") in page
    assert html.escape(f"accepted {SCRIPT}") in page
    assert html.escape("javascript:document.title='pwned'") in page
    assert f'<a href="{HTTP_LINK}" rel="noopener noreferrer">' in page


def test_changes_causes_dispositions_and_acceptances_are_shown(
    reports: dict[str, dict[str, Any]],
) -> None:
    report = injected(reports["single"])
    comparison = report["comparisons"][0]
    scenario = comparison["scenarios"][0]  # api-metadata-crud
    first, second = [f for f in scenario["findings"] if not f["consequence_of"]][:2]
    first.update(disposition="noise", note="the same path differs between two baseline runs")
    second.update(disposition="ignored", note="the scenario's compare.ignore")
    scenario["noise"] = [{**copy.deepcopy(first), "fingerprint": "0123456789abcdef"}]
    root = parse(render_html(report))[0]
    text = root.text()
    groups = [
        d.find("summary")[0].text()
        for d in root.find("details", id="c0-s0")[0].iter()
        if d.tag == "details" and "group" in (d.attrs.get("class") or "")
    ]
    assert {"Noise (1)", "Noisy baseline paths (1)", "Ignored (1)"} <= set(groups)
    assert any(g.startswith("Catalogued (") for g in groups)
    assert "0123456789abcdef" in text and "baseline run k" in text
    assert "Intermittent (" in text  # the recorded oss 3.32.1 runs have intermittent ones
    assert "Accepted (1)" in text and f"by qa{IMG} until 2027-01-01: accepted {SCRIPT}" in text
    assert "accept.yaml (2 entries, 1 expired)" in text
    assert f"acceptance of 0123456789abcdef expired {SCRIPT}" in text
    (changes,) = root.find("section", id="changes")
    for change in comparison["changes"]:
        (block,) = changes.find("details", id=f"c0-change-{change['id']}")
        assert change["title"] in block.text() and change["action"] in block.text()
        assert block.find("div", **{"class": "diff"})  # its differences, side by side
    (unexplained,) = root.find("section", id="unexplained")
    causes = unexplained.find("details", **{"class": "cause"})
    assert len(causes) == len(comparison["unexplained"])
    consequences = [
        f for s in comparison["scenarios"] for f in s["findings"] if f["consequence_of"]
    ]
    assert consequences and "Consequences (" in text  # nested under their root finding


def test_steps_setup_workers_and_long_values(reports: dict[str, dict[str, Any]]) -> None:
    report = copy.deepcopy(reports["single"])
    scenario = report["comparisons"][0]["scenarios"][2]
    findings = [f for f in scenario["findings"] if not f["consequence_of"]][:4]
    for finding in findings:  # shown in full, side by side
        finding.update(disposition="open", change=None, requires_action=False)
    findings[0]["step"] = {"index": -1, "action": "setup", "name": None, "line": None}
    findings[1]["step"] = {"index": None, "action": "workers", "name": None, "line": None}
    findings[2].update(candidate={"k": "v" * 20_000}, missing=None)
    text = parse(render_html(report))[0].text()
    assert "step setup" in text and "step workers (not tied to a step)" in text
    assert "truncated; full value in report.json" in text
    assert "step 0: start (line 30)" in text


def test_an_interrupted_run_says_so(reports: dict[str, dict[str, Any]]) -> None:
    report = copy.deepcopy(reports["single"])
    pending = [{"target": "oss:3.32.1", "scenario": s, "repeat": 1} for s in ("http", "switch")]
    report.update(complete=False)
    report["run"] = {
        "kind": "compare",
        "directory": "out/run-1",
        "seconds": 12.5,
        "interrupted": "SIGINT",
        "targets": [{"target": "oss:3.32.1", "role": "candidate", "runs": 15}],
        "pending": pending,
        "unused_baselines": [],
        "no_baseline": [],
    }
    text = parse(render_html(report))[0].text()
    assert "INCOMPLETE: interrupted run — 2 scenario runs pending (SIGINT)" in text
    assert "out/run-1" in text and "12.5" in text


def test_a_version_matrix_has_a_column_per_candidate(reports: dict[str, dict[str, Any]]) -> None:
    report = reports["matrix"]
    root, problems = parse(render_html(report))
    assert not problems
    (table,) = root.find("table", id="scenario-table")
    heads = [th.text() for th in table.find("th")]
    targets = [c["candidate"]["target"] for c in report["comparisons"]]
    assert heads == ["Scenario", *targets] and len(set(targets)) == 2
    rows = table.find("tr")[1:]
    assert len(rows) == len(report["comparisons"][0]["scenarios"])
    assert all(len(r.find("td")) == 3 for r in rows)
    for ci, comparison in enumerate(report["comparisons"]):
        for si in range(len(comparison["scenarios"])):
            assert root.find("details", id=f"c{ci}-s{si}")


def _alive(marker: str) -> list[int]:
    """Live processes whose command line names marker (a zombie's command line is empty)."""
    found = []
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if proc.name.isdigit() and marker.encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
    return found


def chromium_dom(tmp_path: Path, page: str, fragment: str = "") -> Node:
    """The DOM after load, as headless chromium dumps it; no chromium process outlives it."""
    exe = require_tool("chromium", "report.html is checked in a real browser")
    version = subprocess.run(
        [exe, "--version"], check=True, capture_output=True, text=True, timeout=30
    )
    major = re.search(r"(\d+)\.\d+\.\d+", version.stdout)
    headless = "--headless=new" if major is None or int(major[1]) >= 112 else "--headless"
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    command = [exe, headless, "--no-sandbox", "--disable-gpu", "--no-first-run"]
    # Nothing may leave the machine: no background services, no name resolution, and a
    # dead loopback proxy for anything that would still try.
    command += [
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-pings",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=http://127.0.0.1:9",
    ]
    command += [f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", path.as_uri() + fragment]
    # The crash handler keeps its database under the config home, not --user-data-dir.
    home = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, **home},
    )
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        # chromium forks helpers (zygote, GPU, network) into its session: end them all.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
    # The crash handler leaves the session (setsid) and ends on its own once chromium has.
    deadline = time.monotonic() + 10
    while _alive(str(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.1)
    leftovers = _alive(str(tmp_path))
    for pid in leftovers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not leftovers, f"chromium processes outlived the page: {leftovers}"
    assert proc.returncode == 0 and out.strip(), err[-2000:]
    return parse(out)[0]


def test_in_a_browser_no_injected_script_runs_and_the_page_script_does(
    reports: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    dom = chromium_dom(tmp_path, render_html(injected(reports["single"])))
    (title, *_) = dom.find("title")
    assert "pwned" not in title.text() and title.text().startswith("incompatible")
    (body,) = dom.find("body")
    assert body.attrs.get("data-ready") == "1"
    assert not dom.find("img")
    assert not [(n.tag, a) for n in dom.iter() for a in n.attrs if a.startswith("on")]
    assert len(dom.find("script")) == 1
    text = dom.text()
    assert f"Starts a workflow {PAYLOAD}" in text and f"named{IMG}" in text
    (controls,) = dom.find("div", id="controls")
    assert "hidden" not in controls.attrs  # shown by the script, hidden without it


def visible_rows(dom: Node) -> list[str]:
    (table,) = dom.find("table", id="scenario-table")
    return [r.find("td")[0].text() for r in table.find("tr")[1:] if "hidden" not in r.attrs]


def test_in_a_browser_the_fragment_filters_and_sorts_the_table(
    reports: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    page = render_html(reports["single"])
    dom = chromium_dom(tmp_path, page, "#filter=inline")
    assert visible_rows(dom) == ["inline"]
    assert "1 of 17 scenarios shown" in dom.text()
    dom = chromium_dom(tmp_path, page, "#verdict=compatible&sort=0&dir=desc")
    scenarios = reports["single"]["comparisons"][0]["scenarios"]
    compatible = sorted(
        (s["name"] for s in scenarios if s["verdict"] == "compatible"), reverse=True
    )
    assert visible_rows(dom) == compatible
    (th,) = [th for th in dom.find("th") if th.attrs.get("aria-sort")]
    assert th.text() == "Scenario" and th.attrs["aria-sort"] == "descending"
