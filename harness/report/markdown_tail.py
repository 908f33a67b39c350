"""The cuttable end of report.md: the scenarios, most severe first, with their findings;
and the environment, which is always shown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.report.markdown_parts import (
    code,
    diff_block,
    finding_head,
    finding_line,
    followers,
    mark,
    text,
    values,
)
from harness.report.text import (
    VERDICT_ORDER,
    apart,
    consequences,
    open_findings,
    ordered_findings,
    roots,
    scenario_names,
    target_label,
)

Block = tuple[str, list[str]]  # what it is (for the count of what was cut), its lines
ROWS, DETAILS = "rows of the scenario table", "scenario details"
DIFF_LIMIT = 1200


def _worst(report: Mapping[str, Any]) -> list[str]:
    """Scenario names, the worst verdict of any candidate first, then by name."""
    rank = {v: i for i, v in enumerate(VERDICT_ORDER)}
    worst: dict[str, int] = {}
    for c in report["comparisons"]:
        for s in c["scenarios"]:
            here = rank.get(s["verdict"], len(rank))
            worst[s["name"]] = min(worst.get(s["name"], here), here)
    names = scenario_names(report)
    return sorted(names, key=lambda n: (worst[n], n))


def _cell(scenario: Mapping[str, Any] | None) -> str:
    if scenario is None:
        return "-"
    by = scenario["counts"]["by_disposition"]
    parts = [
        f"{n} {what}"
        for n, what in (
            (scenario["counts"]["gating"], "gating"),
            (by.get("open", 0), "unexplained"),
            (by.get("catalogued", 0), "catalogued"),
            (by.get("accepted", 0), "accepted"),
            (by.get("intermittent", 0), "intermittent"),
        )
        if n
    ]
    if scenario["counts"]["gating"]:
        parts = [p for p in parts if not p.endswith("unexplained")]
    return mark(scenario["verdict"]) + (f" ({', '.join(parts)})" if parts else "")


def scenario_blocks(report: Mapping[str, Any]) -> list[Block]:
    """The scenario table (a row per scenario, worst first), then each scenario's findings."""
    comparisons = report["comparisons"]
    by = [{s["name"]: s for s in c["scenarios"]} for c in comparisons]
    names = _worst(report)
    blocks: list[Block] = [
        (
            "the scenario table",
            [
                "## Scenarios\n",
                "| scenario | "
                + " | ".join(text(target_label(c["candidate"])) for c in comparisons)
                + " |",
                "|---|" + "---|" * len(comparisons),
            ],
        )
    ]
    for name in names:
        cells = " | ".join(_cell(b.get(name)) for b in by)
        blocks.append((ROWS, [f"| {text(name)} | {cells} |"]))
    blocks.append(("", [""]))
    # The worst scenarios of every candidate first, so that the cut for size never drops
    # an incompatible scenario's details for another candidate's compatible ones.
    headed: set[str] = set()
    for rank in range(len(DETAIL_ORDER) + 1):
        for comparison in comparisons:
            label = text(target_label(comparison["candidate"]))
            found = [
                lines
                for name in names
                if _rank(by[comparisons.index(comparison)].get(name)) == rank
                and (lines := _detail(comparison, name))
            ]
            if found:
                more = " (continued)" if label in headed else ""
                headed.add(label)
                blocks.append(("", [f"## Scenario details: {label}{more}\n"]))
                blocks += [(DETAILS, lines) for lines in found]
    return blocks


DETAIL_ORDER = ("incompatible", "inconclusive", "action_required")


def _rank(scenario: Mapping[str, Any] | None) -> int:
    verdict = (scenario or {}).get("verdict")
    return DETAIL_ORDER.index(verdict) if verdict in DETAIL_ORDER else len(DETAIL_ORDER)


def _detail(comparison: Mapping[str, Any], name: str) -> list[str]:
    """One scenario's findings in a <details> element; [] when there is nothing to say."""
    scenario = next((s for s in comparison["scenarios"] if s["name"] == name), None)
    if scenario is None:
        return []
    gating = ordered_findings([f for f in roots(scenario) if f["gates"]])
    unexplained = [*gating, *(f for f in open_findings(scenario) if not f["gates"])]
    groups = [(d, [f for f in found if not f["gates"]]) for d, found in apart(scenario)]
    groups = [(d, found) for d, found in groups if found]
    if not unexplained and not groups and scenario["verdict"] in ("compatible", "not_applicable"):
        return []
    after = consequences(scenario)
    opened = " open" if scenario["verdict"] in ("incompatible", "inconclusive") else ""
    counts = [f"{len(unexplained)} unexplained"] if unexplained else []
    counts += [f"{len(found)} {disposition}" for disposition, found in groups]
    lines = [
        f"<details{opened}><summary>{mark(scenario['verdict'])} {text(name)}"
        + (f": {', '.join(counts)}" if counts else "")
        + "</summary>\n",
        f"{code(scenario['file'])}: {text(scenario['reason'])}\n",
    ]
    if scenario["description"]:
        lines.append(f"_{text(scenario['description'])}_\n")
    lines += _ended(scenario)
    if gating:
        lines.append("**unexplained, gating**\n")
        for f in gating:
            lines += [finding_head(f), "", *diff_block(f, DIFF_LIMIT), ""]
            lines += followers(after.get(f["fingerprint"], []))
    below = [f for f in unexplained if not f["gates"]]
    if below:
        lines.append("**unexplained, below the threshold**\n")
        for f in below:
            lines += [finding_line(f), *followers(after.get(f["fingerprint"], []))]
        lines.append("")
    for disposition, found in groups:
        lines.append(f"**{disposition}**\n")
        if disposition in ("catalogued", "accepted"):
            lines += _by_change(found, after)
        else:
            for f in found:
                lines += [finding_line(f), *followers(after.get(f["fingerprint"], []))]
        lines.append("")
    lines.append("</details>\n")
    return lines


RUNS_LISTED = 6  # runs that did not complete, listed in a scenario's details
REASON_LIMIT = 300


def _ended(scenario: Mapping[str, Any]) -> list[str]:
    """The runs that did not complete and why (a hang, an unmet expectation, an error)."""
    ended = [
        (role, run)
        for role, key in (("baseline", "baseline_runs"), ("candidate", "candidate_runs"))
        for run in scenario.get(key) or []
        if run.get("outcome") not in ("completed", "not_applicable")
    ]
    if not ended:
        return []
    lines = ["**runs that did not complete**\n"]
    for role, run in ended[:RUNS_LISTED]:
        reason = str(run.get("reason") or "")
        cut = reason[:REASON_LIMIT] + ("…" if len(reason) > REASON_LIMIT else "")
        lines.append(f"- {role} run {run.get('repeat')}: {run.get('outcome')}: {text(cut)}")
    if len(ended) > RUNS_LISTED:
        lines.append(f"- and {len(ended) - RUNS_LISTED} more (report.json has them all)")
    return [*lines, ""]


def _by_change(found: list[dict[str, Any]], after: Mapping[str, list[dict[str, Any]]]) -> list[str]:
    """Catalogued or accepted findings, one line per change: the change says the rest."""
    by: dict[str, list[dict[str, Any]]] = {}
    for f in found:
        by.setdefault(str((f.get("change") or {}).get("id") or f["fingerprint"]), []).append(f)
    lines = []
    for key, group in by.items():
        first = group[0]
        n = len(group)
        k = sum(len(after.get(f["fingerprint"], [])) for f in group)
        action = " · **action required**" if any(f["requires_action"] for f in group) else ""
        lines.append(
            f"- {code(key)} ({first['severity']}{action}): {n} difference{'s' * (n != 1)}"
            + (f" (+{k} consequences)" if k else "")
            + f", e.g. {code(first['path'])}: {values(first, 60)}"
        )
    return lines


def _name(path: str) -> str:
    """A file's name (report.json has its whole path)."""
    return path.replace("\\", "/").rpartition("/")[2]


def environment(report: Mapping[str, Any]) -> list[str]:
    fields = ("target", "flavor", "version", "runtime", "profile", "backend", "java", "isolation")
    lines = [
        "## Environment\n",
        "| role | " + " | ".join(fields) + " | artifact sha256 |",
        "|---|" + "---|" * (len(fields) + 1),
    ]
    roles = [("baseline", report["baseline"])] + [
        ("candidate", c["candidate"]) for c in report["comparisons"]
    ]
    for role, target in roles:
        digest = target.get("artifact_sha256")
        lines.append(
            f"| {role} | "
            + " | ".join(text(target.get(f) or "-") for f in fields)
            + f" | {code(str(digest)[:16] + '…', cell=True) if digest else '-'} |"
        )
    settings = report["settings"]
    spec = settings["scrub_spec"]
    catalogs = sorted({f for c in report["comparisons"] for f in c["catalog"]["files"]})
    accepts = sorted({c["acceptances"]["file"] for c in report["comparisons"]} - {None})
    lines += [
        "",
        f"- harness: conductor-compat {text(report['harness_version'])}, report format "
        f"{report['report_format']}, created {text(report['created_at'])}",
        f"- scrub spec: {text(spec['name'])} v{text(spec['version'])} (digest "
        f"{code(spec['digest'])}, {len(spec['rules'])} rules); severity rules: "
        f"{len(settings['severity_rules']['rules'])}; re-check of differences: "
        f"{'on' if settings['recheck'] else 'off'}",
        "- catalog of changes: " + (", ".join(code(_name(f)) for f in catalogs) or "none"),
        "- acceptances: " + (", ".join(code(_name(f)) for f in accepts) or "none"),
    ]
    run = report.get("run")
    if run:
        lines.append(
            f"- run: `{text(run['kind'])}`"
            + (f" in {run['seconds']:.0f} s" if run.get("seconds") is not None else "")
            + "; "
            + ", ".join(
                f"{text(t['target'])} ({text(t['role'])}"
                + (", recorded" if t.get("recorded") else f", {t.get('runs', 0)} runs")
                + (
                    f", {t['blocked']} outbound connection attempts blocked"
                    if t.get("blocked")
                    else ""
                )
                + ")"
                for t in run["targets"]
            )
        )
        if run.get("shard"):
            lines.append(
                f"- shard {text(run['shard'])}: this report covers that part of the scenarios "
                "only; `conductor-compat merge` joins the shards' run folders into one"
            )
        if run.get("shards"):
            lines.append(
                f"- merged from {len(run['shards'])} shards: "
                + ", ".join(f"{text(s['shard'])} ({code(s['directory'])})" for s in run["shards"])
            )
        if run["unused_baselines"]:
            lines.append(
                "- recorded baselines no scenario used: "
                + ", ".join(text(n) for n in run["unused_baselines"])
            )
        if run["no_baseline"]:
            lines.append(
                "- scenarios with no recorded baseline (not compared): "
                + ", ".join(text(n) for n in run["no_baseline"])
            )
    if report.get("command"):
        lines.append(f"- command: {code('conductor-compat ' + ' '.join(report['command']))}")
    return lines
