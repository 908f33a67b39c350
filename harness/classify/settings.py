"""How a comparison judges: the scrub spec, severity rules, catalog of changes, the team's
acceptances and the thresholds, loaded once from files."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.classify.accept import Acceptances, load_acceptances
from harness.classify.catalog import EMPTY, Catalog, load_catalog
from harness.classify.severity import SeverityRules, load_severity_rules
from harness.normalize import ScrubSpec, load_spec


@dataclass(frozen=True, slots=True)
class Settings:
    spec: ScrubSpec
    severity: SeverityRules
    catalog: Catalog = EMPTY
    acceptances: Acceptances | None = None
    fail_on: str = "behavioral"
    fail_on_known: bool = True
    recheck: bool = True
    today: datetime.date = field(default_factory=datetime.date.today)


def load_settings(
    *,
    scrub: Sequence[Path] = (),
    severity: Sequence[Path] = (),
    catalogs: Sequence[Path] = (),
    shipped_catalog: bool = True,
    accept: Path | None = None,
    fail_on: str = "behavioral",
    fail_on_known: bool = True,
    recheck: bool = True,
) -> Settings:
    """Every file read and checked (bad input fails here, with file:line)."""
    catalog = load_catalog(catalogs, shipped=shipped_catalog)
    return Settings(
        spec=load_spec(list(scrub)),
        severity=load_severity_rules(list(severity)),
        catalog=catalog,
        acceptances=load_acceptances(accept, {c.id for c in catalog.changes}) if accept else None,
        fail_on=fail_on,
        fail_on_known=fail_on_known,
        recheck=recheck,
    )
