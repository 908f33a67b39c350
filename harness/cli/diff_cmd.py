"""``conductor-compat diff``: compare two recorded trace directories, with no server."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from typing import Any

from harness.classify import RunResult
from harness.cli.options import COMPARISON, add_options, plan_values, say
from harness.cli.progress import Display, choose_mode
from harness.pipeline import Plan, run_plan

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
    add_options(
        diff, "config", "baseline_dir", "candidate_dir", "reports_out", *COMPARISON, "quiet"
    )
    diff.set_defaults(handler=cmd_diff)


async def cmd_diff(args: argparse.Namespace) -> int:
    plan = Plan(
        "diff",
        baseline=str(args.baseline),
        candidates=(str(args.candidate),),
        command=("diff", *sys.argv[2:]),
        out=str(args.out),
        **plan_values(args, COMPARISON),
    )
    display = Display(sys.stderr, mode=choose_mode(sys.stderr, quiet=args.quiet))
    try:
        outcome = await run_plan(plan, display)
    finally:
        display.close()
    (result,) = outcome.results
    if not args.quiet:
        print_summary(result)
    print(f"{result.verdict.replace('_', ' ')}: {result.reason}; reports in {args.out}")
    if not args.quiet:
        say("  " + ", ".join(str(p.name) for p in outcome.reports.values()))
    return outcome.exit_code


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
