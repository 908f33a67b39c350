"""``conductor-compat validate`` and ``conductor-compat run``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from harness.cli.options import (
    SERVER,
    add_options,
    docker_settings,
    plan_values,
    registered,
    say,
    workdir_for,
)
from harness.cli.progress import Display, choose_mode
from harness.documents.limits import Limits
from harness.errors import BadInputError, ExitCode
from harness.pipeline import Plan, run_plan
from harness.pipeline import events as ev
from harness.resources import library_dir
from harness.scenarios import ScenarioError, load_all


def register(commands: Any) -> None:
    validate = commands.add_parser(
        "validate",
        help="check scenario files without running them",
        description="Check scenario files and folders: YAML syntax, the scenario schema, "
        "names that must exist, file references, HTTP tasks that must call the stub. Each "
        "problem is printed as FILE:LINE:COLUMN: MESSAGE. Exit 0 when every file is valid, "
        "2 otherwise. With no PATH: the config file's paths, else the shipped scenario "
        "library.",
    )
    add_options(validate, "config", "paths", "allow_outbound", "max_file_size", "max_tasks")
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
    add_options(
        run,
        "config",
        "paths",
        "target",
        "traces_out",
        "jobs",
        "repeats",
        "allow_outbound",
        "keep_poll_bodies",
        "max_file_size",
        "max_tasks",
        *SERVER,
        "workdir",
    )
    run.set_defaults(handler=cmd_run)


def _limits(args: argparse.Namespace) -> Limits:
    return Limits.from_environment().replace(
        max_file_bytes=args.max_file_size, max_tasks=args.max_tasks
    )


async def cmd_validate(args: argparse.Namespace) -> int:
    paths: list[Path] = args.paths or [library_dir()]
    loaded = load_all(paths, allow_outbound=args.allow_outbound, limits=_limits(args))
    for problem in loaded.problems:
        print(problem.render())
    bad = len({p.file for p in loaded.problems})
    if not loaded.files:
        raise BadInputError(
            "no scenario files (*.yaml, *.yml) found under " + ", ".join(str(p) for p in paths)
        )
    summary = f"{loaded.files - bad} of {loaded.files} scenario files valid"
    if loaded.problems:
        say(f"{summary}; {len(loaded.problems)} problems")
        return int(ExitCode.BAD_INPUT)
    say(summary)
    return int(ExitCode.OK)


async def cmd_run(args: argparse.Namespace) -> int:
    docker = docker_settings(args)  # docker options without the docker runtime: exit 2 now
    workdir, _ = workdir_for(args)
    targets = args.target if isinstance(args.target, list) else [args.target]
    values = plan_values(args, [o.name for o in registered(args)])
    values.update(
        # as given (traces record the file path), else the shipped library
        paths=tuple(str(p) for p in (args.paths or [library_dir()])),
        images=tuple(f"{t}={i}" for t, i in docker.images.items()),
        targets=tuple(targets),
        out=str(args.out),
        workdir=str(workdir),
        repeats=args.repeats,
        keep_poll_bodies=args.keep_poll_bodies,
        max_file_bytes=args.max_file_size,
        max_tasks=args.max_tasks,
    )
    plan = Plan("run", command=tuple(sys.argv[1:]), **values)
    # A line per scenario run, on a terminal too: the run's log is what it shows.
    display = Display(sys.stderr, mode=choose_mode(sys.stderr, quiet=False), verbose=True)

    def on_event(event: ev.Event) -> None:
        display(event)
        if isinstance(event, ev.RunFinished):
            for runs in event.runs:
                print(
                    f"{runs.target}: "
                    + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in runs.counts.items())
                    + f" in {runs.seconds:.1f} s; traces in {runs.traces}",
                    flush=True,
                )

    try:
        outcome = await run_plan(plan, on_event)
    except ScenarioError as exc:  # each problem once, as FILE:LINE:COLUMN lines
        for problem in exc.problems:
            print(problem.render(), file=sys.stderr)
        raise BadInputError(exc.message) from exc
    finally:
        display.close()
    return outcome.exit_code
