"""The ``bisect`` job: the first published version that shows one difference.

    the versions: every locked version from --from to --to, in release order (Netflix's
        line, then conductor-oss's, which continues its numbers)
    record --from and --to (each server started, the scenarios played once, stopped)
    --to must show the difference against --from; then halve the versions between
    each probe: record the middle version, and look for the difference against --from
    the answer: the first version that shows it, and the last before it that does not

The difference is a catalogued change (its causes, whatever versions the catalog gives
it) or one difference's fingerprint (``classify/probe.py``). Where versions between two
published ones were never published (conductor-oss: 3.21.14, then 3.32.1), the answer is
that range. The halving assumes a difference stays once it appears; every probe is in
bisect.json, so a difference that came and went shows there.

With --repeats N, each version plays each scenario N times and its run i is compared with
the reference's run i. What is sought follows --to: the first version that shows the
difference in every run, or, when --to shows it in some runs only, in any run. A reference
whose later runs differ in it from its first cannot tell (the difference varies between
runs of one version there).

A run that did not finish (it stopped at a step) is named, and compared only where both
runs of its pair recorded (a run that a wait stopped: also its last snapshot, where the
other run went on): a pair shows the difference when it does at steps both runs reached,
and does not when both reached every step at which --to showed it; any other pair is
left out. So a reference whose runs stop (an older version that hangs where a
newer one goes on) can still be bisected from, as long as the difference shows by then. A
probe none of whose pairs could tell cannot tell.

    OUT/traces/<target>/    one folder of traces per version probed
    OUT/bisect.json, bisect.md
"""

from __future__ import annotations

import datetime
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.classify.probe import Sighting, Sought, sightings
from harness.errors import BadInputError, ExitCode
from harness.normalize import ScrubSpec
from harness.pipeline import events as ev
from harness.pipeline.assemble import settings_for
from harness.pipeline.bisect_write import summary, write
from harness.pipeline.outcome import Outcome
from harness.pipeline.plan import Plan, slug
from harness.pipeline.record import record
from harness.targets.locks import known_locks, release_key
from harness.targets.spec import parse_target
from harness.traces import TraceSet, load_trace_set

FORMAT = 1
EXAMPLES = 5  # differences kept per probe in bisect.json


@dataclass(frozen=True, slots=True)
class Probe:
    """One version recorded and compared with the reference (the first of the range),
    run by run: its run i against the reference's run i. The reference itself is
    compared with its own first run: a difference it shows there varies between runs of
    one version, and cannot be sought from it."""

    target: str
    showing: int  # runs that show it (the reference: its runs that differ from its first)
    sightings: tuple[Sighting, ...]
    # runs that did not finish (a hang, an error, a failed expectation): a run cut short
    # lacks what a finished one would have shown, so it is compared only where both runs
    # of its pair recorded (a run counts as finished when every scenario's run did)
    unfinished: tuple[str, ...] = ()
    runs: int = 1  # runs that could tell (the reference: its runs after the first)
    reference: bool = False
    finished: int = 1  # its runs that finished
    recorded: int = 1  # its runs that recorded steps (finished, or stopped at one)

    @property
    def tells(self) -> bool:
        """It can say yes or no: some pair of runs could tell (the reference: some run
        recorded steps), and the reference does not vary."""
        if self.reference:
            return self.recorded > 0 and not self.showing
        return self.runs > 0

    @property
    def always(self) -> bool:
        return not self.reference and self.showing == self.runs > 0

    def shows(self, every: bool = True) -> bool:
        """Whether it shows the difference: in every run, or (``every`` false) in any."""
        return self.always if every else (not self.reference and self.showing > 0)

    def to_json(self, every: bool = True) -> dict[str, Any]:
        return {
            "target": self.target,
            "reference": self.reference,
            "shows": self.shows(every) if self.tells else None,
            "runs": self.runs,
            "runs_showing": self.showing,
            "finished": self.finished,
            "unfinished": list(self.unfinished),
            "differences": len(self.sightings),
            "scenarios": sorted({s.scenario for s in self.sightings}),
            "examples": [
                {"scenario": s.scenario, "level": s.difference.level, "path": s.difference.path}
                for s in self.sightings[:EXAMPLES]
            ],
        }


def versions_between(first: str, last: str) -> list[str]:
    """Every locked version from ``first`` to ``last``, both included, in release order."""
    order = sorted((lk.target for lk in known_locks()), key=release_key)
    names = [str(t) for t in order]
    for end, option in ((first, "--from"), (last, "--to")):
        spec = parse_target(end)
        if spec.is_remote or end not in names:
            raise BadInputError(
                f"{option} {end} is not a known version; bisect probes locked versions "
                f"(`conductor-compat targets list`): {', '.join(names)}"
            )
    lo, hi = names.index(first), names.index(last)
    if lo > hi:
        raise BadInputError(f"--from {first} is newer than --to {last}; swap them")
    return names[lo : hi + 1]


async def bisect(plan: Plan, emit: ev.Emit) -> Outcome:
    began = time.monotonic()
    settings = settings_for(plan)
    kind, _, value = plan.seek.partition(":")
    sought = Sought.of(
        settings.catalog,
        value if kind == "change" else None,
        value if kind == "fingerprint" else None,
    )
    versions = versions_between(plan.baseline, plan.candidates[0])
    out = Path(str(plan.out)).resolve()
    recorded: dict[str, TraceSet] = {}
    repeats = plan.repeats
    probes: dict[str, Probe] = {}
    needed: dict[str, float] = {}  # where --to showed it: what a run cut short must reach

    async def probe(target: str) -> Probe:
        folder = out / "traces" / slug(target)
        outcome = await record(
            replace(plan, kind="run", targets=(target,), out=str(folder), repeats=repeats),
            emit,
        )
        if outcome.exit_code not in (ExitCode.OK, ExitCode.FINDING, ExitCode.INCONCLUSIVE):
            raise BadInputError(f"{target}: the scenarios did not run ({outcome.reason})")
        recorded[target] = load_trace_set(folder)
        result = compared(
            sought,
            recorded[versions[0]],
            recorded[target],
            settings.spec,
            target=target,
            repeats=repeats,
            reference=target == versions[0],
            needed=needed or None,
        )
        probes[target] = result
        left = _left(versions, probes)
        emit(
            ev.BisectProbed(
                target,
                result.shows(every) if result.tells else None,
                len(result.sightings),
                left,
                result.showing,
                result.runs,
                result.reference,
            )
        )
        return result

    answer: dict[str, Any] = {"found": False}
    every = True  # seek the first version that shows it in every run; see below
    ends = [await probe(versions[0])]
    if ends[0].tells:
        ends.append(await probe(versions[-1]))
        every = seeks_every_run(ends[1])
        needed.update(steps_needed(ends[1]))
    if not all(e.tells for e in ends):
        answer["undecided"] = [e.target for e in ends if not e.tells]
    elif ends[1].shows(every):
        lo, hi = 0, len(versions) - 1
        while hi - lo > 1:
            mid = await probe(versions[(lo + hi) // 2])
            if not mid.tells:  # the first is somewhere in (lo, hi]: say so, with why
                answer["undecided"] = [mid.target]
                break
            lo, hi = (lo, (lo + hi) // 2) if mid.shows(every) else ((lo + hi) // 2, hi)
        answer.update(found=True, first=versions[hi], last_without=versions[lo])
    document = {
        "bisect_format": FORMAT,
        "sought": sought.describe(),
        "change": sought.change.id if sought.change else None,
        "fingerprint": sought.fingerprint,
        "from": versions[0],
        "to": versions[-1],
        "versions": versions,
        "repeats": repeats,
        "every_run": every,
        "probes": [probes[v].to_json(every) for v in versions if v in probes],
        "measured": datetime.date.today().isoformat(),
        "paths": list(plan.paths),
        **answer,
    }
    reports = write(out, document)
    verdict, reason = summary(document)
    emit(ev.RunFinished(verdict, reason, True, reports, round(time.monotonic() - began, 1)))
    code = ExitCode.OK if answer["found"] else ExitCode.INCONCLUSIVE
    return Outcome(verdict, reason, True, reports, out, int(code))


def compared(
    sought: Sought,
    base: TraceSet,
    traces: TraceSet,
    spec: ScrubSpec,
    *,
    target: str,
    repeats: int,
    reference: bool = False,
    needed: Mapping[str, float] | None = None,
) -> Probe:
    """``target``'s probe: each of its runs against the reference's run of the same number
    (its first finished run when that one did not finish); the reference (``base`` is
    ``traces``): its later runs against its first. A pair tells yes when it shows the
    difference at steps both runs reached, no when both finished or both reached every
    step of ``needed`` (scenario -> the last step at which --to showed it); else it is
    left out."""
    done, anchors = finished_runs(traces, repeats), finished_runs(base, repeats)
    numbers = [i for i in range(repeats) if _has_run(traces, i)]
    if reference:
        pairs = [(numbers[0], i) for i in numbers[1:]]
    else:
        pairs = [(_anchor(base, i, anchors), i) for i in numbers]
    told: list[bool] = []
    found: list[Sighting] = []
    for a, b in pairs:
        reach, stands = _reach(base, a, traces, b), _reach(base, a, traces, b, standing=True)
        seen = [
            s
            for s in sightings(sought, base, traces, spec, runs=(a, b))
            if _within(s, stands.get(s.scenario, -1.0))
        ]
        if seen or all(r == math.inf for r in reach.values()) or _reaches(reach, needed):
            told.append(bool(seen))
            found += seen
    return Probe(
        target,
        sum(told),
        tuple(found),
        unfinished(traces),
        len(told),
        reference,
        finished=len(done),
        recorded=sum(1 for i in numbers if any(r >= 0 for r in _reached(traces, i).values())),
    )


def steps_needed(last: Probe) -> dict[str, float]:
    """Where --to showed the difference: for each scenario, the last step (infinite when a
    sighting is not tied to a step: a worker call, a capture at the end)."""
    out: dict[str, float] = {}
    for s in last.sightings:
        out[s.scenario] = max(out.get(s.scenario, -1.0), _last_step(s))
    return out


def _last_step(sighting: Sighting) -> float:
    steps = sighting.difference.steps
    if not steps or None in steps:
        return math.inf
    return float(max(x for x in steps if x is not None))


def _anchor(base: TraceSet, number: int, anchors: list[int]) -> int:
    if number in anchors or not anchors:
        return number if _has_run(base, number) else 0
    return anchors[0]


def _has_run(traces: TraceSet, number: int) -> bool:
    return any(len(runs) > number for runs in traces.runs.values())


def _reached(traces: TraceSet, number: int) -> dict[str, float]:
    """Each scenario's run ``number``: the last step it recorded (infinite when it
    finished; -1 when it recorded none that can be compared: an error, no such run)."""
    out: dict[str, float] = {}
    for name, runs in traces.runs.items():
        if len(runs) <= number:
            out[name] = -1.0
            continue
        outcome = runs[number][1]["outcome"]
        step = outcome.get("step")
        if _finished(runs[number][1]):
            out[name] = math.inf
        elif outcome.get("status") == "failed_expectation" and isinstance(step, int):
            out[name] = float(step)
        else:
            out[name] = -1.0
    return out


def _reach(
    base: TraceSet, a: int, traces: TraceSet, b: int, *, standing: bool = False
) -> dict[str, float]:
    """Per scenario both ran: the last step both runs of the pair recorded. ``standing``: a
    run stopped by a wait that gave up reaches the step its last snapshot stands at
    (compare's ``standing_in``: the other run's first later step with snapshots), where a
    sighting says yes; a no needs steps both runs recorded."""
    left, right = _reached(base, a), _reached(traces, b)
    out: dict[str, float] = {}
    for name in left.keys() & right.keys():
        out[name] = min(left[name], right[name])
        if standing and min(left[name], right[name]) >= 0:  # both runs exist
            mine, theirs = base.runs[name][a][1], traces.runs[name][b][1]
            out[name] = min(_stands(mine, left[name], theirs, right[name]),
                            _stands(theirs, right[name], mine, left[name]))  # fmt: skip
    return out


def _stands(trace: Mapping[str, Any], reach: float, other: Mapping[str, Any], far: float) -> float:
    """``reach``, or where a run that stopped on a wait (``trace``) stands beside ``other``
    (which reached ``far``)."""
    outcome = trace.get("outcome") or {}
    if not (0 <= reach < far and outcome.get("seen_at_stop") and outcome.get("last_snapshot")):
        return reach
    later = [s["index"] for s in other.get("steps") or [] if s.get("snapshots")]
    later = [i for i in later if reach < i <= far]
    return float(min(later)) if later else reach


def _within(sighting: Sighting, reach: float) -> bool:
    return reach == math.inf or _last_step(sighting) <= reach


def _reaches(reach: Mapping[str, float], needed: Mapping[str, float] | None) -> bool:
    """Both runs reached every step at which --to showed it."""
    if not needed:
        return False
    return all(reach.get(name, -1.0) >= step for name, step in needed.items())


def finished_runs(traces: TraceSet, repeats: int) -> list[int]:
    """The run numbers (0 first) in which every scenario of ``traces`` finished."""
    return [
        i
        for i in range(repeats)
        if all(len(runs) > i and _finished(runs[i][1]) for runs in traces.runs.values())
    ]


def _finished(trace: dict[str, Any]) -> bool:
    return trace["outcome"].get("status") in ("completed", "not_applicable")


def unfinished(traces: TraceSet) -> tuple[str, ...]:
    """The runs of ``traces`` that did not finish: scenario, run (after the first), and
    outcome."""
    return tuple(
        f"{name}{f' run {number + 1}' if number else ''} ({trace['outcome'].get('status')})"
        for name, runs in sorted(traces.runs.items())
        for number, (_, trace) in enumerate(runs)
        if not _finished(trace)
    )


def seeks_every_run(last: Probe) -> bool:
    """What the search seeks, from --to's probe: the first version that shows the
    difference in every run, unless --to shows it in some of its runs only (a difference
    that varies between runs of one version): then the first that shows it in any."""
    return last.always or not last.shows(False)


def _left(versions: list[str], probes: dict[str, Probe]) -> int:
    """Probes still to make, at most: the halvings left between the nearest versions
    known not to show it and known to show it."""
    done = [i for i, v in enumerate(versions) if v in probes]
    if any(not probes[versions[i]].tells for i in done):
        return 0  # a probe that cannot tell ends the search
    if len(done) < 2:
        return 2 - len(done) + (len(versions) - 2).bit_length()
    every = seeks_every_run(probes[versions[-1]])
    if not probes[versions[-1]].shows(every):
        return 0
    lo = max(i for i in done if not probes[versions[i]].shows(every))
    hi = min(i for i in done if probes[versions[i]].shows(every))
    return (hi - lo - 1).bit_length()
