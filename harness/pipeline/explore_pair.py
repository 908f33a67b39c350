"""One generated scenario on the two targets of an ``explore`` run: played on both at
once, compared as ``compare`` compares, played again when it shows something no change
explains, and remembered, so that Hypothesis's replays of a drawing cost nothing.

    WORK/<scenario>/scenario.yaml          the scenario file
    WORK/<scenario>/<target>/*.trace.json  its runs on each target
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.classify import SEVERITIES, Settings, assess_run
from harness.classify.model import Finding, ScenarioResult
from harness.classify.severity import fingerprint
from harness.errors import ServerDiedError
from harness.pipeline import live
from harness.pipeline.plan import slug
from harness.scenarios import Scenario, load_scenario
from harness.targets.model import RunningTarget
from harness.traces import load_trace_set

SIGNED = "explore"  # the scenario name in a signature: the same difference, whatever drawing


@dataclass(frozen=True, slots=True)
class Shown:
    """What one scenario showed: each unexplained difference (by signature), the
    catalogued changes it reached, and whether the baseline itself failed it."""

    name: str
    folder: Path
    document: dict[str, Any]
    unexplained: dict[str, dict[str, Any]]
    changes: tuple[str, ...]
    verdict: str
    runs: int  # runs of it on each target
    seconds: float
    reason: str = ""  # the verdict's reason (an inconclusive one says how the baseline failed)

    def worst_first(self) -> tuple[str, ...]:
        """The unexplained differences' signatures: those shown in every run before those
        shown in some, each the most severe first."""

        def rank(signature: str) -> tuple[bool, int, str]:
            difference = self.unexplained[signature]
            rate = difference["rate"]
            sometimes = bool(rate) and rate[0] < rate[1]
            return sometimes, SEVERITIES.index(difference["severity"]), signature

        return tuple(sorted(self.unexplained, key=rank))


@dataclass(frozen=True, slots=True)
class Race:
    """A finding that more runs took back: judged over every run, the baseline's own runs
    (or the candidate's) show the difference both ways."""

    signature: str
    difference: dict[str, Any]  # as the first runs showed it
    runs: int  # runs on each target, the confirming ones included
    disposition: str  # the difference over every run (noise: the baseline's runs differ)
    verdict: str
    reason: str

    @property
    def why(self) -> str:
        if self.verdict == "inconclusive":
            return self.reason.splitlines()[0] if self.reason else "the baseline failed it"
        return f"the difference is {self.disposition}"


def signature(finding: Finding) -> str:
    """A difference's fingerprint with the scenario left out: generated scenarios have
    names of their own, and the same difference shows in many of them."""
    return fingerprint(SIGNED, finding.difference)


def unexplained(result: ScenarioResult, needed: int) -> dict[str, dict[str, Any]]:
    """The differences no change explains: open ones, and intermittent ones seen in at
    least ``needed`` candidate runs. A scenario the baseline failed in every run is
    inconclusive, and shows nothing."""
    if result.verdict in ("inconclusive", "not_applicable"):
        return {}
    out: dict[str, dict[str, Any]] = {}
    for finding in result.findings:
        if finding.disposition == "intermittent":
            if finding.change is not None or (finding.rate or (0, 0))[0] < needed:
                continue
        elif finding.disposition != "open":
            continue
        d = finding.difference
        out.setdefault(
            signature(finding),
            {
                "level": d.level,
                "kind": d.kind,
                "path": d.path,
                "shape": d.shape,
                "baseline": d.baseline,
                "candidate": d.candidate,
                "severity": finding.severity,
                "rate": list(finding.rate) if finding.rate else None,
            },
        )
    return out


def race_of(
    result: ScenarioResult, sought: str, first: dict[str, Any], runs: int, needed: int
) -> Race | None:
    """None when a finding (``first``: its difference as first shown) still holds in
    ``result``, judged over more runs; else the race it turned out to be."""
    if sought in unexplained(result, needed):
        return None
    disposition = next(
        (f.disposition for f in result.findings if signature(f) == sought), "not shown"
    )
    return Race(sought, first, runs, disposition, result.verdict, result.reason)


@dataclass(slots=True)
class Pair:
    servers: dict[str, RunningTarget]
    baseline: str
    candidate: str
    work: Path
    settings: Settings
    runs: int = 3
    needed: int = 2
    memo: dict[str, Shown] = field(default_factory=dict)

    async def observe(self, document: dict[str, Any]) -> Shown:
        name = str(document["name"])
        if name in self.memo:
            return self.memo[name]
        began = time.monotonic()
        folder = self.work / name
        folder.mkdir(parents=True, exist_ok=True)
        file = folder / "scenario.yaml"
        file.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        scenario = load_scenario(file)
        await self._play(scenario, folder, [1])
        result = await asyncio.to_thread(self._assess, folder, name)
        found = unexplained(result, 1)
        runs = 1
        if found and self.runs > 1:
            runs = self.runs
            await self._play(scenario, folder, list(range(2, runs + 1)))
            result = await asyncio.to_thread(self._assess, folder, name)
            found = unexplained(result, self.needed)
        changes = sorted({str(f.change["id"]) for f in result.findings if f.change is not None})
        shown = Shown(
            name,
            folder,
            document,
            found,
            tuple(changes),
            result.verdict,
            runs,
            round(time.monotonic() - began, 1),
            result.reason,
        )
        self.memo[name] = shown
        if not found:  # only a finding's traces are kept
            await asyncio.to_thread(shutil.rmtree, folder, True)
        return shown

    async def confirm(self, name: str, sought: str, extra: int) -> Race | None:
        """A finding's scenario played ``extra`` more times on both targets and judged
        again over every run: None when the difference holds, else the race it was."""
        shown = self.memo[name]
        scenario = load_scenario(shown.folder / "scenario.yaml")
        first = shown.runs + 1
        await self._play(scenario, shown.folder, list(range(first, first + extra)))
        result = await asyncio.to_thread(self._assess, shown.folder, name)
        found = unexplained(result, self.needed)
        kept = found if sought in found else {**found, sought: shown.unexplained[sought]}
        self.memo[name] = dataclasses.replace(shown, unexplained=kept, runs=shown.runs + extra)
        return race_of(result, sought, shown.unexplained[sought], shown.runs + extra, self.needed)

    async def _play(self, scenario: Scenario, folder: Path, repeats: list[int]) -> None:
        targets = (self.baseline, self.candidate)
        summaries = await asyncio.gather(
            *(
                live.play(
                    [scenario],
                    self.servers[t],
                    folder / slug(t),
                    1,
                    runs=[(scenario, r) for r in repeats],
                    name=t,
                )
                for t in targets
            )
        )
        for summary in summaries:
            if summary.death is not None:
                death = summary.death
                raise ServerDiedError(
                    f"{death.summary()} while playing {scenario.name}", details=list(death.log_tail)
                )

    def _assess(self, folder: Path, name: str) -> ScenarioResult:
        result = assess_run(
            load_trace_set(folder / slug(self.baseline)),
            load_trace_set(folder / slug(self.candidate)),
            self.settings,
            names=[name],
        )
        return result.scenarios[0]
