"""``conductor-compat import``: workflow definitions in, ready-to-run scenario files out."""

from __future__ import annotations

import argparse
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from harness.cli.options import add_options, say
from harness.errors import BadInputError, ExitCode
from harness.importer import (
    DefinitionSet,
    build,
    fetch_definitions,
    read_files,
    read_inputs,
    summary,
    write_all,
)
from harness.scenarios import ScenarioError, load_all
from harness.targets.spec import auth_headers, parse_target

DESCRIPTION = """\
Turn workflow definitions into scenario files, one per workflow, ready to run with
`conductor-compat run` or `compare`.

Input: JSON files holding one workflow definition, a list of definitions (workflows
and task definitions mixed), or an export of a server's metadata ({"workflowDefs":
[...], "taskDefs": [...]}); or, with --from remote:URL, the definitions of a running
server (GET /api/metadata/workflow and /api/metadata/taskdefs), with credentials from
the environment as for remote targets: CONDUCTOR_COMPAT_TOKEN, CONDUCTOR_COMPAT_BEARER
or CONDUCTOR_COMPAT_HEADERS.

Each scenario carries its workflow, the workflows it names (sub-workflows, START_WORKFLOW
targets, failure workflow) when the input has them, and a task definition for each worker
task (the input's, else the harness defaults). Its workers complete every worker task with
the task's input as output. HTTP tasks are pointed at the local stub, which echoes each
request; the original URLs are listed at the top of the file. Task types that reach other
networks (KAFKA_PUBLISH, EVENT to external queues, AI and database tasks) make a scenario
apply to no version. The steps start the workflow with a value for every input it reads,
complete the WAIT and HUMAN tasks on its sure path, and wait for it to end, whatever its
status; where the harness cannot know what happens (a WAIT inside a loop, a dynamic fork),
the scenario records where the workflow stops instead, and says why. applies_to is
derived from the features used: a GraalJS script, say, applies to conductor-oss 3.32 only.

--input FILE gives the start input instead (one for every workflow, or a map of workflow
name to input). --skip-invalid imports the files that hold definitions and lists the
others.

Exit 0 when every file was written and validates; 2 for input that is not JSON or not a
definition (each problem names its file; nothing is written unless --skip-invalid), for
existing files without --force, or for a scenario that does not validate.
"""


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "import",
        help="turn workflow definitions (files or a server's) into scenario files",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_options(
        parser,
        "files", "import_out", "source", "name", "prefix", "force", "skip_invalid", "start_input",
    )  # fmt: skip
    parser.set_defaults(handler=cmd_import)


async def _definitions(args: argparse.Namespace) -> DefinitionSet:
    if args.source and args.files:
        raise BadInputError("give definition files or --from remote:URL, not both")
    if args.source:
        spec = parse_target(args.source)
        if not spec.is_remote or spec.url is None:
            raise BadInputError(f"--from takes remote:URL (a running server), not '{args.source}'")
        say(f"reading the definitions of {spec} ...")
        return await fetch_definitions(spec.url, auth_headers())
    if not args.files:
        raise BadInputError("nothing to import: give definition files or --from remote:URL")
    # the same files give the same scenarios
    return read_files(sorted(set(args.files)), skip_invalid=args.skip_invalid)


async def cmd_import(args: argparse.Namespace) -> int:
    definitions = await _definitions(args)
    for problem in definitions.skipped:
        say(f"skipped: {problem}")
    names = [w.name for w in definitions.workflows]
    inputs = read_inputs(args.start_input, names) if args.start_input else None
    scenarios = build(definitions, prefix=args.prefix, only=args.name, inputs=inputs)
    if not scenarios:
        say(
            f"{len(definitions.task_defs)} task definitions and no workflow: nothing to write "
            "(task definitions serve the workflows imported with them)"
        )
        return int(ExitCode.OK)
    with tempfile.TemporaryDirectory(prefix="conductor-compat-import-") as scratch:
        loaded = load_all(write_all(scenarios, Path(scratch), force=True))
        if loaded.problems:  # a bug in the importer: say so, with every problem
            raise ScenarioError(loaded.problems)
    written = write_all(scenarios, args.out, force=args.force)
    for scenario in scenarios:
        info = summary(scenario)
        line = (
            f"{args.out / info['file']}: {info['workflow']}; netflix {info['netflix']}, "
            f"oss {info['oss']}; {info['mode']}"
        )
        print(textwrap.shorten(line, width=200, placeholder=" ..."))
    say(
        f"{len(written)} scenario file{'s' * (len(written) != 1)} written to {args.out} "
        f"from {len(definitions.workflows)} workflow and {len(definitions.task_defs)} task "
        "definitions; all valid"
        + (f"; {len(definitions.skipped)} problems skipped (above)" if definitions.skipped else "")
    )
    return int(ExitCode.OK)
