"""``conductor-compat clients``: real client SDKs against real servers.

``clients list`` shows the known clients; ``clients run`` plays each client's script on
every target, as a ``Plan`` of kind ``clients`` run by ``harness.pipeline`` with the
progress display as the event consumer; the exit code is the verdict's, as for compare.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from harness.cli.options import COMPARISON, add_options, parse_targets, plan_values
from harness.cli.progress import run_shown
from harness.clients.build import driver_digest
from harness.clients.known import DEFAULT_CLIENTS, KNOWN, parse_client
from harness.pipeline import Plan, RunFolder, default_folder

RUN = (
    "config",
    "client",
    "baseline",
    "candidate",
    "out",
    "reports",
    *(o for o in COMPARISON if o != "no_recheck"),  # no live re-check of a client's run
    "baseline_repeats",
    "script_timeout",
    "server_property",
    "ready_timeout",
    "no_isolation",
    "jit",
    "quiet",
    "verbose",
)


def register(commands: Any) -> None:
    clients = commands.add_parser(
        "clients",
        help="play client SDKs (Java, Python, JavaScript) against servers, and compare",
        description="Real client SDKs against real servers: what a team's workers and "
        "callers meet when the server changes under them.",
    )
    sub = clients.add_subparsers(dest="clients_command", metavar="SUBCOMMAND", required=True)
    ls = sub.add_parser("list", help="the known client SDKs and what building each needs")
    ls.set_defaults(handler=cmd_list)
    run = sub.add_parser(
        "run",
        help="play each client's script on every target, and compare them",
        description="Build each client's driver (once: later runs take it from the cache), "
        "start each target (two at a time), and play every client's script on it through a "
        "recording proxy: metadata, workflows started and run by the SDK's own worker "
        "framework, task calls, workflow actions, search, errors. Each client on each "
        "candidate is compared with the same client on the baseline, through the same "
        "pipeline as compare (report.md, report.html, report.json, junit.xml), and "
        "clients.md shows every client on every target, with each call the SDK failed on, "
        "its exception and the server's answer behind it. Exit codes as compare: 0 "
        "compatible, 9 action required, 1 incompatible, 3 inconclusive (a driver hung or "
        "crashed), 2 bad input, 4 harness error.",
    )
    add_options(run, *RUN)
    run.set_defaults(handler=cmd_run)


async def cmd_list(args: argparse.Namespace) -> int:
    width = max(len(s.name) for s in KNOWN)
    for spec in KNOWN:
        default = " (default)" if spec.name in DEFAULT_CLIENTS else ""
        print(
            f"{spec.name:<{width}}  {spec.package}; runs on {spec.language}; {spec.needs}{default}"
        )
    return 0


def _plan(args: argparse.Namespace) -> Plan:
    names = tuple(dict.fromkeys(args.client))
    for name in names:
        driver_digest(parse_client(name))  # unknown: exit 2, naming the known ones
    parse_targets([args.baseline, *args.candidate])
    values = plan_values(args, [o for o in RUN if o not in ("config", "quiet", "verbose")])
    values.update(clients=names, recheck=False)
    return Plan(kind="clients", command=tuple(sys.argv[1:]), **values)


async def cmd_run(args: argparse.Namespace) -> int:
    plan = _plan(args)
    folder = RunFolder(args.out) if args.out else default_folder(args.reports, plan)
    outcome = await run_shown(plan, folder, args)
    print(
        f"{outcome.verdict.replace('_', ' ')}: {outcome.reason}; reports in {outcome.folder} "
        f"(the matrix: {outcome.folder / 'clients.md'})"
    )
    return outcome.exit_code
