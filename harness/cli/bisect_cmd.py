"""``conductor-compat bisect``: the first published version that shows one difference."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from harness.cli.options import (
    add_options,
    parse_targets,
    plan_values,
    registered,
    say,
    scenario_paths,
)
from harness.cli.progress import Display, choose_mode
from harness.errors import BadInputError
from harness.pipeline import Plan, run_plan
from harness.pipeline.plan import slug
from harness.scenarios import ScenarioError


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "bisect",
        help="find the first version that shows a difference (a catalogued change, or one "
        "difference by fingerprint)",
        description="Find where a difference started. The versions are every locked version "
        "from --from to --to, in release order (Netflix's line, then conductor-oss's, which "
        "continues its numbers; `targets list` shows them). Each version probed starts, "
        "plays the scenarios under PATH once, and stops; its traces are compared with "
        "--from's, and the difference is looked for: --change ID (the causes a catalogued "
        "change names, whatever versions the catalog gives it) or --fingerprint FP (one "
        "difference of a report). --from must not show it and --to must; the versions "
        "between are halved until the first that shows it is found, which takes about "
        "log2(N) probes for N versions. Where versions were never published (conductor-oss "
        "has 3.21.14, then 3.32.1), the answer is the range between the last version "
        "without it and the first with it. The run folder holds traces/<version>/ for each "
        "version probed, bisect.json and bisect.md. Default PATH: the config file's paths, "
        "else the shipped library (give the scenarios that reach the difference: every "
        "probe plays them all). With --repeats N each version plays each scenario N "
        "times, its run i compared with --from's run i: for a difference whose timing "
        "varies between runs. "
        "Exit 0 found, 3 --to does not show it, 2 bad input, "
        "4 harness error, 130 interrupted.",
    )
    add_options(
        parser,
        "config",
        "paths",
        "bisect_from",
        "bisect_to",
        "bisect_change",
        "bisect_fingerprint",
        "bisect_repeats",
        "out",
        "reports",
        "catalog",
        "no_shipped_catalog",
        "scrub",
        "profile",
        "server_property",
        "runtime",
        "jobs",
        "ready_timeout",
        "no_isolation",
        "boot_jar",
        "jit",
        "allow_outbound",
        "quiet",
        "verbose",
    )
    parser.set_defaults(handler=cmd_bisect)


def _plan(args: argparse.Namespace) -> Plan:
    paths = scenario_paths(args.paths)
    parse_targets([args.bisect_from, args.bisect_to])  # unknown: exit 2
    if bool(args.bisect_change) == bool(args.bisect_fingerprint):
        raise BadInputError("name the difference to look for: --change ID or --fingerprint FP")
    seek = (
        f"change:{args.bisect_change}"
        if args.bisect_change
        else (f"fingerprint:{args.bisect_fingerprint}")
    )
    values = plan_values(args, [o.name for o in registered(args)])
    values.update(
        baseline=args.bisect_from,
        candidates=(args.bisect_to,),
        paths=tuple(str(p.resolve()) for p in paths),
        seek=seek,
        out=str(args.out or _default_out(args.reports, seek)),
    )
    return Plan(kind="bisect", command=tuple(sys.argv[1:]), **values)


def _default_out(reports: Path, seek: str) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return reports / f"{stamp}-bisect-{slug(seek.partition(':')[2])}"[:120]


async def cmd_bisect(args: argparse.Namespace) -> int:
    plan = _plan(args)
    out = Path(str(plan.out))
    if (out / "bisect.json").exists():
        raise BadInputError(f"{out} already holds a bisect; choose another --out")
    display = Display(sys.stderr, mode=choose_mode(sys.stderr, quiet=args.quiet))
    display.verbose = args.verbose
    try:
        outcome = await run_plan(plan, display)
    except ScenarioError as exc:
        for problem in exc.problems:
            print(problem.render(), file=sys.stderr)
        raise BadInputError(exc.message) from exc
    finally:
        display.close()
    print(f"{outcome.reason}; the probes are in {outcome.folder / 'bisect.md'}")
    if not args.quiet:
        say("  " + ", ".join(str(p.name) for p in outcome.reports.values()))
    return outcome.exit_code
