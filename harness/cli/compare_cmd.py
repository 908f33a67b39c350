"""``conductor-compat compare`` and ``conductor-compat gate``: the main job.

Both parse their arguments into one ``Plan``, hand it to ``harness.pipeline.execute``
with the progress display as the event consumer, and exit with the verdict's code.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from harness.cli.options import (
    comparison_options,
    docker_options,
    docker_settings,
    isolation_option,
    judgement,
    parse_targets,
    say,
)
from harness.cli.progress import Display, choose_mode
from harness.errors import BadInputError, ExitCode
from harness.pipeline import Plan, RunFolder, default_folder, execute
from harness.runner import DEFAULT_JOBS
from harness.scenarios import ScenarioError
from harness.targets import PROFILES
from harness.targets.profiles import DEFAULT_PROFILE
from harness.targets.provision import RUNTIMES
from harness.targets.spec import DEFAULT_BASELINE, RECOMMENDED_CANDIDATE

EXIT = {
    "compatible": ExitCode.OK,
    "action_required": ExitCode.ACTION_REQUIRED,
    "incompatible": ExitCode.FINDING,
    "inconclusive": ExitCode.INCONCLUSIVE,
}
REPO_LIBRARY = Path(__file__).resolve().parents[2] / "scenarios"
# Settings a resumed run takes from its run.json; giving them again is an error.
PLANNED = (
    "paths",
    "baseline",
    "candidate",
    "baselines",
    "out",
    "fail_on",
    "fail_on_known",
    "accept",
    "catalog",
    "no_shipped_catalog",
    "candidate_repeats",
    "scrub",
    "severity",
    "no_recheck",
    "jobs",
    "baseline_repeats",
    "profile",
    "runtime",
    "ready_timeout",
    "allow_outbound",
    "image",
    "network",
    "reuse",
    "no_isolation",
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
        "report with a column per candidate. Ctrl-C stops the servers and writes the "
        "reports for what finished, marked incomplete; --resume RUN_DIR finishes the run. "
        "Exit 0 compatible (nothing left but additive, cosmetic or accepted changes), "
        "9 action required (catalogued breaking or behavioral changes the scenarios reach, "
        "not accepted: the report's action list), 1 incompatible (an unexplained "
        "difference: a regression or an uncatalogued change; or the candidate hung), "
        "3 inconclusive, 130 interrupted, 2 bad input, 4 harness error (5-8: see the main "
        "help). Input limits: CONDUCTOR_COMPAT_MAX_FILE_BYTES (default 4 MiB per file) and "
        "CONDUCTOR_COMPAT_MAX_TASKS (default 1000 tasks per workflow).",
    )
    compare.add_argument(
        "--baseline",
        default=DEFAULT_BASELINE,
        metavar="TARGET",
        help=f"FLAVOR:VERSION or remote:URL (default: {DEFAULT_BASELINE})",
    )
    _common(compare, recorded=False)
    compare.add_argument(
        "--baseline-repeats",
        type=int,
        default=2,
        metavar="N",
        help="runs of each scenario on the baseline (default: 2; 1 turns noise detection off)",
    )
    compare.set_defaults(handler=cmd_compare, planned_defaults=_defaults(compare))

    gate = commands.add_parser(
        "gate",
        help="compare a live candidate with baseline traces recorded earlier",
        description="Run the scenarios under PATH on the candidate only and compare them "
        "with baseline traces recorded earlier by `conductor-compat run --repeats 2 --out "
        "DIR` (or a compare run's traces/<target> folder), so a CI pipeline can gate a "
        "conductor-oss release without the archived server. Scenarios with no recorded "
        "baseline, or whose file changed since, are not compared; baselines that no "
        "scenario used are reported. Same reports and exit codes as compare.",
    )
    gate.add_argument(
        "--baselines",
        type=Path,
        metavar="DIR",
        help="folder of recorded baseline traces (required unless --resume)",
    )
    _common(gate, recorded=True)
    gate.set_defaults(handler=cmd_gate, planned_defaults=_defaults(gate))


def _common(parser: argparse.ArgumentParser, *, recorded: bool) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="scenario files and folders (default: the shipped library, scenarios/)",
    )
    parser.add_argument(
        "--candidate",
        action="append",
        metavar="TARGET",
        help=f"FLAVOR:VERSION or remote:URL, repeatable (default: {RECOMMENDED_CANDIDATE})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="the run folder (default: a new folder under reports/)",
    )
    parser.add_argument(
        "--resume",
        type=Path,
        metavar="RUN_DIR",
        help="finish an interrupted run: only the scenario runs missing from RUN_DIR are "
        "made, with the run's own settings",
    )
    comparison_options(
        parser,
        recheck_help="do not re-run the candidate for scenarios that gate (no intermittent "
        "detection)",
    )
    parser.add_argument(
        "--candidate-repeats",
        type=int,
        default=1,
        metavar="N",
        help="runs of every scenario on each candidate (default: 1; scenarios that gate are "
        "run until they have 3, or N if more)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=DEFAULT_JOBS,
        metavar="N",
        help=f"scenarios run at once on each target (default: {DEFAULT_JOBS})",
    )
    parser.add_argument("--profile", default=DEFAULT_PROFILE, choices=sorted(PROFILES))
    parser.add_argument("--runtime", default="process", choices=RUNTIMES)
    parser.add_argument("--ready-timeout", type=float, default=240.0, metavar="SECONDS")
    docker_options(parser)
    isolation_option(parser)
    parser.add_argument(
        "--allow-outbound",
        action="store_true",
        help="let HTTP tasks of scenarios that set allow_outbound call other hosts; the "
        "servers reach only the HOST:PORT those scenarios list",
    )
    volume = parser.add_mutually_exclusive_group()
    volume.add_argument("--quiet", action="store_true", help="print only the verdict line")
    volume.add_argument(
        "--verbose", action="store_true", help="a line per scenario run, on a terminal too"
    )


def _plan(args: argparse.Namespace, kind: str) -> Plan:
    if kind == "gate" and args.baselines is None:
        raise BadInputError("gate needs --baselines DIR (a folder of recorded baseline traces)")
    paths = args.paths or [_library()]
    for path in paths:
        if not path.exists():
            raise BadInputError(f"{path} does not exist (give scenario files or folders)")
    candidates = args.candidate or [RECOMMENDED_CANDIDATE]
    baseline = str(args.baselines.resolve()) if kind == "gate" else args.baseline
    parse_targets(candidates + ([] if kind == "gate" else [baseline]))  # unknown: exit 2 now
    docker = docker_settings(args)
    return Plan(
        kind=kind,
        baseline=baseline,
        candidates=tuple(candidates),
        paths=tuple(str(p.resolve()) for p in paths),
        command=tuple(sys.argv[1:]),
        baseline_repeats=getattr(args, "baseline_repeats", 2),
        candidate_repeats=args.candidate_repeats,
        jobs=args.jobs,
        profile=args.profile,
        runtime=args.runtime,
        ready_timeout_s=args.ready_timeout,
        **_judgement(args),
        allow_outbound=args.allow_outbound,
        images=tuple(f"{t}={i}" for t, i in docker.images.items()),
        network=docker.network,
        reuse=docker.reuse,
        no_isolation=args.no_isolation,
    )


def _judgement(args: argparse.Namespace) -> dict[str, Any]:
    """The comparison options, in the plan's terms (paths as text, so run.json is JSON)."""
    given = judgement(args)
    return {
        "recheck": given["recheck"],
        "fail_on": given["fail_on"],
        "fail_on_known": given["fail_on_known"],
        "catalogs": tuple(str(p) for p in given["catalogs"]),
        "shipped_catalog": given["shipped_catalog"],
        "accept": str(given["accept"]) if given["accept"] else None,
        "scrub": tuple(str(p) for p in given["scrub"]),
        "severity": tuple(str(p) for p in given["severity"]),
    }


def _defaults(parser: argparse.ArgumentParser) -> dict[str, Any]:
    """The parser's own defaults of the settings a resumed run must not be given."""
    return {name: parser.get_default(name) for name in PLANNED}


def _library() -> Path:
    for candidate in (Path("scenarios"), REPO_LIBRARY):
        if candidate.is_dir():
            return candidate
    raise BadInputError("no scenario library found (scenarios/); give scenario files or folders")


def _resumed(args: argparse.Namespace, parser_defaults: dict[str, Any]) -> tuple[Plan, RunFolder]:
    given = [
        name
        for name in PLANNED
        if hasattr(args, name) and getattr(args, name) not in (parser_defaults.get(name), [], None)
    ]
    if given:
        flags = ", ".join("--" + n.replace("_", "-") for n in given)
        raise BadInputError(
            f"--resume uses the run's own settings (its run.json); leave out {flags}"
        )
    folder = RunFolder(args.resume)
    return folder.load(), folder


async def cmd_compare(args: argparse.Namespace) -> int:
    return await _main(args, "compare")


async def cmd_gate(args: argparse.Namespace) -> int:
    return await _main(args, "gate")


async def _main(args: argparse.Namespace, kind: str) -> int:
    if args.resume:
        plan, folder = _resumed(args, args.planned_defaults)
    else:
        plan = _plan(args, kind)
        folder = RunFolder(args.out) if args.out else default_folder(Path("reports"), plan)
        if folder.plan_file.exists():
            raise BadInputError(
                f"{folder.root} already holds a run; finish it with --resume {folder.root}, "
                "or choose another --out"
            )
    display = Display(sys.stderr, mode=choose_mode(sys.stderr, quiet=args.quiet))
    display.verbose = args.verbose
    try:
        outcome = await execute(plan, folder, display, resumed=bool(args.resume))
    except ScenarioError as exc:
        for problem in exc.problems:
            print(problem.render(), file=sys.stderr)
        raise
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
