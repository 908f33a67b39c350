"""`conductor-compat changes`: the catalog listed, and MIGRATION.md generated from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.classify import load_catalog
from harness.cli import main

ROOT = Path(__file__).resolve().parents[2]


# The newest published client matrix (a `clients run`'s clients.json): MIGRATION.md's
# section on client SDKs.
CLIENTS = sorted(ROOT.glob("reports/published/*-clients-*/clients.json"))[-1]


def test_migration_md_is_the_catalog_as_generated_today(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["changes", "--markdown", "--clients", str(CLIENTS)]) == 0
    generated = capsys.readouterr().out
    relative = CLIENTS.relative_to(ROOT)
    assert (ROOT / "MIGRATION.md").read_text() == generated, (
        f"MIGRATION.md is stale: conductor-compat changes --markdown --clients {relative} "
        "> MIGRATION.md"
    )
    assert "## Client SDKs" in generated
    for change in load_catalog().changes:
        assert f"`{change.id}`" in generated
        if change.severity in ("breaking", "behavioral"):
            assert change.action.split()[0] in generated and change.link in generated


def test_changes_lists_every_change_with_its_severity_and_versions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["changes"]) == 0
    out = capsys.readouterr().out
    catalog = load_catalog()
    for change in catalog.changes:
        line = next(x for x in out.splitlines() if f" {change.id} " in x)
        assert line.startswith(change.severity) and change.versions in line
    assert f"{len(catalog.changes)} changes in" in out
