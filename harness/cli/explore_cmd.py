"""``conductor-compat explore``: generated scenarios on two targets, each difference that
no catalogued change explains shrunk to a scenario file."""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from typing import Any

from harness.cli.options import add_options, parse_targets, plan_values, registered, say
from harness.cli.progress import Display, choose_mode
from harness.errors import BadInputError
from harness.pipeline import Plan, run_plan
from harness.pipeline.plan import slug

UNITS = {"s": 1, "m": 60, "h": 3600}


def parse_budget(text: str) -> float:
    """90s, 20m, 2h, 1.5h or plain seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if not match or float(match.group(1)) <= 0:
        raise BadInputError(f"--budget {text!r}: give a time such as 90s, 20m or 2h")
    return float(match.group(1)) * UNITS[match.group(2) or "s"]


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "explore",
        help="generate workflows, play them on two servers, and shrink every difference no "
        "catalogued change explains to a scenario file",
        description="Search for what no scenario was written for. Hypothesis draws whole "
        "scenarios: a workflow of the task types both lines know (worker tasks with retries and "
        "optional ones, INLINE, JSON_JQ_TRANSFORM, SET_VARIABLE, WAIT, NOOP, TERMINATE), nested "
        "in forks, switches, a loop and a sub-workflow, with expressions over inputs, outputs and "
        "variables, and what each worker does (complete, fail once or always, fail terminally, "
        "answer in progress first, send logs). Both servers start once; each scenario plays on "
        "both at once and is compared as `compare` does. A scenario that shows a difference the "
        "catalog does not explain is played until each side has --explore-runs runs; the "
        "difference counts when --reproduce of them show it. Hypothesis then shrinks it, each "
        "step judged the same way, to a small scenario, which is played --confirm-runs more times "
        "on both: what the baseline's own runs then show the candidate's way too is a race, "
        "listed under OUT/races/; the rest is written to "
        "OUT/scenarios/explore-<fingerprint>.yaml, ready for the library, with its traces under "
        "OUT/findings/. The search goes on, looking for differences not found yet, until --budget "
        "is spent. explore.json and explore.md sum it up: examples run, per minute, the findings, "
        "and the catalogued changes the scenarios reached. Failing examples are kept in "
        "Hypothesis's database in the cache, and replayed first by the next run on the same pair. "
        "Exit 0 nothing unexplained, 1 findings, 2 bad input, 4 harness error, 130 interrupted "
        "(the findings so far are written).",
    )
    add_options(
        parser,
        "config",
        "baseline",
        "explore_candidate",
        "budget",
        "seed",
        "without_change",
        "explore_runs",
        "reproduce",
        "confirm_runs",
        "max_findings",
        "out",
        "reports",
        "catalog",
        "no_shipped_catalog",
        "scrub",
        "severity",
        "profile",
        "server_property",
        "runtime",
        "ready_timeout",
        "no_isolation",
        "boot_jar",
        "jit",
        "quiet",
        "verbose",
    )
    parser.set_defaults(handler=cmd_explore)


def _plan(args: argparse.Namespace) -> Plan:
    parse_targets([args.baseline, args.explore_candidate])  # unknown: exit 2
    values = plan_values(args, [o.name for o in registered(args)])
    values.update(
        candidates=(args.explore_candidate,),
        budget_s=parse_budget(args.budget),
        out=str(args.out or _default_out(args.reports, args.baseline, args.explore_candidate)),
    )
    return Plan(kind="explore", command=tuple(sys.argv[1:]), **values)


def _default_out(reports: Path, baseline: str, candidate: str) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return reports / f"{stamp}-explore-{slug(baseline)}-vs-{slug(candidate)}"


async def cmd_explore(args: argparse.Namespace) -> int:
    plan = _plan(args)
    out = Path(str(plan.out))
    if (out / "explore.json").exists():
        raise BadInputError(f"{out} already holds an explore run; choose another --out")
    display = Display(sys.stderr, mode=choose_mode(sys.stderr, quiet=args.quiet))
    display.verbose = args.verbose
    try:
        outcome = await run_plan(plan, display)
    finally:
        display.close()
    print(f"{outcome.reason}; the summary is {outcome.folder / 'explore.md'}")
    if not args.quiet:
        say("  " + ", ".join(str(p.name) for p in outcome.reports.values()))
    return outcome.exit_code
