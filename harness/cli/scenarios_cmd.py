"""``conductor-compat validate`` and ``conductor-compat run``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from harness.cli.options import (
    docker_settings,
    isolation_for,
    parse_targets,
    say,
    server_options,
    workdir_for,
)
from harness.documents.limits import (
    BYTES_PER_VALUE,
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_TASKS,
    FILE_BYTES_VARIABLE,
    TASKS_VARIABLE,
    Limits,
    describe_size,
    parse_count,
    parse_size,
)
from harness.errors import BadInputError, ExitCode, ServerDiedError
from harness.runner import DEFAULT_JOBS, ScenarioFinished, run_session
from harness.scenarios import ScenarioError, load_all, require_valid
from harness.scenarios.outbound import declared_hosts
from harness.targets import get_profile, provision

OUTBOUND_HELP = (
    "let HTTP tasks of scenarios that set allow_outbound call hosts other than the local "
    "stub (off by default: workflows from the wild call public hosts); the servers then "
    "reach the HOST:PORT those scenarios list in allow_outbound, and nothing else"
)


def register(commands: Any) -> None:
    validate = commands.add_parser(
        "validate",
        help="check scenario files without running them",
        description="Check scenario files and folders: YAML syntax, the scenario schema, "
        "names that must exist, file references, HTTP tasks that must call the stub. Each "
        "problem is printed as FILE:LINE:COLUMN: MESSAGE. Exit 0 when every file is valid, "
        "2 otherwise.",
    )
    validate.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    validate.add_argument("--allow-outbound", action="store_true", help=OUTBOUND_HELP)
    limit_options(validate)
    validate.set_defaults(handler=cmd_validate)

    run = commands.add_parser(
        "run",
        help="run scenarios on one target and write their traces",
        description="Start the target (or reach remote:URL), run every scenario under PATH "
        "on it, several at once, and write DIR/<scenario>.trace.json as each finishes. "
        "Exit 0 when every scenario completed (or does not apply to the target), 1 when an "
        "expectation failed, 3 when a scenario ended with an error, 2 for invalid files, "
        "4 when the server died mid-run (its signal or exit code and its log's last lines).",
    )
    run.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    run.add_argument(
        "--target", required=True, metavar="TARGET", help="FLAVOR:VERSION or remote:URL"
    )
    run.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="DIR",
        help="folder for the traces (created if missing)",
    )
    run.add_argument(
        "--jobs",
        type=int,
        default=DEFAULT_JOBS,
        metavar="N",
        help=f"scenarios run at once on the target (default: {DEFAULT_JOBS})",
    )
    run.add_argument(
        "--repeats",
        type=int,
        default=1,
        metavar="N",
        help="run each scenario N times (default: 1); a baseline recorded with 2 or more "
        "lets `diff` tell noise from real differences",
    )
    run.add_argument("--allow-outbound", action="store_true", help=OUTBOUND_HELP)
    run.add_argument(
        "--keep-poll-bodies",
        action="store_true",
        help="keep the body of every settle and wait poll, not only its digest (large "
        "traces; for recording test fixtures of intermediate states)",
    )
    limit_options(run)
    server_options(run)
    run.set_defaults(handler=cmd_run)


def limit_options(parser: argparse.ArgumentParser) -> None:
    """``--max-file-size`` and ``--max-tasks``: the input limits, raised for one command."""
    group = parser.add_argument_group(
        "input limits",
        "Limits that keep any file from exhausting the machine. A document may also hold, "
        f"its YAML aliases expanded, one value per {BYTES_PER_VALUE} bytes of the file-size "
        f"limit ({Limits().max_values:,} by default), and nest at most "
        f"{Limits().max_depth} levels. Every command, compare and gate included, also reads "
        f"the limits from {FILE_BYTES_VARIABLE} and {TASKS_VARIABLE}; these flags win.",
    )
    group.add_argument(
        "--max-file-size",
        type=_size,
        metavar="SIZE",
        help="largest scenario or definition file read, in bytes or with K, M or G "
        f"(default: {describe_size(DEFAULT_MAX_FILE_BYTES)})",
    )
    group.add_argument(
        "--max-tasks",
        type=_count,
        metavar="N",
        help=f"most tasks in one workflow definition, nested ones counted "
        f"(default: {DEFAULT_MAX_TASKS})",
    )


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except BadInputError as exc:
        raise argparse.ArgumentTypeError(exc.message) from exc


def _count(text: str) -> int:
    try:
        return parse_count(text, "--max-tasks")
    except BadInputError as exc:
        raise argparse.ArgumentTypeError(exc.message) from exc


def _limits(args: argparse.Namespace) -> Limits:
    return Limits.from_environment().replace(
        max_file_bytes=args.max_file_size, max_tasks=args.max_tasks
    )


async def cmd_validate(args: argparse.Namespace) -> int:
    loaded = load_all(args.paths, allow_outbound=args.allow_outbound, limits=_limits(args))
    for problem in loaded.problems:
        print(problem.render())
    bad = len({p.file for p in loaded.problems})
    if not loaded.files:
        raise BadInputError(
            "no scenario files (*.yaml, *.yml) found under " + ", ".join(str(p) for p in args.paths)
        )
    summary = f"{loaded.files - bad} of {loaded.files} scenario files valid"
    if loaded.problems:
        say(f"{summary}; {len(loaded.problems)} problems")
        return int(ExitCode.BAD_INPUT)
    say(summary)
    return int(ExitCode.OK)


async def cmd_run(args: argparse.Namespace) -> int:
    try:
        scenarios = require_valid(
            args.paths, allow_outbound=args.allow_outbound, limits=_limits(args)
        )
    except ScenarioError as exc:  # each problem once, as FILE:LINE:COLUMN lines
        for problem in exc.problems:
            print(problem.render(), file=sys.stderr)
        raise BadInputError(exc.message) from exc
    if args.jobs < 1:
        raise BadInputError("--jobs must be at least 1")
    if args.repeats < 1:
        raise BadInputError("--repeats must be at least 1")
    specs = parse_targets([args.target])
    docker = docker_settings(args)
    workdir, _ = workdir_for(args)
    say(f"{len(scenarios)} scenarios; starting {args.target} ...")
    async with provision(
        specs,
        profile=get_profile(args.profile),
        workdir=workdir,
        runtime=args.runtime,
        ready_timeout_s=args.ready_timeout,
        docker=docker,
        isolation=isolation_for(args, declared_hosts(scenarios)),
    ) as targets:
        target = targets[0]
        say(
            f"{target.identity.target} ready at {target.base_url} in {target.start_seconds:.1f} s; "
            f"running {len(scenarios)} scenarios, {args.jobs} at a time"
        )
        summary = await run_session(
            scenarios,
            target,
            args.out,
            jobs=args.jobs,
            on_finished=_progress,
            keep_poll_bodies=args.keep_poll_bodies,
            repeats=args.repeats,
        )
        blocked = target.blocked() if target.blocked else None
    say(
        f"isolation: {target.identity.isolation}"
        + (f"; {blocked} outbound connection attempts blocked" if blocked else "")
    )
    counts = {
        s: summary.count(s) for s in ("completed", "not_applicable", "failed_expectation", "error")
    }
    print(
        f"{summary.target}: "
        + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in counts.items())
        + f" in {summary.seconds:.1f} s; traces in {args.out}"
    )
    if summary.death is not None:
        death = summary.death
        raise ServerDiedError(
            f"{death.summary()}. The traces of what finished are in {args.out}"
            + (f"; {len(summary.not_run)} scenario runs were not made" if summary.not_run else "")
            + (f". Its log is {death.log}; the last lines follow." if death.log else "."),
            details=list(death.log_tail),
        )
    if counts["error"]:
        return int(ExitCode.INCONCLUSIVE)
    if counts["failed_expectation"]:
        return int(ExitCode.FINDING)
    return int(ExitCode.OK)


def _progress(event: ScenarioFinished) -> None:
    name = event.scenario + (f" (run {event.repeat})" if event.repeat > 1 else "")
    line = f"[{event.done}/{event.total}] {name}: {event.status.replace('_', ' ')}"
    line += f" ({event.seconds:.1f} s)"
    if event.reason and event.status != "completed":
        line += f": {event.reason}"
    say(line)
