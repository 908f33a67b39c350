"""``conductor-compat merge``: the run folders of a sharded compare or gate joined into one
report, with no server."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from harness.cli.options import add_options, say
from harness.cli.progress import Display, choose_mode
from harness.pipeline import Plan, run_plan


def register(commands: Any) -> None:
    merge = commands.add_parser(
        "merge",
        help="join the run folders of a sharded compare or gate into one report",
        description="Join the run folders of `compare --shard I/N` or `gate --shard I/N` "
        "(one per shard, N in all, each once) into the run folder DIR of the whole run: "
        "its run.json, every shard's traces (hard links where they can be) and one "
        "report.json, report.md, report.html and junit.xml over all the scenarios, made "
        "from the traces with no server, the same as an unsharded run's apart from run "
        "metadata (times, folders). The shards must be of one run: the same plan apart "
        "from --shard, the same N, the same scenario files and conductor-compat version. "
        "The judgement (scrub, severity, catalogs, acceptances) is the shards' plan's, read "
        "from the files it names. Exit codes as compare: 0 compatible, 9 action required, "
        "1 incompatible, 3 inconclusive (also when a shard's run did not finish), 2 bad "
        "input (shards missing, given twice or of other runs), 4 harness error.",
    )
    add_options(merge, "config", "run_dirs", "merge_out", "quiet")
    merge.set_defaults(handler=cmd_merge)


async def cmd_merge(args: argparse.Namespace) -> int:
    plan = Plan(
        "merge",
        paths=tuple(str(p.resolve()) for p in args.run_dirs),
        command=("merge", *sys.argv[2:]),
        out=str(args.out.resolve()),
    )
    display = Display(sys.stderr, mode=choose_mode(sys.stderr, quiet=args.quiet))
    try:
        outcome = await run_plan(plan, display)
    finally:
        display.close()
    print(f"{outcome.verdict.replace('_', ' ')}: {outcome.reason}; reports in {outcome.folder}")
    if not outcome.complete:
        say("a shard's run did not finish: finish it with --resume, then merge again")
    return outcome.exit_code
