"""``conductor-compat changes``: the catalog of changes, listed or as MIGRATION.md."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from harness.classify import load_catalog
from harness.classify.severity import SEVERITIES
from harness.cli.options import add_options
from harness.errors import BadInputError
from harness.report.migration import render_migration
from harness.targets.locks import known_locks
from harness.targets.profiles import DEFAULT_PROFILE, get_profile


def register(commands: Any) -> None:
    changes = commands.add_parser(
        "changes",
        help="list the catalog of changes, or write it as MIGRATION.md",
        description="The catalog of changes: how the Conductor server changed between "
        "versions, as seen on real servers, each with its severity, who it affects, what to "
        "do and the upstream change that made it. Comparisons explain each difference by "
        "one of these changes. --markdown prints MIGRATION.md (generated from the catalog, "
        "so it never drifts from it).",
    )
    add_options(changes, "config", "catalog", "markdown", "clients_matrix")
    changes.set_defaults(handler=cmd_changes)


async def cmd_changes(args: argparse.Namespace) -> int:
    catalog = load_catalog(args.catalog)
    if args.markdown:
        versions = [
            {
                "target": str(lock.target),
                "version": lock.target.version,
                "backend": lock.embedded_backend,
                "settings": dict(get_profile(DEFAULT_PROFILE).configured()),
            }
            for lock in known_locks()
            if lock.target.flavor.value != "netflix"
        ]
        clients = _clients_matrix(args.clients_matrix) if args.clients_matrix else None
        print(render_migration(catalog, versions, clients), end="")
        return 0
    ordered = sorted(catalog.changes, key=lambda c: (SEVERITIES.index(c.severity), c.id))
    width = max((len(c.id) for c in ordered), default=10)
    for change in ordered:
        stores = f" [{', '.join(change.backends)}]" if change.backends else ""
        stores += f" ({change.across} only)" if change.across else ""
        stores += "".join(f" [{k}={v}]" for k, v in change.settings)
        print(
            f"{change.severity:<10} {change.id:<{width}}  {change.versions}{stores}  {change.title}"
        )
    print(f"{len(ordered)} changes in {', '.join(catalog.files)}")
    return 0


def _clients_matrix(path: Path) -> dict[str, Any]:
    """A clients.json, or bad input naming the file."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BadInputError(f"{path}: not a readable clients.json ({error})") from error
    if not isinstance(doc, dict) or doc.get("clients_format") != 1:
        raise BadInputError(f"{path}: not a clients.json of `clients run` (clients_format 1)")
    return doc
