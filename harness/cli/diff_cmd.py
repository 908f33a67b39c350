"""``conductor-compat diff``: compare two recorded trace directories, with no server."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from harness.classify import RunResult, ScenarioResult, assess_run, load_settings
from harness.cli.compare_cmd import EXIT
from harness.cli.options import comparison_options, judgement, say
from harness.compare.traces import load_trace_set
from harness.report import build_report, write_reports

SHOWN = 25  # gating differences printed; the report has all of them


def register(commands: Any) -> None:
    diff = commands.add_parser(
        "diff",
        help="compare two directories of recorded traces and write the reports",
        description="Compare the traces of a baseline target with a candidate's (each a "
        "`conductor-compat run --out` directory), with no server: normalize both with the "
        "scrub spec, diff them at every level, classify each difference, and write "
        "report.json, report.md, report.html and junit.xml into DIR. A baseline recorded "
        "with `run --repeats 2` (or more) lets noise be told from real differences; a "
        "candidate recorded so shows which differences are intermittent (k of n runs). "
        "Exit 0 compatible, 9 action required, 1 incompatible, 3 inconclusive, "
        "2 bad input, 4 harness error (see `compare --help`).",
    )
    diff.add_argument("baseline", type=Path, metavar="BASELINE_DIR")
    diff.add_argument("candidate", type=Path, metavar="CANDIDATE_DIR")
    diff.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="folder for the reports (created if missing)",
    )
    comparison_options(
        diff, recheck_help="use only the candidate's first run (no intermittent detection)"
    )
    diff.add_argument("--quiet", action="store_true", help="print only the verdict line")
    diff.set_defaults(handler=cmd_diff)


async def cmd_diff(args: argparse.Namespace) -> int:
    return await asyncio.to_thread(_diff, args)


def _diff(args: argparse.Namespace) -> int:
    settings = load_settings(**judgement(args))
    baseline = load_trace_set(args.baseline)
    candidate = load_trace_set(args.candidate)
    if not args.quiet:
        say(
            f"comparing {len(baseline.runs)} scenarios of {baseline.target.get('target')} "
            f"with {len(candidate.runs)} of {candidate.target.get('target')}"
        )
    result = assess_run(
        baseline, candidate, settings, on_scenario=None if args.quiet else _progress
    )
    written = write_reports(args.out, build_report(result, command=["diff", *sys.argv[2:]]))
    if not args.quiet:
        print_summary(result)
    print(f"{result.verdict.replace('_', ' ')}: {result.reason}; reports in {args.out}")
    if not args.quiet:
        say("  " + ", ".join(str(p.name) for p in written.values()))
    return int(EXIT[result.verdict])


def _progress(result: ScenarioResult) -> None:
    counts = Counter(f.disposition for f in result.findings)
    extra = ", ".join(f"{n} {d}" for d, n in sorted(counts.items()))
    say(
        f"  {result.verdict:<14} {result.name}"
        + (f" ({extra})" if extra else "")
        + ("" if result.verdict in ("compatible", "incompatible") else f": {result.reason}")
    )


def _short(value: Any, missing: bool) -> str:
    if missing:
        return "(absent)"
    text = repr(value) if not isinstance(value, dict | list) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def print_summary(result: RunResult) -> None:
    findings = [(s, f) for s in result.scenarios for f in s.findings]
    severities = Counter(f.severity for _, f in findings if f.disposition == "open")
    actions = [c for c in result.changes if c.requires_action]
    dispositions = Counter(f.disposition for _, f in findings)
    print(
        f"differences: {len(findings)} ("
        + ", ".join(f"{n} {d}" for d, n in dispositions.most_common())
        + ")"
        + (
            "; open by severity: " + ", ".join(f"{n} {s}" for s, n in severities.most_common())
            if severities
            else ""
        )
    )
    for change in actions:
        print(
            f"  action: {change.change['severity']:<10} {change.change['id']}: "
            f"{change.change['title']} ({change.findings} differences, "
            f"{len(change.scenarios)} scenarios)"
        )
    gating = [(s, f) for s, f in findings if f.gates]
    for scenario, finding in gating[:SHOWN]:
        d = finding.difference
        print(
            f"  {finding.severity:<10} {scenario.name}: {d.level} {d.kind} {d.path}: "
            f"{_short(d.baseline, d.missing == 'baseline')} -> "
            f"{_short(d.candidate, d.missing == 'candidate')}  [{finding.fingerprint}]"
        )
    if len(gating) > SHOWN:
        print(f"  ... and {len(gating) - SHOWN} more in report.json")
    for notice in result.notices:
        print(f"  notice: {notice}")
