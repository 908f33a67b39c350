"""``conductor-compat site``: the release matrix, a static site over the published reports."""

from __future__ import annotations

import argparse
from typing import Any

from harness.cli.options import add_options
from harness.errors import BadInputError
from harness.report.site import write_site


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "site",
        help="write the release matrix (index.html, matrix.html) over the published reports",
        description="Write index.html and matrix.html into the published reports' folder, "
        "from the report.json (or report.json.xz) of each folder in it: index.html lists "
        "every published report with its verdicts and files; matrix.html takes the newest "
        "comparison of each version with the baseline and shows the catalog's changes by "
        "version (how many differences each explained where), the scenarios by version "
        "(each one's verdict), and the trends (every comparison's verdict and counts, by "
        "date). Self-contained pages: no script, no external resource. Exit 0, or 2 when "
        "the folder does not exist.",
    )
    add_options(parser, "published", "site_baseline")
    parser.set_defaults(handler=cmd_site)


async def cmd_site(args: argparse.Namespace) -> int:
    if not args.published.is_dir():
        raise BadInputError(f"{args.published} is not a folder of published reports")
    files = write_site(args.published, args.site_baseline)
    print(f"wrote {', '.join(str(p) for p in files.values())}")
    return 0
