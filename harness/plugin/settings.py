"""The plugin's settings: pytest ini options (``conductor_compat_*``) over the project's
config file, read once. The defaults are ``conductor-compat compare``'s, so a project
needs only ``conductor_compat_scenarios`` (or the config file's ``paths``) to turn its
scenario files into test items.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.cli import load_config
from harness.errors import BadInputError

PREFIX = "conductor_compat_"

# name: (help, pytest's addini type, the config file's key). Unset, an option takes the
# project's config file value ([tool.conductor-compat] or conductor-compat.toml, see
# docs/configuration.md), else the command line's default.
INI: dict[str, tuple[str, str, str | None]] = {
    "scenarios": (
        "folders (or files) whose scenario files become test items (config: paths)",
        "paths",
        "paths",
    ),
    "baseline": (
        "the baseline: a target (netflix:3.15.0), or a folder of recorded baseline traces",
        "string",
        "baseline",
    ),
    "candidates": ("candidate targets, each compared with the baseline", "args", "candidates"),
    "fail_on": ("breaking, behavioral or any (as compare --fail-on)", "string", "fail_on"),
    "fail_on_known": (
        "yes: catalogued changes the scenarios reach fail until accepted; no: only "
        "unexplained differences fail (as compare --fail-on-known)",
        "string",
        "fail_on_known",
    ),
    "accept": ("the team's acceptance file (as compare --accept)", "string", "accept"),
    "jobs": ("scenario runs at once per target (default: 4)", "string", None),
    "profile": ("server configuration (as compare --profile)", "string", "profile"),
    "runtime": ("process or docker (as compare --runtime)", "string", "runtime"),
    "out": (
        "the run folder for traces and reports (default: in pytest's temporary folder)",
        "string",
        None,
    ),
    "markers": ("markers added to every scenario item (e.g. e2e)", "args", None),
    "inconclusive": (
        "fail (the default) or skip: what a candidate item whose verdict is inconclusive "
        "does (the reason is shown either way)",
        "string",
        None,
    ),
}


@dataclass(frozen=True, slots=True)
class PluginSettings:
    scenarios: tuple[Path, ...]
    baseline: str
    candidates: tuple[str, ...]
    fail_on: str
    fail_on_known: bool
    accept: str | None
    jobs: int
    profile: str
    runtime: str
    out: Path | None
    markers: tuple[str, ...]
    skip_inconclusive: bool = False

    @property
    def active(self) -> bool:
        return bool(self.scenarios)

    @property
    def recorded_baseline(self) -> bool:
        """A folder of traces rather than a live target: the comparison is a gate."""
        return os.sep in self.baseline or Path(self.baseline).is_dir()

    @property
    def targets(self) -> tuple[str, ...]:
        """Every live target, the baseline first when it is live."""
        live = () if self.recorded_baseline else (self.baseline,)
        return live + tuple(c for c in self.candidates if c != self.baseline)


def add_options(parser: pytest.Parser) -> None:
    for name, (text, kind, _) in INI.items():
        empty: object = [] if kind in ("paths", "args") else ""
        parser.addini(PREFIX + name, text, type=kind, default=empty)  # type: ignore[arg-type]
    group = parser.getgroup("conductor-compat")
    group.addoption(
        "--conductor-compat-out",
        metavar="DIR",
        help="the run folder of the scenario items' comparison (overrides the ini option)",
    )
    group.addoption(
        "--conductor-compat-candidate",
        action="append",
        default=[],
        metavar="TARGET",
        help="a candidate target (repeatable; overrides the ini option)",
    )


def read(config: pytest.Config) -> PluginSettings:
    """The ini options, else the config file found from the root folder, else defaults."""
    project = load_config(start=config.rootpath)

    def value(name: str) -> Any:
        given = config.getini(PREFIX + name)
        if given not in ("", []):
            return given
        key = INI[name][2]
        return project[key] if key else None

    jobs = str(value("jobs") or "4").strip()
    if not jobs.isdigit() or int(jobs) < 1:
        raise BadInputError(f"{PREFIX}jobs must be a whole number of at least 1, not '{jobs}'")
    known = value("fail_on_known")
    if isinstance(known, str):
        if known.strip().lower() not in ("yes", "no"):
            raise BadInputError(f"{PREFIX}fail_on_known must be yes or no, not '{known}'")
        known = known.strip().lower() == "yes"
    out = config.getoption("conductor_compat_out") or value("out")
    candidates = config.getoption("conductor_compat_candidate") or value("candidates")
    baseline = str(value("baseline"))
    if os.sep in baseline and not Path(baseline).is_absolute():
        baseline = str(config.rootpath / baseline)
    accept = value("accept")
    inconclusive = str(value("inconclusive") or "fail").strip().lower()
    if inconclusive not in ("fail", "skip"):
        raise BadInputError(f"{PREFIX}inconclusive must be fail or skip, not '{inconclusive}'")
    return PluginSettings(
        scenarios=tuple(Path(p) for p in value("scenarios") or ()),
        baseline=baseline,
        candidates=tuple(str(c) for c in candidates),
        fail_on=str(value("fail_on")),
        fail_on_known=bool(known),
        accept=str(config.rootpath / str(accept)) if accept else None,
        jobs=int(jobs),
        profile=str(value("profile")),
        runtime=str(value("runtime")),
        out=Path(out).resolve() if out else None,
        markers=tuple(str(m) for m in value("markers") or ()),
        skip_inconclusive=inconclusive == "skip",
    )
