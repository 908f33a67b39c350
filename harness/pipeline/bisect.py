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

    OUT/traces/<target>/    one folder of traces per version probed
    OUT/bisect.json, bisect.md
"""

from __future__ import annotations

import datetime
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.classify.probe import Sighting, Sought, sightings
from harness.errors import BadInputError, ExitCode
from harness.pipeline import events as ev
from harness.pipeline.assemble import settings_for
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
    target: str
    shows: bool
    sightings: tuple[Sighting, ...]
    # runs that did not finish (a hang, an error, a failed expectation): such a probe
    # cannot tell, since a run cut short lacks what a finished one would have shown
    unfinished: tuple[str, ...] = ()

    @property
    def tells(self) -> bool:
        return not self.unfinished

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "shows": self.shows if self.tells else None,
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
    probes: dict[str, Probe] = {}

    async def probe(target: str) -> Probe:
        folder = out / "traces" / slug(target)
        outcome = await record(
            replace(plan, kind="run", targets=(target,), out=str(folder), repeats=1), emit
        )
        if outcome.exit_code not in (ExitCode.OK, ExitCode.FINDING, ExitCode.INCONCLUSIVE):
            raise BadInputError(f"{target}: the scenarios did not run ({outcome.reason})")
        recorded[target] = load_trace_set(folder)
        if target == versions[0]:
            found: tuple[Sighting, ...] = ()
        else:
            base = recorded[versions[0]]
            found = tuple(sightings(sought, base, recorded[target], settings.spec))
        result = Probe(target, bool(found), found, unfinished(recorded[target]))
        probes[target] = result
        left = _left(versions, probes)
        emit(ev.BisectProbed(target, result.shows if result.tells else None, len(found), left))
        return result

    answer: dict[str, Any] = {"found": False}
    ends = [await probe(versions[0])]
    if ends[0].tells:
        ends.append(await probe(versions[-1]))
    if not all(e.tells for e in ends):
        answer["undecided"] = [e.target for e in ends if not e.tells]
    elif ends[1].shows:
        lo, hi = 0, len(versions) - 1
        while hi - lo > 1:
            mid = await probe(versions[(lo + hi) // 2])
            if not mid.tells:  # the first is somewhere in (lo, hi]: say so, with why
                answer["undecided"] = [mid.target]
                break
            lo, hi = (lo, (lo + hi) // 2) if mid.shows else ((lo + hi) // 2, hi)
        answer.update(found=True, first=versions[hi], last_without=versions[lo])
    document = {
        "bisect_format": FORMAT,
        "sought": sought.describe(),
        "change": sought.change.id if sought.change else None,
        "fingerprint": sought.fingerprint,
        "from": versions[0],
        "to": versions[-1],
        "versions": versions,
        "probes": [probes[v].to_json() for v in versions if v in probes],
        "measured": datetime.date.today().isoformat(),
        "paths": list(plan.paths),
        **answer,
    }
    reports = _write(out, document)
    verdict, reason = summary(document)
    emit(ev.RunFinished(verdict, reason, True, reports, round(time.monotonic() - began, 1)))
    code = ExitCode.OK if answer["found"] else ExitCode.INCONCLUSIVE
    return Outcome(verdict, reason, True, reports, out, int(code))


def unfinished(traces: TraceSet) -> tuple[str, ...]:
    """The runs of ``traces`` that did not finish: scenario and outcome."""
    return tuple(
        f"{name} ({trace['outcome'].get('status')})"
        for name, runs in sorted(traces.runs.items())
        for _, trace in runs
        if trace["outcome"].get("status") not in ("completed", "not_applicable")
    )


def _left(versions: list[str], probes: dict[str, Probe]) -> int:
    """Probes still to make, at most: the halvings left between the nearest versions
    known not to show it and known to show it."""
    done = [i for i, v in enumerate(versions) if v in probes]
    if any(not probes[versions[i]].tells for i in done):
        return 0  # a probe that cannot tell ends the search
    if len(done) < 2 or not probes[versions[-1]].shows:
        return 0 if len(done) >= 2 else 2 - len(done) + (len(versions) - 2).bit_length()
    lo = max(i for i in done if not probes[versions[i]].shows)
    hi = min(i for i in done if probes[versions[i]].shows)
    return (hi - lo - 1).bit_length()


def summary(document: dict[str, Any]) -> tuple[str, str]:
    probed = len(document["probes"])
    of = f"{probed} of {len(document['versions'])} versions probed"
    undecided = document.get("undecided", [])
    cut = "; ".join(
        f"{p['target']} did not finish {', '.join(p['unfinished'])}"
        for p in document["probes"]
        if p.get("unfinished")
    )
    if not document["found"] and undecided:
        return "undecided", (
            f"cannot tell: {cut}; both ends must run the scenarios to their end (another "
            f"range, other scenarios, or the servers' settings with --server-property) ({of})"
        )
    if not document["found"]:
        return "not_found", (
            f"{document['to']} does not show {document['sought']} against "
            f"{document['from']} in these scenarios ({of})"
        )
    if undecided:
        return "found", (
            f"the first version that shows {document['sought']} is after "
            f"{document['last_without']}, up to {document['first']}: {cut} ({of})"
        )
    return "found", (
        f"{document['first']} is the first version that shows {document['sought']}; "
        f"{document['last_without']} does not ({of})"
    )


def _write(out: Path, document: dict[str, Any]) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = {"bisect.json": out / "bisect.json", "bisect.md": out / "bisect.md"}
    files["bisect.json"].write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    files["bisect.md"].write_text(_markdown(document), encoding="utf-8")
    return files


def _markdown(document: dict[str, Any]) -> str:
    _, reason = summary(document)
    lines = [
        f"# bisect: {document['sought']}",
        "",
        f"{reason}.",
        "",
        f"Versions from {document['from']} to {document['to']} (measured "
        f"{document['measured']}), each compared with {document['from']}:",
        "",
        "| version | shows it | differences | scenarios |",
        "|---|---|---|---|",
    ]
    probed = {p["target"]: p for p in document["probes"]}
    for version in document["versions"]:
        p = probed.get(version)
        if p is None:
            lines.append(f"| {version} | not probed | | |")
        elif p.get("unfinished"):
            cut = ", ".join(p["unfinished"])
            lines.append(f"| {version} | cannot tell: did not finish {cut} | | |")
        elif version == document["from"]:
            lines.append(f"| {version} | (the reference) | | |")
        else:
            shows = "yes" if p["shows"] else "no"
            lines.append(
                f"| {version} | {shows} | {p['differences']} | {', '.join(p['scenarios'])} |"
            )
    return "\n".join(lines) + "\n"
