"""``conductor-compat compare`` and ``conductor-compat gate``: the main job.

Both parse their arguments into one ``Plan``, hand it to ``harness.pipeline.execute``
with the progress display as the event consumer, and exit with the verdict's code.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from harness.cli.config import FLAG
from harness.cli.options import (
    COMPARISON,
    SERVER,
    add_options,
    docker_settings,
    parse_targets,
    plan_values,
    registered,
    say,
    scenario_paths,
)
from harness.cli.progress import Display, choose_mode
from harness.errors import BadInputError, ExitCode
from harness.pipeline import Plan, RunFolder, default_folder, execute
from harness.scenarios import ScenarioError
from harness.targets.spec import DEFAULT_BASELINE, RECOMMENDED_CANDIDATE

EXIT = {
    "compatible": ExitCode.OK,
    "action_required": ExitCode.ACTION_REQUIRED,
    "incompatible": ExitCode.FINDING,
    "inconclusive": ExitCode.INCONCLUSIVE,
}
# The options of both, after the baseline's: what to run, where, how to judge, how to run.
SHARED = (
    "paths",
    "candidate",
    "out",
    "reports",
    "resume",
    *COMPARISON,
    "candidate_repeats",
    "jobs",
    "shard",
    *SERVER,
    "allow_outbound",
    "quiet",
    "verbose",
)


def register(commands: Any) -> None:
    compare = commands.add_parser(
        "compare",
        help="run scenarios on a baseline and candidates, compare, write the reports (main job)",
        description="Start the baseline and every candidate in parallel, run the scenarios "
        "under PATH on each (several at once; the baseline twice, so that noise is told "
        "from differences), re-run on the candidate the scenarios that gate until it has "
        "three runs of each (a difference only some runs show is intermittent, with its "
        "rate), compare, explain each difference by the catalog of changes, and write "
        "report.json, report.md, "
        "report.html and junit.xml into the run folder. With no arguments: "
        f"{DEFAULT_BASELINE} against {RECOMMENDED_CANDIDATE}, the shipped scenario library, "
        "the process runtime, a new folder under reports/. Several --candidate give one "
        "report with a column per candidate. --shard I/N runs part I of N of the scenarios "
        "(N CI jobs, then `merge`). Ctrl-C stops the servers and writes the "
        "reports for what finished, marked incomplete; --resume RUN_DIR finishes the run. "
        "Exit 0 compatible (nothing left but additive, cosmetic or accepted changes), "
        "9 action required (catalogued breaking or behavioral changes the scenarios reach, "
        "not accepted: the report's action list), 1 incompatible (an unexplained "
        "difference: a regression or an uncatalogued change; or the candidate hung), "
        "3 inconclusive, 130 interrupted, 2 bad input, 4 harness error (5-8: see the main "
        "help). Input limits: CONDUCTOR_COMPAT_MAX_FILE_BYTES (default 4 MiB per file) and "
        "CONDUCTOR_COMPAT_MAX_TASKS (default 1000 tasks per workflow).",
    )
    add_options(compare, "config", "baseline", *SHARED, "baseline_repeats")
    compare.set_defaults(handler=cmd_compare)

    gate = commands.add_parser(
        "gate",
        help="compare a live candidate with baseline traces recorded earlier",
        description="Run the scenarios under PATH on the candidate only and compare them "
        "with baseline traces recorded earlier by `conductor-compat run --repeats 2 --out "
        "DIR` (or a compare run's traces/<target> folder), so a CI pipeline can gate a "
        "conductor-oss release without the archived server. Scenarios with no recorded "
        "baseline, or whose file changed since, are not compared; baselines that no "
        "scenario used are reported. --shard I/N runs part I of N of the scenarios, as for "
        "compare. Same reports and exit codes as compare.",
    )
    add_options(gate, "config", "baselines", *SHARED)
    gate.set_defaults(handler=cmd_gate)


def _plan(args: argparse.Namespace, kind: str) -> Plan:
    if kind == "gate" and args.baselines is None:
        raise BadInputError("gate needs --baselines DIR (a folder of recorded baseline traces)")
    paths = scenario_paths(args.paths)
    baseline = str(args.baselines.resolve()) if kind == "gate" else args.baseline
    parse_targets(args.candidate + ([] if kind == "gate" else [baseline]))  # unknown: exit 2
    docker = docker_settings(args)
    values = plan_values(args, [o.name for o in registered(args)])
    values.update(
        baseline=baseline,
        paths=tuple(str(p.resolve()) for p in paths),
        images=tuple(f"{t}={i}" for t, i in docker.images.items()),
    )
    return Plan(kind=kind, command=tuple(sys.argv[1:]), **values)


def _resumed(args: argparse.Namespace) -> tuple[Plan, RunFolder]:
    given = [
        o.label
        for o in registered(args)
        if o.kept_by_resume and args.option_origins.get(o.name) == FLAG
    ]
    if given:
        raise BadInputError(
            f"--resume uses the run's own settings (its run.json); leave out {', '.join(given)}"
        )
    folder = RunFolder(args.resume)
    return folder.load(), folder


async def cmd_compare(args: argparse.Namespace) -> int:
    return await _main(args, "compare")


async def cmd_gate(args: argparse.Namespace) -> int:
    return await _main(args, "gate")


async def _main(args: argparse.Namespace, kind: str) -> int:
    if args.resume:
        plan, folder = _resumed(args)
    else:
        plan = _plan(args, kind)
        folder = RunFolder(args.out) if args.out else default_folder(args.reports, plan)
        if folder.plan_file.exists():
            raise BadInputError(
                f"{folder.root} already holds a run; finish it with --resume {folder.root}, "
                "or choose another --out"
            )
    display = Display(sys.stderr, mode=choose_mode(sys.stderr, quiet=args.quiet))
    display.verbose = args.verbose
    try:
        outcome = await execute(plan, folder, display, resumed=bool(args.resume))
    except ScenarioError as exc:  # each problem once, as FILE:LINE:COLUMN lines
        for problem in exc.problems:
            print(problem.render(), file=sys.stderr)
        raise BadInputError(exc.message) from exc
    except asyncio.CancelledError:
        if folder.plan_file.exists():
            say(f"finish it with: conductor-compat {kind} --resume {folder.root}")
        raise
    finally:
        display.close()
    print(f"{outcome.verdict.replace('_', ' ')}: {outcome.reason}; reports in {outcome.folder}")
    if not outcome.complete:
        say(f"finish it with: conductor-compat {kind} --resume {outcome.folder}")
    return int(EXIT[outcome.verdict])
