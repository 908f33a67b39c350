"""``conductor-compat upgrade``: scenarios played across an in-place upgrade or a rollback.

The arguments become one ``Plan`` of kind ``upgrade``, run by ``harness.pipeline`` with the
progress display as the event consumer; the exit code is the verdict's, as for compare.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from harness.cli.options import (
    COMPARISON,
    add_options,
    parse_targets,
    plan_values,
    registered,
)
from harness.cli.progress import run_shown
from harness.errors import BadInputError
from harness.pipeline import Plan, RunFolder, default_folder
from harness.resources import library_dir

IN_FLIGHT = "upgrade"  # the shipped in-flight library: scenarios/upgrade/


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "upgrade",
        help="play scenarios across an in-place upgrade (or rollback) on one store, and compare",
        description="Upgrade in place, with executions in flight. On one store (a PostgreSQL "
        "or redis-server the harness starts), the --from server plays every scenario under "
        "PATH up to its first switch point (the first step its `upgrade: switch_after` names; "
        "by default the first step after which a workflow is still running); then it is stopped "
        "(--kill: killed with SIGKILL), the --to server starts on the same store, and every "
        "scenario goes on with it. A scenario with several switch points (a list of steps, "
        "or by default every step after which work is in flight) is played again at each "
        "later point, in a round of its own with a store and a switch of its own, reported "
        "as a column of its own (--switch-points first: the first point only). "
        "Then each version plays the same scenarios wholly "
        "on servers of its own (--from twice, so that noise is told from differences). The "
        "reports compare both with --from played wholly: the 'new' column is what the new "
        "version changes, the '→' column what the upgrade does to executions in flight. A "
        "--to older than --from is a rollback. A new server that refuses the old one's "
        "store is a finding of the report, not an error. A scenario whose run across a switch "
        "gates is played across again, each time with a store and a switch of its own, until "
        "it has 3 runs (--no-recheck: once), so that a difference the switch always makes is "
        "told from one that comes and goes. Default PATH: the shipped in-flight "
        "library (scenarios/upgrade). Several --to share one --from played wholly: "
        "--from netflix:3.15.0 --to oss:3.21.14 --to oss:3.32.1. --rollback-from oss:3.21.14 "
        "adds the switch back from oss:3.21.14 in the same run, with a report of its own "
        "against oss:3.21.14 played wholly. Exit codes, of the worst report, as compare: "
        "0 compatible, 9 action required, 1 incompatible, 3 inconclusive, 2 bad input, "
        "4 harness error, 130 interrupted.",
    )
    add_options(
        parser,
        "config",
        "paths",
        "upgrade_from",
        "upgrade_to",
        "rollback_from",
        "upgrade_profile",
        "server_property",
        "kill",
        "switch_points",
        "out",
        "reports",
        *COMPARISON,
        "baseline_repeats",
        "jobs",
        "ready_timeout",
        "no_isolation",
        "jit",
        "allow_outbound",
        "quiet",
        "verbose",
    )
    parser.set_defaults(handler=cmd_upgrade)


def _plan(args: argparse.Namespace) -> Plan:
    paths = args.paths or [_in_flight_library()]
    for path in paths:
        if not path.exists():
            raise BadInputError(f"{path} does not exist (give scenario files or folders)")
    news = tuple(dict.fromkeys(args.upgrade_to))  # each once, in the order given
    rollbacks = tuple(args.rollback_from)
    parse_targets([args.upgrade_from, *news, *rollbacks])  # unknown: exit 2
    values = plan_values(args, [o.name for o in registered(args)])
    values.update(
        baseline=args.upgrade_from,
        candidates=news,
        rollbacks=rollbacks,
        profile=args.profile,
        paths=tuple(str(p.resolve()) for p in paths),
    )
    return Plan(kind="upgrade", command=tuple(sys.argv[1:]), **values)


def _in_flight_library() -> Path:
    for root in (Path("scenarios"), library_dir()):
        if (root / IN_FLIGHT).is_dir():
            return root / IN_FLIGHT
    raise BadInputError(
        "no in-flight scenario library found (scenarios/upgrade); give scenario files or folders"
    )


async def cmd_upgrade(args: argparse.Namespace) -> int:
    plan = _plan(args)
    folder = RunFolder(args.out) if args.out else default_folder(args.reports, plan)
    outcome = await run_shown(plan, folder, args)
    rollbacks = sorted({str(Path(n).parent) for n in outcome.reports if Path(n).parent.name})
    where = f"{outcome.folder}" + (f" (rollbacks: {', '.join(rollbacks)})" if rollbacks else "")
    print(f"{outcome.verdict.replace('_', ' ')}: {outcome.reason}; reports in {where}")
    return outcome.exit_code
